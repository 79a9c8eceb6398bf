"""discussion threads, thread members, watch progress, forum tags

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.db.types import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("club_config") as batch:
        batch.add_column(sa.Column("spoiler_tag_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("show") as batch:
        batch.add_column(sa.Column("forum_tag_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "episode_thread",
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("parent_channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_episode_thread_episode_id_episode"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("episode_id", name=op.f("pk_episode_thread")),
        sa.UniqueConstraint("thread_id", name=op.f("uq_episode_thread_thread_id")),
    )
    op.create_table(
        "thread_member",
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("thread_id", "user_id", name=op.f("pk_thread_member")),
    )
    op.create_table(
        "watch_progress",
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("episode_number", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["show_id"], ["show.id"], name=op.f("fk_watch_progress_show_id_show"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("show_id", "user_id", name=op.f("pk_watch_progress")),
    )


def downgrade() -> None:
    op.drop_table("watch_progress")
    op.drop_table("thread_member")
    op.drop_table("episode_thread")
    with op.batch_alter_table("show") as batch:
        batch.drop_column("forum_tag_id")
    with op.batch_alter_table("club_config") as batch:
        batch.drop_column("spoiler_tag_id")
