"""The season wrap-up end to end on a big season, and how long it holds up the event loop.

    python -m bench.wrapup            # 26 episodes x 5,000 raters = 130,000 votes, 2,000 survey answers
    python -m bench.wrapup --quick    # 26 episodes x 500 raters, a few seconds

A fresh SQLite file is seeded (26 polls with every rater's vote, survey answers with the
spelling variants members type, thread message counts, watch progress). Then the wrap-up is
built the way `/season wrapup` builds it — grouped queries and statistics, the chart rendered
in a worker thread, the CSV, the embed — several times, timed phase by phase. A heartbeat task
ticks every 5 ms on the same loop and records the longest gap between ticks: that is the
longest the bot would have left every other interaction waiting (budget: 50 ms).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot.db.engine import SessionFactory, create_engine, create_session_factory
from bot.db.migrate import upgrade_to_head
from bot.render.chart import render_chart_async, renderer
from bot.render.wrapup import wrapup_csv, wrapup_embed
from bot.services.shows import ShowForm
from bot.services.wrapup import WrapUp, build_wrapup
from tests.support.season import Answers, Season, seed_season

T = TypeVar("T")

GAP_BUDGET_MS = 50.0
TICK_S = 0.005
NOW = datetime(2024, 7, 15, 12, 0, tzinfo=UTC)  # E26 aired 2024-07-05; its poll has closed
FORM = ShowForm(
    title="Metallic Rouge",
    episodes=26,
    weekday="Thursday",
    time="23:30",
    timezone="America/New_York",
    start="2024-01-11",
    platform="Crunchyroll",
    season="Winter-Spring 2024",
)
CHARACTERS = ["Rouge Redstar", "rouge redstar", "Naomi Orthmann", "Ash Stahl", "ash  stahl", "Jill Sturgeon", "Noid"]
MOMENTS = ["Rouge vs Viola", "the Cylinder Heads fight", "Nectar stolen and re-stolen", "Watertown", "The finale"]
LEAST = ["The Puppeteer reveal", "the puppeteer  reveal", "Too many ideas", "Episode 12's cut-away"]
VERDICTS = ["Should have been amazing.", "Peaked too soon.", "Gorgeous, hollow.", "Fine.", "Bones at 25: stylish."]


@dataclass(frozen=True)
class Size:
    episodes: int
    raters: int
    answers: int
    runs: int


FULL = Size(episodes=26, raters=5_000, answers=2_000, runs=5)
QUICK = Size(episodes=26, raters=500, answers=200, runs=3)


def season_of(size: Size) -> Season:
    """A deterministic season: every rater rates every episode, around a drifting mean."""
    rng = random.Random(6)  # bench data, not secrets
    votes = {}
    for number in range(1, size.episodes + 1):
        centre = 7.5 - 2.5 * number / size.episodes + rng.uniform(-0.6, 0.6)
        votes[number] = tuple(min(10, max(1, round(rng.gauss(centre, 1.6)))) for _ in range(size.raters))
    answers = {
        1_000_000 + i: Answers(
            rng.choice(CHARACTERS),
            rng.choice(MOMENTS),
            rng.choice(LEAST),
            rng.choice(["yes", "yes", "maybe", "no", None]),
            rng.choice(VERDICTS) if i % 3 == 0 else None,
        )
        for i in range(size.answers)
    }
    return Season(
        form=FORM,
        titles={1: "Crimson Is the Sound of Dawn", 2: "Wander in the Labyrinth"},
        votes=votes,
        messages={n: rng.randint(40, 900) for n in range(1, size.episodes + 1)},
        progress={1_000_000 + i: rng.choice([size.episodes, size.episodes, 20, 9]) for i in range(size.raters)},
        answers=answers,
        first_member=1_000_000,
    )


@dataclass
class Heartbeat:
    """Ticks on the event loop; `max_gap` is the longest the loop was unavailable."""

    max_gap: float = 0.0
    ticks: int = 0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def _beat(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(TICK_S)
            now = time.perf_counter()
            self.max_gap = max(self.max_gap, now - last - TICK_S)
            self.ticks += 1
            last = now

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._beat())
        await asyncio.sleep(0)  # let it take its first timestamp
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


@dataclass
class Run:
    phases: dict[str, float] = field(default_factory=dict)  # seconds
    gaps: dict[str, float] = field(default_factory=dict)  # seconds, per phase

    @property
    def total(self) -> float:
        return sum(self.phases.values())

    @property
    def max_gap(self) -> float:
        return max(self.gaps.values(), default=0.0)


async def timed(run: Run, name: str, work: Callable[[], Awaitable[T]]) -> T:
    async with Heartbeat() as heart:
        started = time.perf_counter()
        result = await work()
        run.phases[name] = time.perf_counter() - started
    run.gaps[name] = heart.max_gap
    return result


async def wrapup_once(sessions: SessionFactory) -> Run:
    """What `/season wrapup` does after deferring, phase by phase."""
    run = Run()

    async def query() -> WrapUp:
        async with sessions() as session:
            return await build_wrapup(session, 424242, "metallic rouge", NOW)

    async def csv_and_embed() -> int:
        return len(wrapup_csv(data)) + len(wrapup_embed(data))

    data = await timed(run, "query+stats", query)
    png = await timed(run, "chart", lambda: render_chart_async(data))
    await timed(run, "csv+embed", csv_and_embed)
    assert png.startswith(b"\x89PNG") and data.ratings > 0
    return run


async def seed(url: str, size: Size) -> float:
    engine = create_engine(url)
    await upgrade_to_head(engine)
    started = time.perf_counter()
    async with create_session_factory(engine)() as session:
        await seed_season(session, season_of(size), NOW)
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed


async def bench(url: str, size: Size) -> list[Run]:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        runs = [await wrapup_once(sessions) for _ in range(size.runs)]
    finally:
        renderer.close()
        await engine.dispose()
    return runs


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def report(runs: list[Run]) -> None:
    names = list(runs[0].phases)
    print(f"{'run':<9}" + "".join(f"{n:>14}" for n in names) + f"{'total':>14}{'max loop gap':>15}")
    for index, run in enumerate(runs, start=1):
        label = f"{index} (cold)" if index == 1 else str(index)
        print(
            f"{label:<9}"
            + "".join(f"{ms(run.phases[n]):>14}" for n in names)
            + f"{ms(run.total):>14}{ms(run.max_gap):>15}"
        )
    warm = runs[1:] or runs
    print(f"median total (warm): {ms(statistics.median(r.total for r in warm)).strip()}")
    gap = max(r.max_gap for r in runs)
    worst = max(runs, key=lambda r: r.max_gap)
    phase = max(worst.gaps, key=lambda n: worst.gaps[n])
    verdict = "within" if gap * 1000 <= GAP_BUDGET_MS else "OVER"
    print(
        f"max event-loop gap over all runs: {ms(gap).strip()} (in {phase}; {verdict} the {GAP_BUDGET_MS:.0f} ms budget)"
    )


def main(argv: list[str]) -> int:
    size = QUICK if "--quick" in argv else FULL
    votes = size.episodes * size.raters
    print(
        f"season wrap-up: {size.episodes} episodes x {size.raters:,} raters = {votes:,} votes, "
        f"{size.answers:,} survey answers, {size.runs} runs"
    )
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'wrapup.db'}"
        seeded = asyncio.run(seed(url, size))
        print(f"seeded a SQLite file in {seeded:.1f} s")
        runs = asyncio.run(bench(url, size))
    report(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
