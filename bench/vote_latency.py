"""Votes under a rush, end to end: the real bot process behind the loopback fake Discord.

    python -m bench vote_latency            # 500 votes at concurrency 50, a burst of 5,000 in 1 s
    python -m bench vote_latency --quick    # 100 votes at concurrency 20, a burst of 500 (< 1 min)

Part (2) of the vote bench (part (1), the vote service alone, is `bench.votes`). The fake
Discord (tests/e2e/fakediscord) runs in this process; the bot is a separate process, `python -m
bot`, on a fresh SQLite file, its clock started just before a Thursday drop (the test-only
WATCHCLUB_CLOCK_START) so that the drop itself posts the poll. Then members vote on the poll
message's select (component interactions, one member per vote, random half-star values):

  (a) steady: N votes with C in flight at a time (each member waits for the bot's answer);
  (b) burst: M votes dispatched evenly within one second, nobody waiting.

Latency is from the moment the fake is asked to send an INTERACTION_CREATE (for Discord, the
moment the interaction exists) to the bot's first interaction callback reaching the fake. A
miss is a first callback more than 3 s after that, or none (Discord's clock runs from the
interaction's creation, so a frame the bot is slow to read from its socket counts against it;
the fake itself times from the write). "Deferred" counts first answers that were a "thinking…"
defer (the bot's fallback after 1.5 s), in time or late. The burst also counts the poll message
edits it caused, up to the coalescer's last one.

The same phases then run against `bench._reply_only_bot`: the same discord.py, intents and
persistent select, answering at once with no database. The machine is shared and noisy, so the
figures are meant as ratios between the two bots; nothing is asserted.

The driver must not be what it measures. The table shows the dispatch window achieved (first
dispatch asked to last INTERACTION_CREATE written to the bot's socket: longer than 1 s when the
bot does not read fast enough), the worst stall of this process's event loop, and the cores used
meanwhile by the fake (this process), the bot, and everything else on the machine. The garbage
collector is paused in this process during a phase (the fake keeps every payload and request; a
full collection of that heap stalls its loop for 0.2-0.7 s). And once WatchClub has stopped, the
fake sends the same burst to an in-process reader that drops every frame: the fake's own
dispatch rate, with no bot behind the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import text

from bot.client import bot_intents
from bot.db.engine import create_engine
from cogs.polls import EDIT_INTERVAL, FIRST_EDIT_DELAY
from tests.e2e.fakediscord import BotProcess, FakeDiscord, ForumChannel, Guild, Member, Message, TextChannel
from tests.e2e.fakediscord.interactions import DEFERRED_MESSAGE, InteractionRecord
from tests.e2e.fakediscord.waiting import WaitTimeout

DROP = datetime(2024, 1, 12, 4, 30, tzinfo=UTC)  # Thursday 2024-01-11 23:30 in New York
# The bot's clock starts this long before the drop: enough to boot and set up the club.
LEAD = timedelta(seconds=10)
DEADLINE = 3.0  # Discord's limit for the first answer to an interaction
BURST_WINDOW = 1.0
TICK = 0.005  # the burst's dispatch pacing
ANSWER_TIMEOUT = 30.0  # an interaction not answered by then counts as unanswered
# The poll message is quiet again once no edit came for this long.
EDITS_QUIET = FIRST_EDIT_DELAY + EDIT_INTERVAL + 1.0
WATCHCLUB, REPLY_ONLY = "WatchClub", "reply-only"
CONFIRMATIONS = ("You rated", "You picked")  # WatchClub's vote receipt, the baseline's answer
SELECT_ID = re.compile(r"wc:poll:\d+:rate")
PATCH_MESSAGE = "/channels/{channel_id}/messages/{message_id}"
IDENTIFY = 2
OTHERS_SKEW = 0.3  # cores of other load between the two bots' phases beyond which a ratio is flagged


@dataclass(frozen=True)
class Sizes:
    steady: int
    concurrency: int
    burst: int


QUICK = Sizes(steady=100, concurrency=20, burst=500)
FULL = Sizes(steady=500, concurrency=50, burst=5_000)


# --- the server --------------------------------------------------------------------------------


@dataclass
class Scene:
    """The fake server: a club's channels, a moderator, and one member per vote of each phase."""

    fake: FakeDiscord
    guild: Guild
    announcements: TextChannel
    forum: ForumChannel
    mod: Member
    steady_voters: list[Member]
    burst_voters: list[Member]


