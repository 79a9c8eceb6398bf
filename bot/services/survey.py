"""The season survey: each member's answers to the wrap-up questions of the source documents.

One answer set per member and show, edited in place (the modal opens pre-filled). Every
question is optional; sending them all empty withdraws the member's answers. What a member
typed is stored as typed (trimmed, on one line, bounded); it is made inert for Discord where
it is shown (`bot.render.text.safe`), never here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Show, SurveyAnswer
from bot.db.upsert import dialect_name, upsert
from bot.errors import NotFoundError, UserError
from bot.services.drop_plan import load_show
from bot.services.shows import is_aired, resolve_show

CHARACTER_MAX = 100
MOMENT_MAX = 300
VERDICT_MAX = 150
MORE_CHOICES = ("yes", "maybe", "no")
MORE_LABELS = {"yes": "Yes, more please", "maybe": "Maybe", "no": "No, I'm done"}

LIMITS = {
    "favourite_character": ("favourite character", CHARACTER_MAX),
    "favourite_moment": ("favourite moment", MOMENT_MAX),
    "least_favourite_moment": ("least favourite moment", MOMENT_MAX),
    "verdict": ("verdict", VERDICT_MAX),
}


@dataclass(frozen=True)
class SurveyForm:
    """What a member sent from the modal, untouched ("" for a question left empty)."""

    favourite_character: str = ""
    favourite_moment: str = ""
    least_favourite_moment: str = ""
    more: str = ""
    verdict: str = ""


@dataclass(frozen=True)
class SurveyAnswers:
    """A member's stored answers for one show (all None before they answer)."""

    show_id: int
    show_title: str
    user_id: int
    favourite_character: str | None = None
    favourite_moment: str | None = None
    least_favourite_moment: str | None = None
    more: str | None = None
    verdict: str | None = None
    updated_at: datetime | None = None

    @property
    def answered(self) -> bool:
        return any(getattr(self, name) for name in ANSWER_FIELDS)


ANSWER_FIELDS = tuple(f.name for f in fields(SurveyForm))


def one_line(text: str) -> str:
    """Trimmed, every run of whitespace (newlines too) made one space, control characters dropped.

    Answers end up in embed lists, one per line, and are grouped by their words: a line break
    inside an answer would only break the layout.
    """
    kept = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or unicodedata.category(ch) != "Cc")
    return " ".join(kept.split())


def clean_text(text: str, name: str) -> str | None:
    what, limit = LIMITS[name]
    cleaned = one_line(text)
    if len(cleaned) > limit:
        raise UserError(f"Your {what} is {len(cleaned)} characters; the limit is {limit}. Shorten it a little.")
    return cleaned or None


def clean_more(text: str) -> str | None:
    choice = text.strip().casefold()
    if not choice:
        return None
    if choice not in MORE_CHOICES:
        raise UserError("“Would you like some more?” is answered with yes, maybe or no.")
    return choice


def clean_form(form: SurveyForm) -> dict[str, str | None]:
    """The answers as they will be stored; UserError naming the first one that can't be."""
    answers = {name: clean_text(getattr(form, name), name) for name in LIMITS}
    answers["more"] = clean_more(form.more)
    return answers


async def _answerable_show(session: AsyncSession, guild_id: int, show: str | int, now: datetime) -> Show:
    """The show in this server (by title, or by id from our own modal) once an episode aired."""
    if isinstance(show, int):
        found = await load_show(session, show)
        if found is None or found.guild_id != guild_id:
            raise NotFoundError("That show is no longer in this server's list.")
    else:
        found = await resolve_show(session, guild_id, show)
    if not any(is_aired(found, episode, now) for episode in found.episodes):
        raise UserError(
            f"{found.title} hasn't started yet: the wrap-up questions open once the first episode has aired."
        )
    return found


async def get_answers(
    session: AsyncSession, guild_id: int, show_name_or_id: str | int, user_id: int, now: datetime
) -> SurveyAnswers:
    """The member's current answers (empty if none), to pre-fill the modal."""
    show = await _answerable_show(session, guild_id, show_name_or_id, now)
    row = await session.get(SurveyAnswer, (show.id, user_id), populate_existing=True)
    if row is None:
        return SurveyAnswers(show.id, show.title, user_id)
    return SurveyAnswers(
        show_id=show.id,
        show_title=show.title,
        user_id=user_id,
        favourite_character=row.favourite_character,
        favourite_moment=row.favourite_moment,
        least_favourite_moment=row.least_favourite_moment,
        more=row.more,
        verdict=row.verdict,
        updated_at=row.updated_at,
    )


async def save_answers(
    session: AsyncSession,
    guild_id: int,
    show_name_or_id: str | int,
    user_id: int,
    form: SurveyForm,
    now: datetime,
) -> SurveyAnswers:
    """Store (or replace) the member's answers; all empty withdraws them.

    Validation happens before anything is written, so a refused form changes nothing.
    """
    answers = clean_form(form)
    show = await _answerable_show(session, guild_id, show_name_or_id, now)
    if not any(answers.values()):
        await session.execute(
            delete(SurveyAnswer).where(SurveyAnswer.show_id == show.id, SurveyAnswer.user_id == user_id)
        )
        await session.commit()
        return SurveyAnswers(show.id, show.title, user_id)
    statement = upsert(
        dialect_name(session),
        SurveyAnswer.__table__,  # type: ignore[arg-type]
        ["show_id", "user_id"],
        [*ANSWER_FIELDS, "updated_at"],
    )
    await session.execute(statement, {"show_id": show.id, "user_id": user_id, "updated_at": now, **answers})
    await session.commit()
    return SurveyAnswers(
        show_id=show.id,
        show_title=show.title,
        user_id=user_id,
        favourite_character=answers["favourite_character"],
        favourite_moment=answers["favourite_moment"],
        least_favourite_moment=answers["least_favourite_moment"],
        more=answers["more"],
        verdict=answers["verdict"],
        updated_at=now,
    )
