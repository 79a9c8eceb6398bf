"""The drop plan: which actions each episode has, when each is due, and what to do when late.

Pure rules over a loaded show (see `load_show`); the runner in `drops.py` acts on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db.models import DropAction, Episode, Show

LATE_AFTER = timedelta(minutes=2)
TERMINAL = frozenset({"done", "failed", "missed", "skipped"})


@dataclass(frozen=True)
class EpisodeTiming:
    id: int
    number: int
    air_at: datetime
    is_finale: bool
    # When its poll closes: the stored time once the poll is open, else the planned time
    # (the next episode's drop, or `poll_close_days` after this drop for the finale).
    poll_closes_at: datetime
    poll_open: bool  # a poll exists and is not closed yet


class ActionKind:
    """One kind of drop action. `after`: kinds that must have been attempted first."""

    name: str = ""
    after: tuple[str, ...] = ()

    def due(self, show: Show, episode: EpisodeTiming) -> datetime | None:
        return episode.air_at

    def decide(self, now: datetime, due: datetime, episode: EpisodeTiming, grace: timedelta) -> str:
        """`run`, `run_late`, `missed` or `skipped` for an action that is due now."""
        return "run_late" if now - due > LATE_AFTER else "run"


class Reminder(ActionKind):
    name = "reminder"

    def due(self, show: Show, episode: EpisodeTiming) -> datetime | None:
        if show.reminder_minutes <= 0:
            return None
        return episode.air_at - timedelta(minutes=show.reminder_minutes)

    def decide(self, now: datetime, due: datetime, episode: EpisodeTiming, grace: timedelta) -> str:
        return "skipped" if now >= episode.air_at else "run"  # a heads-up after the drop is noise


class Announce(ActionKind):
    name = "announce"

    def decide(self, now: datetime, due: datetime, episode: EpisodeTiming, grace: timedelta) -> str:
        if now - due > grace:
            return "missed"  # recorded, never posted; the thread and poll still open
        return super().decide(now, due, episode, grace)


class Thread(ActionKind):
    name = "thread"
    after = ("announce",)


class Poll(ActionKind):
    name = "poll"
    after = ("thread",)

    def decide(self, now: datetime, due: datetime, episode: EpisodeTiming, grace: timedelta) -> str:
        if episode.poll_closes_at <= now:
            return "skipped"  # it would already be closed
        return super().decide(now, due, episode, grace)


class PollClose(ActionKind):
    name = "poll_close"
    after = ("poll",)

    def due(self, show: Show, episode: EpisodeTiming) -> datetime | None:
        return episode.poll_closes_at if episode.poll_open else None


class WrapupReady(ActionKind):
    """After the finale's poll closes, tell the moderators the season wrap-up is ready."""

    name = "wrapup_ready"
    after = ("poll_close",)

    def due(self, show: Show, episode: EpisodeTiming) -> datetime | None:
        return episode.poll_closes_at if episode.is_finale else None


KINDS: list[ActionKind] = [Reminder(), Announce(), Thread(), Poll(), PollClose(), WrapupReady()]
KIND_NAMES = tuple(kind.name for kind in KINDS)


def poll_close_days(show: Show) -> int:
    return show.club.poll_close_days if show.club is not None else 7


def timings(show: Show) -> list[EpisodeTiming]:
    """The episodes whose drops the bot runs (not those that aired before it was tracked)."""
    ordered = sorted(show.episodes, key=lambda e: e.number)
    days = timedelta(days=poll_close_days(show))
    result = []
    for index, episode in enumerate(ordered):
        if episode.before_tracking:
            continue
        following = ordered[index + 1].air_at if index + 1 < len(ordered) else None
        planned = following if following is not None else episode.air_at + days
        poll = episode.poll
        result.append(
            EpisodeTiming(
                id=episode.id,
                number=episode.number,
                air_at=episode.air_at,
                is_finale=episode.number == show.episode_count,
                poll_closes_at=poll.closes_at if poll is not None else planned,
                poll_open=poll is not None and poll.closed_at is None,
            )
        )
    return result


def action_wait_until(action: DropAction | None, due: datetime) -> datetime | None:
    """When this action next needs attention (None: never again)."""
    if action is None:
        return due
    if action.status in TERMINAL:
        return None
    if action.status == "retry":
        return action.retry_at
    return action.claimed_until  # claimed: look again when the lease runs out


def dependency_wait(
    show: Show, episode: EpisodeTiming, kind: ActionKind, actions: dict[tuple[int, str], DropAction], now: datetime
) -> datetime | None:
    """The latest instant an unsettled earlier action needs before `kind` may run."""
    latest: datetime | None = None
    for name in kind.after:
        before = next(k for k in KINDS if k.name == name)
        action = actions.get((episode.id, name))
        if action is None:
            wait = before.due(show, episode)
            upstream = dependency_wait(show, episode, before, actions, now)
            if wait is not None and upstream is not None and upstream > wait:
                wait = upstream
        elif action.status == "claimed" and action.claimed_until is not None and action.claimed_until > now:
            wait = action.claimed_until
        else:
            continue
        if wait is not None and (latest is None or wait > latest):
            latest = wait
    return latest


def next_due(show: Show, now: datetime) -> datetime | None:
    """The earliest instant anything is due for `show` (None when paused or all done)."""
    if show.paused_at is not None:
        return None
    actions = {(a.episode_id, a.kind): a for e in show.episodes for a in e.actions}
    earliest: datetime | None = None
    for episode in timings(show):
        for kind in KINDS:
            due = kind.due(show, episode)
            if due is None:
                continue
            wait = action_wait_until(actions.get((episode.id, kind.name)), due)
            if wait is None:
                continue
            blocked = dependency_wait(show, episode, kind, actions, now)
            if blocked is not None and blocked > wait:
                wait = blocked
            if earliest is None or wait < earliest:
                earliest = wait
    return earliest


async def load_show(session: AsyncSession, show_id: int) -> Show | None:
    statement = (
        select(Show)
        .where(Show.id == show_id)
        .options(
            selectinload(Show.episodes).selectinload(Episode.actions),
            selectinload(Show.episodes).selectinload(Episode.poll),
            selectinload(Show.breaks),
            selectinload(Show.club),
        )
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()
