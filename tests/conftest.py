"""Shared fixtures: a migrated database on SQLite always, and on PostgreSQL when available.

PostgreSQL cases run when TEST_POSTGRES_URL names a server we may create databases on (CI sets
it when 127.0.0.1:5432 answers); each test gets its own fresh database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.clock import ManualClock
from bot.config import normalise_database_url
from bot.db.engine import SessionFactory, create_engine, create_session_factory
from bot.db.migrate import upgrade_to_head

POSTGRES_ENV = "TEST_POSTGRES_URL"
POSTGRES_SKIP = (
    f"PostgreSQL half skipped: set {POSTGRES_ENV}=postgresql+asyncpg://postgres@127.0.0.1:5432/test "
    "(a server where this user may create databases) to run it"
)


def postgres_admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    return normalise_database_url(url) if url else None


async def _postgres_admin(sql: str) -> None:
    admin_url = postgres_admin_url()
    assert admin_url is not None
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and postgres_admin_url() is None:
        pytest.skip(POSTGRES_SKIP)
    return str(request.param)


@pytest.fixture
async def database_url(db_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the requested kind, created for this test and removed after it."""
    if db_kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'watchclub.db'}"
        return
    admin_url = postgres_admin_url()
    assert admin_url is not None
    name = f"wc_test_{uuid.uuid4().hex[:12]}"
    await _postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> SessionFactory:
    return create_session_factory(engine)


@pytest.fixture
async def session(session_factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        yield session


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    return ManualClock(datetime(2024, 1, 11, 12, 0, tzinfo=UTC))
