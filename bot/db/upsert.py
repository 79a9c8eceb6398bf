"""The one place that knows each dialect's INSERT ... ON CONFLICT spelling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import Insert


def dialect_name(executor: AsyncSession | AsyncConnection) -> str:
    if isinstance(executor, AsyncSession):
        return executor.get_bind().dialect.name
    return executor.dialect.name


def _insert_for(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for dialect {dialect!r}")


def upsert(
    dialect: str,
    table: Table,
    conflict_columns: Sequence[str],
    update_columns: Sequence[str] | None = None,
) -> Insert:
    """INSERT that updates `update_columns` on a conflict (or does nothing when None/empty).

    Execute it with one dict or a list of dicts (executemany). For DO NOTHING, the result's
    rowcount tells whether a row was inserted.
    """
    statement = _insert_for(dialect, table)
    if not update_columns:
        return statement.on_conflict_do_nothing(index_elements=list(conflict_columns))  # type: ignore[no-any-return]
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(conflict_columns),
        set_={name: statement.excluded[name] for name in update_columns},
    )


async def insert_ignore(
    executor: AsyncSession | AsyncConnection,
    table: Table,
    conflict_columns: Sequence[str],
    values: Mapping[str, Any],
) -> bool:
    """Insert one row unless it conflicts; True when this call inserted it."""
    result = await executor.execute(upsert(dialect_name(executor), table, conflict_columns), dict(values))
    return bool(result.rowcount)  # type: ignore[attr-defined]
