"""season wrap-up survey answers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.db.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_answer",
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("favourite_character", sa.String(length=100), nullable=True),
        sa.Column("favourite_moment", sa.String(length=300), nullable=True),
        sa.Column("least_favourite_moment", sa.String(length=300), nullable=True),
        sa.Column("more", sa.String(length=5), nullable=True),
        sa.Column("verdict", sa.String(length=150), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["show_id"], ["show.id"], name=op.f("fk_survey_answer_show_id_show"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("show_id", "user_id", name=op.f("pk_survey_answer")),
    )


def downgrade() -> None:
    op.drop_table("survey_answer")
