"""Alembic environment: async engines, batch mode for SQLite.

Two ways in:
- the `alembic` CLI / `python -m bot migrate`: no connection is given, so we open our own
  async engine with `asyncio.run()`;
- the running bot: `bot.db.migrate.upgrade_to_head` hands us a sync connection from inside
  `AsyncConnection.run_sync` (calling `asyncio.run()` there would fail: a loop is running).
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.db.models import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        compare_server_default=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    from bot.db.engine import create_engine
    from bot.db.migrate import run_with_connection

    engine = create_engine(url)
    try:
        await run_with_connection(engine, _configure_and_run)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = config.attributes.get("database_url")
    if url is None:
        from bot.config import load_settings

        url = load_settings().database_url
    asyncio.run(_run_with_own_engine(url))


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
