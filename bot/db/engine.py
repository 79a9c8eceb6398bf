"""The async engine and session factory, with the SQLite pragmas we rely on; and a synchronous
engine on the same SQLite file for work that is best done in one hop to a thread (the vote writer)."""

from __future__ import annotations

from typing import Any

import sqlalchemy
from sqlalchemy import URL, Engine, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.config import sqlite_path

SessionFactory = async_sessionmaker[AsyncSession]

# How long a SQLite writer waits for the lock before "database is locked" (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer, and a commit is one append to the log.
    cursor.execute("PRAGMA journal_mode=WAL")
    # synchronous=NORMAL in WAL mode: a commit has been written to the WAL file (the OS holds
    # it) before it returns, so an acknowledged write survives the process being killed; only
    # a power loss or kernel crash could lose the last transactions. FULL would also fsync on
    # every commit, at 2-3x the cost per commit, for a guarantee a chat bot does not need.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`; SQLite files get their folder and their pragmas."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def create_sync_sqlite_engine(url: str | URL, **kwargs: Any) -> Engine:
    """A synchronous engine (the standard library's sqlite3, SQLAlchemy's pysqlite dialect) on the
    SQLite file of async `url`, with the same pragmas as `create_engine`. Same dialect family, so
    the same SQL and the same column types (stored values are identical). Its connections may be
    used from any thread (SQLAlchemy turns sqlite3's same-thread check off for files); dispose of
    it when done."""
    sync_url = make_url(url).set(drivername="sqlite")
    if sync_url.get_backend_name() != "sqlite" or not sync_url.database or sync_url.database == ":memory:":
        raise ValueError("a synchronous SQLite engine needs a SQLite file (`:memory:` is one connection)")
    engine = sqlalchemy.create_engine(sync_url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
