"""What happens at each drop, exactly once: claim in the database, act, mark done.

Every episode has a few actions (heads-up, announcement, later the thread and the poll), each
identified by the unique (episode, kind) row in `drop_action`:

    claim  — insert the row as `claimed` (or take over a `retry` that is due, or a claim whose
             lease ran out because its process died) in its own committed transaction;
    act    — call the `Publisher` (the Discord edge) outside any transaction;
    mark   — `done` with the message it produced, or `retry` with backoff, or `failed`.

Two firings of the same job, or two bot processes on one database, race on the claim and
only one wins. A crash after the claim leaves a `claimed` row whose lease expires; the next
run retries it, with a Discord nonce so that a message Discord already accepted is returned
rather than posted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.engine import SessionFactory
from bot.db.models import Club, DropAction, Episode, Show
from bot.db.upsert import insert_ignore
from bot.services.drop_plan import (
    KINDS,
    ActionKind,
    EpisodeTiming,
    action_wait_until,
    dependency_wait,
    load_show,
    next_due,
    timings,
)

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(seconds=90)
RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=20))


class PublishError(Exception):
    """The Discord edge could not do an action. `permanent` errors are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:300]
        self.permanent = permanent


@dataclass(frozen=True)
class MessageRef:
    channel_id: int
    message_id: int


@dataclass(frozen=True)
class Posted:
    """What an action produced on Discord (both None for actions that post nothing)."""

    channel_id: int | None = None
    message_id: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class DropContext:
    """Everything the Discord edge needs to perform one action, with no database in reach."""

    action_id: int
    kind: str
    guild_id: int
    show_id: int
    show_title: str
    platform: str | None
    season: str | None
    episode_id: int
    episode_number: int
    episode_count: int
    episode_title: str | None
    air_at: datetime
    late: bool
    announcement_channel_id: int
    discussion_channel_id: int
    discussion_kind: str
    ping_role_id: int | None
    poll_closes_at: datetime
    done: dict[str, MessageRef] = field(default_factory=dict)

    @property
    def is_finale(self) -> bool:
        return self.episode_number == self.episode_count

    @property
    def nonce(self) -> str:
        """Stable per action, so a retried post is deduplicated by Discord (<= 25 chars)."""
        return f"wc{self.action_id}"

    @property
    def announcement(self) -> MessageRef | None:
        return self.done.get("announce")

    @property
    def thread(self) -> MessageRef | None:
        return self.done.get("thread")


class Publisher(Protocol):
    """The Discord edge: one coroutine per action kind, raising PublishError on failure."""

    async def perform(self, context: DropContext) -> Posted: ...


# --- the runner ----------------------------------------------------------------------------


