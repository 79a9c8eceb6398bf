"""shows, episodes, break weeks and drop actions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.db.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "show",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("title_key", sa.String(length=80), nullable=False),
        sa.Column("episode_count", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("slot_time", sa.Time(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=True),
        sa.Column("season", sa.String(length=40), nullable=True),
        sa.Column("reminder_minutes", sa.Integer(), nullable=False),
        sa.Column("paused_at", UTCDateTime(), nullable=True),
        sa.Column("next_due_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["club_config.guild_id"],
            name=op.f("fk_show_guild_id_club_config"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_show")),
        sa.UniqueConstraint("guild_id", "title_key", name=op.f("uq_show_guild_id")),
    )
    op.create_index(op.f("ix_show_guild_id"), "show", ["guild_id"])
    op.create_index(op.f("ix_show_next_due_at"), "show", ["next_due_at"])
    op.create_table(
        "episode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("air_at", UTCDateTime(), nullable=False),
        sa.Column("delayed_to", UTCDateTime(), nullable=True),
        sa.Column("before_tracking", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["show_id"], ["show.id"], name=op.f("fk_episode_show_id_show"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episode")),
        sa.UniqueConstraint("show_id", "number", name=op.f("uq_episode_show_id")),
    )
    op.create_index(op.f("ix_episode_air_at"), "episode", ["air_at"])
    op.create_table(
        "break_week",
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("slot_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["show_id"], ["show.id"], name=op.f("fk_break_week_show_id_show"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("show_id", "slot_date", name=op.f("pk_break_week")),
    )
    op.create_table(
        "drop_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_drop_action_episode_id_episode"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drop_action")),
        sa.UniqueConstraint("episode_id", "kind", name=op.f("uq_drop_action_episode_id")),
    )
    op.create_index("ix_drop_action_status", "drop_action", ["status"])


def downgrade() -> None:
    op.drop_table("drop_action")
    op.drop_table("break_week")
    op.drop_index(op.f("ix_episode_air_at"), table_name="episode")
    op.drop_table("episode")
    op.drop_index(op.f("ix_show_next_due_at"), table_name="show")
    op.drop_index(op.f("ix_show_guild_id"), table_name="show")
    op.drop_table("show")