def build_scene(fake: FakeDiscord, sizes: Sizes) -> Scene:
    guild = fake.add_guild("Metallic Rouge Watch Club")
    members = [guild.add_member(f"voter{n:05d}") for n in range(sizes.steady + sizes.burst)]
    return Scene(
        fake=fake,
        guild=guild,
        announcements=guild.add_text_channel("announcements"),
        forum=guild.add_forum_channel("episodes"),
        mod=guild.add_member("mod", moderator=True),
        steady_voters=members[: sizes.steady],
        burst_voters=members[sizes.steady :],
    )


def half_stars(count: int, seed: int) -> list[str]:
    """Random half-star values (1..10), the select's option values; the same for both bots."""
    rng = random.Random(seed)
    return [str(rng.randint(1, 10)) for _ in range(count)]


# --- the bots ----------------------------------------------------------------------------------


def watchclub_process(scene: Scene, folder: Path) -> BotProcess:
    env = {
        "DATABASE_URL": database_url(folder),
        "DEV_GUILD_ID": str(scene.guild.id),
        "LOG_LEVEL": "INFO",
        "WATCHCLUB_CLOCK_START": (DROP - LEAD).isoformat(),
    }
    return BotProcess(scene.fake, env=env, log_path=folder / "watchclub.log", name="watchclub")


def reply_only_process(scene: Scene, folder: Path) -> BotProcess:
    command = [sys.executable, "-m", "bench._reply_only_bot"]
    return BotProcess(scene.fake, command=command, log_path=folder / "reply_only.log", name="reply-only")


def database_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'watchclub.db'}"


async def open_poll(scene: Scene) -> Message:
    """Set up the club and the show before the drop; the poll message the drop posts."""
    fake, guild = scene.fake, scene.guild
    setup = await fake.slash(
        guild, scene.mod, "club setup", announcements=scene.announcements, discussions=scene.forum,
        timezone="America/New_York",
    )  # fmt: skip
    assert "Saved" in setup.content, setup.content
    added = await fake.slash(
        guild, scene.mod, "show add", title="Metallic Rouge", episodes=13, weekday="Thursday", time="23:30",
        start="2024-01-11", reminder=0,
    )  # fmt: skip
    assert added.content.startswith("Added"), added.content
    return await fake.wait_for(lambda: find_poll(scene), timeout=LEAD.total_seconds() + 30, description="the poll")


def find_poll(scene: Scene) -> Message | None:
    for thread in scene.forum.threads:
        for message in thread.history():
            if any(SELECT_ID.fullmatch(c.get("custom_id", "")) for c in message.iter_components()):
                return message
    return None


def select_id(poll: Message) -> str:
    return next(str(c["custom_id"]) for c in poll.iter_components() if SELECT_ID.fullmatch(c.get("custom_id", "")))


async def stored_votes(folder: Path) -> int:
    engine = create_engine(database_url(folder))
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text("SELECT count(*) FROM vote"))).scalar_one())
    finally:
        await engine.dispose()


# --- instruments -------------------------------------------------------------------------------


def process_cpu(pid: str) -> float:
    """User + system CPU seconds of a process so far (all its threads); `pid` may be "self"."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """Busy CPU seconds of every core together so far (from /proc/stat)."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


@dataclass(frozen=True)
class Cores:
    """Average cores busy over a phase: the fake (this process), the bot, everything else."""

    fake: float
    bot: float
    others: float

    def __str__(self) -> str:
        return f"{self.fake:.2f}|{self.bot:.2f}|{self.others:.2f}"


