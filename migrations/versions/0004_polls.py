"""rating polls and votes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.db.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("club_config") as batch:
        batch.add_column(sa.Column("poll_close_days", sa.Integer(), nullable=False, server_default="7"))
    op.create_table(
        "rating_poll",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_rating_poll_episode_id_episode"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_poll")),
        sa.UniqueConstraint("episode_id", name=op.f("uq_rating_poll_episode_id")),
    )
    op.create_index(op.f("ix_rating_poll_closes_at"), "rating_poll", ["closes_at"])
    op.create_table(
        "vote",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("half_stars", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("half_stars BETWEEN 1 AND 10", name=op.f("ck_vote_half_stars_range")),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["rating_poll.id"], name=op.f("fk_vote_poll_id_rating_poll"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("poll_id", "user_id", name=op.f("pk_vote")),
    )
    op.create_index("ix_vote_poll_id_half_stars", "vote", ["poll_id", "half_stars"])


def downgrade() -> None:
    op.drop_index("ix_vote_poll_id_half_stars", table_name="vote")
    op.drop_table("vote")
    op.drop_index(op.f("ix_rating_poll_closes_at"), table_name="rating_poll")
    op.drop_table("rating_poll")
    with op.batch_alter_table("club_config") as batch:
        batch.drop_column("poll_close_days")