class DropRunner:
    """Runs the due actions of one show; the scheduler calls `run_show` at `next_due`."""

    def __init__(
        self,
        session_factory: SessionFactory,
        clock: Clock,
        publisher: Publisher,
        grace: timedelta,
        reschedule: Callable[[int, datetime | None], None],
    ) -> None:
        self._sessions = session_factory
        self._clock = clock
        self._publisher = publisher
        self._grace = grace
        self._reschedule = reschedule

    async def run_show(self, show_id: int) -> None:
        """Do everything due for the show, then schedule its next look. Never raises."""
        try:
            await self._run(show_id)
        except Exception:
            log.exception("drop run failed for show %s; retrying in a minute", show_id)
            self._reschedule(show_id, self._clock.now() + RETRY_BACKOFF[0])

    async def _run(self, show_id: int) -> None:
        for episode, kind in await self._due_work(show_id):
            await self._handle(show_id, episode, kind)
        async with self._sessions() as session:
            show = await load_show(session, show_id)
            when = next_due(show, self._clock.now()) if show else None
            if show is not None and show.next_due_at != when:
                show.next_due_at = when
                await session.commit()
        self._reschedule(show_id, when)

    async def _due_work(self, show_id: int) -> list[tuple[EpisodeTiming, ActionKind]]:
        now = self._clock.now()
        async with self._sessions() as session:
            show = await load_show(session, show_id)
        if show is None or show.paused_at is not None:
            return []
        actions = {(a.episode_id, a.kind): a for e in show.episodes for a in e.actions}
        work = []
        for episode in timings(show):
            for kind in KINDS:
                due = kind.due(show, episode)
                if due is None or due > now:
                    continue
                wait = action_wait_until(actions.get((episode.id, kind.name)), due)
                if wait is not None and wait <= now:
                    work.append((episode, kind))
        return work

    async def _handle(self, show_id: int, episode: EpisodeTiming, kind: ActionKind) -> None:
        now = self._clock.now()
        async with self._sessions() as session:
            show = await load_show(session, show_id)
            if show is None or show.paused_at is not None:
                return
            current = {e.number: e for e in timings(show)}.get(episode.number)
            if current is None:
                return
            actions = {(a.episode_id, a.kind): a for e in show.episodes for a in e.actions}
            if dependency_wait(show, current, kind, actions, now) is not None:
                return  # an earlier action for this episode is not done yet
            due = kind.due(show, current)
            if due is None or due > now:
                return  # the schedule moved since we looked
            decision = kind.decide(now, due, current, self._grace)
            if decision in ("missed", "skipped"):
                await record_outcome(session, current.id, kind.name, due, decision, now)
                return
            action = await claim(session, current.id, kind.name, due, now, late=decision == "run_late")
            if action is None:
                return  # someone else has it
            context = await build_context(session, show, current, action)
        await self._perform(context)

    async def _perform(self, context: DropContext) -> None:
        try:
            posted = await self._publisher.perform(context)
        except PublishError as exc:
            log.warning(
                "%s for show %s E%02d failed: %s",
                context.kind,
                context.show_id,
                context.episode_number,
                exc.reason,
            )
            async with self._sessions() as session:
                await mark_failed(session, context.action_id, exc, self._clock.now())
            return
        except Exception as exc:
            log.exception("%s for show %s E%02d crashed", context.kind, context.show_id, context.episode_number)
            async with self._sessions() as session:
                await mark_failed(
                    session, context.action_id, PublishError(f"internal error: {exc!r}"), self._clock.now()
                )
            return
        async with self._sessions() as session:
            await mark_done(session, context.action_id, posted, self._clock.now())