@dataclass(frozen=True)
class CpuUse:
    wall: float
    fake: float
    bot: float
    machine: float

    @classmethod
    def now(cls, bot_pid: int | None) -> CpuUse:
        bot = process_cpu(str(bot_pid)) if bot_pid is not None else 0.0
        return cls(time.monotonic(), process_cpu("self"), bot, machine_cpu())

    def cores_since(self, start: CpuUse) -> Cores:
        wall = self.wall - start.wall
        fake, bot = (self.fake - start.fake) / wall, (self.bot - start.bot) / wall
        return Cores(fake, bot, max(0.0, (self.machine - start.machine) / wall - fake - bot))


class LoopStall:
    """The worst delay of this event loop (the fake's) in waking a 5 ms sleeper."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, loop.time() - started - 0.005)

    def __enter__(self) -> LoopStall:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Collect now, then none until the phase ends (a full pass over the fake's heap is long)."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def poll_until(done: Callable[[], bool], timeout: float, every: float = 0.05) -> None:
    """Until `done()` (checked every `every` s, not on each change of the fake), or `timeout`."""
    for _ in range(int(timeout / every)):
        if done():
            return
        await asyncio.sleep(every)


class Answers:
    """Wakes whoever waits for an interaction once the bot's first callback for it reached the
    fake: one waiter on the fake's change notifier, however many interactions are in flight."""

    def __init__(self, fake: FakeDiscord) -> None:
        self._fake = fake
        self._waiting: dict[int, tuple[InteractionRecord, asyncio.Future[None]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def wait(self, record: InteractionRecord) -> None:
        if record.attempts:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiting[record.id] = (record, future)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(future, ANSWER_TIMEOUT)
        self._waiting.pop(record.id, None)

    def _settle(self) -> bool:
        answered = [key for key, (record, _) in self._waiting.items() if record.attempts]
        for key in answered:
            _, future = self._waiting.pop(key)
            if not future.done():
                future.set_result(None)
        return bool(answered)

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(WaitTimeout):
                await self._fake.wait_for(self._settle, timeout=3600)

    def __enter__(self) -> Answers:
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


class GatewaySink:
    """A bare gateway client in this process: identifies like the bot, then reads and drops
    every frame. With it in place of a bot, the fake's dispatch rate is its own."""

    def __init__(self, fake: FakeDiscord) -> None:
        self._fake = fake
        self.frames = 0
        self._session: aiohttp.ClientSession | None = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> GatewaySink:
        self._session = aiohttp.ClientSession()
        socket = await self._session.ws_connect(self._fake.gateway_url, max_msg_size=0)
        await socket.receive()  # HELLO
        connected = self._fake.ready_count
        identify = {"token": self._fake.token, "intents": bot_intents().value, "properties": {"os": "linux"}}
        await socket.send_json({"op": IDENTIFY, "d": identify})
        self._reader = asyncio.create_task(self._drop_frames(socket))
        await self._fake.wait_for_ready(after=connected)
        return self

    async def _drop_frames(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        async for _frame in socket:
            self.frames += 1

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._session is not None:
            await self._session.close()


# --- the figures -------------------------------------------------------------------------------


@dataclass
class Sent:
    """One dispatched vote: when the fake was asked to send it, and its record."""

    at: float
    record: InteractionRecord


def window(sent: list[Sent]) -> float:
    """First dispatch asked to last INTERACTION_CREATE written to the socket."""
    written = [s.record.dispatched_at for s in sent if s.record.dispatched_at is not None]
    return max(written) - sent[0].at if written else float("nan")


def answer_text(record: InteractionRecord) -> str:
    """What the member read: the answer, or after a defer the follow-up that filled it."""
    if record.initial is not None and record.initial.type == DEFERRED_MESSAGE:
        return record.followups[0].content if record.followups else ""
    return record.initial.data.get("content") or "" if record.initial is not None else ""


@dataclass
class Phase:
    bot: str
    name: str
    sent: list[Sent]
    cores: Cores
    stall: float
    is_burst: bool
    edits: int | None = None
    latencies: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.latencies = sorted(s.record.attempts[0].received_at - s.at for s in self.sent if s.record.attempts)

    @property
    def unanswered(self) -> int:
        return len(self.sent) - len(self.latencies)

    @property
    def missed(self) -> int:
        return sum(latency > DEADLINE for latency in self.latencies) + self.unanswered

    def deferred(self, *, in_time: bool) -> int:
        """First answers that were a "thinking…" defer, within the deadline or not."""
        return sum(
            s.record.attempts[0].type == DEFERRED_MESSAGE
            and (s.record.attempts[0].received_at - s.at <= DEADLINE) == in_time
            for s in self.sent
            if s.record.attempts
        )

    @property
    def unconfirmed(self) -> int:
        """Answers that are not a vote confirmation (an error, a refusal, a restart notice)."""
        return sum(not answer_text(s.record).startswith(CONFIRMATIONS) for s in self.sent if s.record.initial)

    @property
    def elapsed(self) -> float:
        """First dispatch asked to last first answer."""
        answers = [s.record.attempts[0].received_at for s in self.sent if s.record.attempts]
        return max(answers) - self.sent[0].at if answers else float("nan")

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.latencies else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        return self.latencies[min(len(self.latencies) - 1, int(q * len(self.latencies)))]


@dataclass(frozen=True)
class DispatchCheck:
    """The fake alone: the burst sent to a reader that drops every frame."""

    count: int
    window: float
    cores: Cores


# --- the phases --------------------------------------------------------------------------------


async def steady(scene: Scene, poll: Message, values: list[str], concurrency: int) -> list[Sent]:
    """Every member votes and waits for the answer; `concurrency` of them at a time."""
    loop = asyncio.get_running_loop()
    custom_id = select_id(poll)
    votes: Iterator[tuple[Member, str]] = iter(zip(scene.steady_voters, values, strict=True))
    sent: list[Sent] = []

    async def member_after_member(answers: Answers) -> None:
        for member, value in votes:  # shared: each vote is taken once
            at = loop.time()
            pending = scene.fake.select(poll, custom_id, [value], member)
            sent.append(Sent(at, pending.record))
            await answers.wait(pending.record)

    with Answers(scene.fake) as answers:
        await asyncio.gather(*(member_after_member(answers) for _ in range(concurrency)))
    sent.sort(key=lambda s: s.at)
    return sent


async def dispatch_evenly(scene: Scene, poll: Message, values: list[str]) -> list[Sent]:
    """Dispatch one vote per burst voter, evenly within BURST_WINDOW (or as fast as the fake can)."""
    loop = asyncio.get_running_loop()
    custom_id = select_id(poll)
    votes = list(zip(scene.burst_voters, values, strict=True))
    sent: list[Sent] = []
    started = loop.time()
    while len(sent) < len(votes):
        due = min(len(votes), int((loop.time() - started) / BURST_WINDOW * len(votes)) + 1)
        for member, value in votes[len(sent) : due]:
            at = loop.time()
            sent.append(Sent(at, scene.fake.select(poll, custom_id, [value], member).record))
        await asyncio.sleep(TICK)  # lets the gateway write the frames and the REST side answer
    return sent


async def burst(scene: Scene, poll: Message, values: list[str]) -> list[Sent]:
    """The burst, then the wait for every first answer."""
    sent = await dispatch_evenly(scene, poll, values)
    await poll_until(lambda: all(s.record.attempts for s in sent), ANSWER_TIMEOUT, every=0.1)
    return sent


async def measure(bot: str, name: str, process: BotProcess, votes: Awaitable[list[Sent]], *, is_burst: bool) -> Phase:
    """Run one phase; the cores each process used meanwhile and this loop's worst stall."""
    with gc_paused(), LoopStall() as stall:
        started = CpuUse.now(process.pid)
        sent = await votes
        cores = CpuUse.now(process.pid).cores_since(started)
    return Phase(bot, name, sent, cores, stall.worst, is_burst)


async def poll_edits(fake: FakeDiscord, poll: Message, since: float) -> int:
    """Edits of the poll message since `since`, once they stopped (the coalescer's last one)."""
    loop = asyncio.get_running_loop()

    def edits() -> list[float]:
        found = fake.requests("PATCH", PATCH_MESSAGE, message_id=poll.id, predicate=lambda r: r.at >= since)
        return [r.at for r in found]

    quiet_from = loop.time()
    while True:
        quiet_for = loop.time() - max([quiet_from, *edits()])
        if quiet_for >= EDITS_QUIET:
            return len(edits())
        await asyncio.sleep(EDITS_QUIET - quiet_for)


async def run_phases(bot: str, process: BotProcess, scene: Scene, poll: Message, sizes: Sizes) -> list[Phase]:
    """(a) steady, then (b) the burst, with the same votes for both bots."""
    steady_votes, burst_votes = half_stars(sizes.steady, seed=1), half_stars(sizes.burst, seed=2)
    return [
        await run_phase(
            bot,
            f"(a) {sizes.steady:,} at concurrency {sizes.concurrency}",
            process,
            poll,
            steady(scene, poll, steady_votes, sizes.concurrency),
        ),
        await run_phase(
            bot,
            f"(b) burst of {sizes.burst:,} in {BURST_WINDOW:.0f} s",
            process,
            poll,
            burst(scene, poll, burst_votes),
            is_burst=True,
        ),
    ]


async def run_phase(
    bot: str, name: str, process: BotProcess, poll: Message, votes: Awaitable[list[Sent]], *, is_burst: bool = False
) -> Phase:
    """One measured phase; for WatchClub, then the poll message edits it caused."""
    assert process.fake is not None
    started = asyncio.get_running_loop().time()
    phase = await measure(bot, name, process, votes, is_burst=is_burst)
    if bot == WATCHCLUB:
        phase.edits = await poll_edits(process.fake, poll, started)
    return phase


# --- the run -----------------------------------------------------------------------------------


async def run_watchclub(scene: Scene, sizes: Sizes, folder: Path) -> tuple[Message, list[Phase], int]:
    """Boot the bot, let the drop post the poll, vote; the poll, the phases and the votes stored."""
    process = watchclub_process(scene, folder)
    try:
        await process.start_and_wait_ready(60, commands=["club", "show"], guild=scene.guild)
        poll = await open_poll(scene)
        phases = await run_phases(WATCHCLUB, process, scene, poll, sizes)
    finally:
        await process.terminate()  # the vote writer commits what it holds before the exit
    return poll, phases, await stored_votes(folder)


async def run_reply_only(scene: Scene, poll: Message, sizes: Sizes, folder: Path) -> list[Phase]:
    process = reply_only_process(scene, folder)
    try:
        await process.start_and_wait_ready(60)
        return await run_phases(REPLY_ONLY, process, scene, poll, sizes)
    finally:
        await process.terminate()


async def dispatch_check(scene: Scene, poll: Message, count: int) -> DispatchCheck:
    """The burst sent to a `GatewaySink` (no bot connected): the fake's own dispatch window."""
    async with GatewaySink(scene.fake) as sink:
        with gc_paused():
            started = CpuUse.now(None)
            sent = await dispatch_evenly(scene, poll, half_stars(count, seed=2))
            await poll_until(lambda: sink.frames >= count and all(s.record.dispatched_at for s in sent), 30)
            cores = CpuUse.now(None).cores_since(started)
    return DispatchCheck(count, window(sent), cores)


async def run(sizes: Sizes, folder: Path) -> tuple[list[Phase], int, DispatchCheck]:
    async with FakeDiscord() as fake:
        scene = build_scene(fake, sizes)
        poll, phases, stored = await run_watchclub(scene, sizes, folder)
        check = await dispatch_check(scene, poll, sizes.burst)
        phases += await run_reply_only(scene, poll, sizes, folder)
    return phases, stored, check


# --- the report --------------------------------------------------------------------------------

HEADER = (
    f"{'phase':<27} {'bot':<10} {'votes':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} "
    f"{'>3 s':>5} {'deferred':>11} {'votes/s':>7} {'dispatch s':>10} {'stall ms':>8} {'cores fake|bot|other':>20} "
    f"{'edits':>5}"
)
LEGEND = """\
  latency: dispatch asked -> the bot's first callback received; >3 s: missed Discord's deadline
  (or never answered); deferred: first answers that were a "thinking..." defer, in time|late;
  votes/s: answered / (first dispatch -> last answer); dispatch s: first dispatch asked -> last
  INTERACTION_CREATE written to the bot's socket (over 1 s: the bot was not reading, TCP
  back-pressure); stall: the fake's worst event-loop delay; cores: average over the phase, of 2."""


def row(phase: Phase, first: bool) -> str:
    ms = " ".join(f"{phase.pct(q) * 1000:>7.0f}" for q in (0.50, 0.95, 0.99, 1.0))
    dispatch = f"{window(phase.sent):>10.2f}" if phase.is_burst else f"{'':>10}"
    edits = "" if phase.edits is None else str(phase.edits)
    deferred = f"{phase.deferred(in_time=True):,}|{phase.deferred(in_time=False):,}"
    return (
        f"{phase.name if first else '':<27} {phase.bot:<10} {len(phase.sent):>6,} {ms} {phase.missed:>5,} "
        f"{deferred:>11} {phase.throughput:>7,.0f} {dispatch} {phase.stall * 1000:>8.0f} "
        f"{phase.cores!s:>20} {edits:>5}"
    )


def ratios(ours: Phase, base: Phase) -> str:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.1f}x" if b > 0 else "n/a"

    return (
        f"  {ours.name}: p50 {ratio(ours.pct(0.5), base.pct(0.5))}, p99 {ratio(ours.pct(0.99), base.pct(0.99))}, "
        f"max {ratio(ours.pct(1.0), base.pct(1.0))}, votes/s {ratio(ours.throughput, base.throughput)}; "
        f"missed {ours.missed:,} vs {base.missed:,} of {len(ours.sent):,}{skew(ours, base)}"
    )


def skew(ours: Phase, base: Phase) -> str:
    """A warning when the rest of the machine was much busier during one bot's phase."""
    if abs(ours.cores.others - base.cores.others) <= OTHERS_SKEW:
        return ""
    return f" (skewed: other load {ours.cores.others:.2f} vs {base.cores.others:.2f} cores; run again)"


def report(phases: list[Phase], stored: int, expected: int, check: DispatchCheck) -> None:
    print(HEADER)
    for name in dict.fromkeys(p.name for p in phases):
        for index, phase in enumerate(p for p in phases if p.name == name):
            print(row(phase, index == 0))
    print(LEGEND)
    print(f"{WATCHCLUB} / {REPLY_ONLY} (latency: lower is better; votes/s: higher is better):")
    for ours, base in zip(
        [p for p in phases if p.bot == WATCHCLUB], [p for p in phases if p.bot == REPLY_ONLY], strict=True
    ):
        print(ratios(ours, base))
    print(
        f"driver check, no bot behind the socket (an in-process reader dropping the frames): the fake sent "
        f"{check.count:,} INTERACTION_CREATE in {check.window:.2f} s (asked evenly within {BURST_WINDOW:.0f} s), "
        f"cores fake|other {check.cores.fake:.2f}|{check.cores.others:.2f}"
    )
    unanswered = sum(p.unanswered for p in phases)
    print(
        f"votes stored by {WATCHCLUB}: {stored:,} of {expected:,}; never answered: {unanswered:,}; "
        f"answers other than a vote confirmation: {sum(p.unconfirmed for p in phases):,}"
    )


def main(argv: list[str]) -> int:
    sizes = QUICK if "--quick" in argv else FULL
    print(
        f"vote_latency: votes on the poll's select, fake Discord (this process) -> the real bot process "
        f"(SQLite file), {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory(prefix="wc-bench-vote-latency-") as folder:
        phases, stored, check = asyncio.run(run(sizes, Path(folder)))
    report(phases, stored, sizes.steady + sizes.burst, check)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
