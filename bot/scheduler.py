"""The in-memory timer: APScheduler date jobs derived from the database, never the reverse.

Each job only says "look at this show now"; what is due and what was already done is decided
by the services from the database. The jobs are rebuilt at start-up and after every change.
Instants are computed with zoneinfo by the services (APScheduler's cron trigger mishandles DST),
and converted here from the bot's clock to real time, so a shifted test clock works too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock

log = logging.getLogger(__name__)

JobFunc = Callable[..., Awaitable[None]]
# How long a clean shutdown lets running jobs (a drop being posted) finish before cancelling them.
SHUTDOWN_GRACE = 5.0


class Scheduler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                # A job that fires late still runs (the services decide what "late" means);
                # the default of 1 s would silently drop it.
                "misfire_grace_time": None,
                "coalesce": True,
                # Runs are idempotent (claims in the database), so overlap is harmless; a
                # refused overlapping run of a date job would be lost.
                "max_instances": 16,
            },
        )
        self._running: set[asyncio.Task[Any]] = set()

    @property
    def running(self) -> bool:
        return bool(self._aps.running)

    def start(self) -> None:
        """Start inside the running event loop (the bot's `setup_hook`)."""
        if not self._aps.running:
            self._aps.start()

    async def aclose(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Stop starting jobs, give the running ones `grace` seconds, then cancel what is left,
        and return only once every job has ended.

        APScheduler's own shutdown cancels running jobs at once and returns: a drop would be cut
        between its Discord post and its `done` mark, and a job cancelled in the middle of a
        database call after the engine was disposed can keep the process from ever exiting.
        """
        if self._aps.running:
            self._aps.pause()
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=grace)
        self.shutdown()

    def shutdown(self) -> None:
        if self._aps.running:
            try:
                self._aps.shutdown(wait=False)
            except SchedulerNotRunningError:  # pragma: no cover - stopped concurrently
                pass

    def to_real_time(self, instant: datetime) -> datetime:
        return datetime.now(UTC) + (instant - self._clock.now())

    def schedule(self, job_id: str, at: datetime, func: JobFunc, *args: Any) -> None:
        """Run `func(*args)` at `at` (bot clock), replacing any job with the same id."""
        run_date = self.to_real_time(at)
        self._aps.add_job(
            self._tracked,
            DateTrigger(run_date=max(run_date, datetime.now(UTC) + timedelta(milliseconds=1))),
            id=job_id,
            name=getattr(func, "__qualname__", job_id),
            args=(func, *args),
            replace_existing=True,
        )

    async def _tracked(self, func: JobFunc, *args: Any) -> None:
        """Run a job, known as running until it ends (so `aclose` can wait for it)."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await func(*args)
        finally:
            if task is not None:
                self._running.discard(task)

    def cancel(self, job_id: str) -> None:
        if self._aps.get_job(job_id) is not None:
            self._aps.remove_job(job_id)

    def job_ids(self) -> list[str]:
        return [job.id for job in self._aps.get_jobs()]

    def next_run(self, job_id: str) -> datetime | None:
        job = self._aps.get_job(job_id)
        return job.next_run_time if job is not None else None