async def claim(
    session: AsyncSession, episode_id: int, kind: str, due: datetime, now: datetime, *, late: bool
) -> DropAction | None:
    """Take the action for this process, or None if another firing/process has it."""
    inserted = await insert_ignore(
        session,
        DropAction.__table__,  # type: ignore[arg-type]
        ["episode_id", "kind"],
        {
            "episode_id": episode_id,
            "kind": kind,
            "status": "claimed",
            "due_at": due,
            "claimed_until": now + CLAIM_LEASE,
            "attempts": 1,
            "late": late,
            "updated_at": now,
        },
    )
    if not inserted:
        result = await session.execute(
            update(DropAction)
            .where(
                DropAction.episode_id == episode_id,
                DropAction.kind == kind,
                or_(
                    and_(DropAction.status == "retry", DropAction.retry_at <= now),
                    and_(DropAction.status == "claimed", DropAction.claimed_until <= now),
                ),
            )
            .values(
                status="claimed",
                claimed_until=now + CLAIM_LEASE,
                attempts=DropAction.attempts + 1,
                late=DropAction.late | late,
                updated_at=now,
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            await session.rollback()
            return None
    await session.commit()
    statement = select(DropAction).where(DropAction.episode_id == episode_id, DropAction.kind == kind)
    return (await session.execute(statement.execution_options(populate_existing=True))).scalar_one()


async def record_outcome(
    session: AsyncSession, episode_id: int, kind: str, due: datetime, status: str, now: datetime
) -> None:
    """Record a terminal outcome (`missed`, `skipped`) without doing the action."""
    inserted = await insert_ignore(
        session,
        DropAction.__table__,  # type: ignore[arg-type]
        ["episode_id", "kind"],
        {
            "episode_id": episode_id,
            "kind": kind,
            "status": status,
            "due_at": due,
            "attempts": 0,
            "late": False,
            "done_at": now,
            "updated_at": now,
        },
    )
    if not inserted:
        await session.execute(
            update(DropAction)
            .where(
                DropAction.episode_id == episode_id,
                DropAction.kind == kind,
                or_(
                    DropAction.status == "retry",
                    and_(DropAction.status == "claimed", DropAction.claimed_until <= now),
                ),
            )
            .values(status=status, done_at=now, updated_at=now)
        )
    await session.commit()


async def mark_done(session: AsyncSession, action_id: int, posted: Posted, now: datetime) -> None:
    await session.execute(
        update(DropAction)
        .where(DropAction.id == action_id)
        .values(
            status="done",
            channel_id=posted.channel_id,
            message_id=posted.message_id,
            last_error=posted.note,
            claimed_until=None,
            retry_at=None,
            done_at=now,
            updated_at=now,
        )
    )
    await session.commit()


async def mark_failed(session: AsyncSession, action_id: int, error: PublishError, now: datetime) -> None:
    action = await session.get(DropAction, action_id, populate_existing=True)
    if action is None:
        return
    retries_left = action.attempts <= len(RETRY_BACKOFF) and not error.permanent
    action.status = "retry" if retries_left else "failed"
    action.retry_at = now + RETRY_BACKOFF[action.attempts - 1] if retries_left else None
    action.claimed_until = None
    action.last_error = error.reason
    action.updated_at = now
    await session.commit()


async def build_context(session: AsyncSession, show: Show, episode: EpisodeTiming, action: DropAction) -> DropContext:
    club = await session.get(Club, show.guild_id)
    if club is None:  # pragma: no cover - the show cascades away with its club
        raise RuntimeError(f"show {show.id} has no club")
    row = next(e for e in show.episodes if e.id == episode.id)
    done_rows = (
        await session.execute(
            select(DropAction).where(
                DropAction.episode_id == episode.id,
                DropAction.status == "done",
                DropAction.message_id.is_not(None),
            )
        )
    ).scalars()
    done = {a.kind: MessageRef(a.channel_id or 0, a.message_id or 0) for a in done_rows}
    return DropContext(
        action_id=action.id,
        kind=action.kind,
        guild_id=show.guild_id,
        show_id=show.id,
        show_title=show.title,
        platform=show.platform,
        season=show.season,
        episode_id=episode.id,
        episode_number=episode.number,
        episode_count=show.episode_count,
        episode_title=row.title,
        air_at=episode.air_at,
        late=action.late,
        announcement_channel_id=club.announcement_channel_id,
        discussion_channel_id=club.discussion_channel_id,
        discussion_kind=club.discussion_kind,
        ping_role_id=club.ping_role_id,
        poll_closes_at=episode.poll_closes_at,
        done=done,
    )


def with_done(context: DropContext, kind: str, ref: MessageRef) -> DropContext:
    return replace(context, done={**context.done, kind: ref})


async def due_shows(session: AsyncSession) -> Sequence[tuple[int, datetime]]:
    """Every show with something due, for rebuilding the jobs at start-up (one query)."""
    rows = await session.execute(
        select(Show.id, Show.next_due_at).where(Show.next_due_at.is_not(None), Show.paused_at.is_(None))
    )
    return [(row.id, row.next_due_at) for row in rows]


@dataclass(frozen=True)
class ActionProblem:
    show_title: str
    episode_number: int
    kind: str
    status: str
    reason: str
    at: datetime


async def recent_problems(session: AsyncSession, guild_id: int, now: datetime, days: int = 7) -> list[ActionProblem]:
    """Recent drop actions that failed or left a note, unless a later one of the same kind for
    the same show worked (the problem was fixed)."""
    since = now - timedelta(days=days)
    rows = (
        await session.execute(
            select(Show.id, Show.title, Episode.number, DropAction)
            .join(Episode, Episode.show_id == Show.id)
            .join(DropAction, DropAction.episode_id == Episode.id)
            .where(Show.guild_id == guild_id, DropAction.updated_at >= since)
            .order_by(DropAction.updated_at)
        )
    ).all()
    latest_ok: dict[tuple[int, str], datetime] = {}
    for show_id, _, _, action in rows:
        if action.status == "done" and not action.last_error:
            latest_ok[(show_id, action.kind)] = action.updated_at
    problems = []
    for show_id, title, number, action in rows:
        if not action.last_error or action.status not in ("retry", "failed", "done"):
            continue
        fixed_at = latest_ok.get((show_id, action.kind))
        if action.status != "done" and fixed_at is not None and fixed_at > action.updated_at:
            continue
        problems.append(ActionProblem(title, number, action.kind, action.status, action.last_error, action.updated_at))
    return problems
