"""Bring a database to the newest schema (run by the bot at start and by `python -m bot migrate`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

ROOT = Path(__file__).resolve().parents[2]


class MigrationError(RuntimeError):
    pass


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


@asynccontextmanager
async def foreign_keys_off(connection: AsyncConnection) -> AsyncIterator[None]:
    """SQLite only: keep `ON DELETE CASCADE` from firing while batch mode rebuilds a table.

    Batch mode copies a table, drops the old one and renames the copy; with foreign keys ON,
    dropping a parent table silently deletes its children's rows. The pragma only takes effect
    outside a transaction, so it is set before the migration begins and restored after commit;
    a foreign key check afterwards makes sure the rebuilt tables still agree.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).fetchall()
        if broken:
            raise MigrationError(f"foreign key check failed after migration: {broken[:5]}")
    finally:
        await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        await connection.commit()


async def run_with_connection(engine: AsyncEngine, work: Callable[[Connection], None]) -> None:
    async with engine.connect() as connection, foreign_keys_off(connection):
        await connection.run_sync(work)
        await connection.commit()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Run every pending migration inside the running event loop."""
    await run_with_connection(engine, _upgrade)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
