"""The wrap-up chart: per-episode averages over per-episode rating counts, as a PNG.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global figure state), in
Discord's dark-theme colours so it sits in the embed like part of it. The output is a pure
function of the wrap-up: matplotlib's defaults are pinned for each render (under a lock, since
rcParams are process-wide), the size and dpi are fixed, and the PNG carries no software or
time metadata — the same wrap-up gives the same bytes.

Rendering takes a few hundred milliseconds of CPU: the bot calls `render_chart_async`, which
runs it in a worker process (see `ChartRenderer`) so the event loop keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.typing import RcKeyType

from bot.render.text import clip
from bot.services.wrapup import WrapUp

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 5.6, 150
PIXELS = (int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
LEFT, RIGHT, TOP = 0.075, 0.925, 0.79  # the plotting area, in figure fractions

# Discord's dark theme: the embed background, its text and accent colours.
BACKGROUND = "#2B2D31"
TEXT = "#F2F3F5"
MUTED = "#B5BAC1"
FAINT = "#6D6F78"
GRID = "#3F4147"
BAR = "#5865F2"
BEST = "#F0B232"
WORST = "#F23F43"
COUNT_BAR = "#4E5058"
SCORE_LINE = "#DBDEE1"

STYLE: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "text.color": TEXT,
    "axes.edgecolor": GRID,
    "axes.labelcolor": MUTED,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "axes.unicode_minus": False,
}

T = TypeVar("T")

_render_lock = threading.RLock()


@dataclass(frozen=True)
class ChartSeries:
    """What the chart plots, episode by episode (for the renderer and for tests)."""

    numbers: tuple[int, ...]
    averages: tuple[float | None, ...]  # None: not rated (or not aired yet)
    labels: tuple[str | None, ...]  # the averages as the embed shows them ("3.25")
    ratings: tuple[int, ...]
    aired: tuple[bool, ...]
    score: float | None
    score_label: str | None
    best: tuple[int, ...]
    worst: tuple[int, ...]


def chart_series(wrapup: WrapUp) -> ChartSeries:
    return ChartSeries(
        numbers=tuple(e.number for e in wrapup.episodes),
        averages=tuple(e.average for e in wrapup.episodes),
        labels=tuple(None if e.shown_average is None else f"{e.shown_average / 100:.2f}" for e in wrapup.episodes),
        ratings=tuple(e.ratings for e in wrapup.episodes),
        aired=tuple(e.aired for e in wrapup.episodes),
        score=wrapup.score,
        score_label=None if wrapup.shown_score is None else f"{wrapup.shown_score / 100:.2f}",
        best=tuple(e.number for e in wrapup.best.episodes) if wrapup.best else (),
        worst=tuple(e.number for e in wrapup.worst.episodes) if wrapup.worst else (),
    )


def stars_label(half_steps: int) -> str:
    """1 -> "½", 3 -> "1½", 4 -> "2"."""
    whole, half = divmod(half_steps, 2)
    return (str(whole) if whole else "") + ("½" if half else "")


def compact(count: int) -> str:
    """Rating counts short enough to sit over a bar: 940, 1.2k, 12k."""
    if count < 1000:
        return str(count)
    if count < 10_000:
        return f"{count / 1000:.1f}k".replace(".0k", "k")
    return f"{round(count / 1000)}k"


def subtitle(wrapup: WrapUp) -> str:
    parts = [wrapup.season] if wrapup.season else []
    if wrapup.complete:
        parts.append(f"{wrapup.episode_count} episodes")
    else:
        parts.append(f"so far: {wrapup.aired_count} of {wrapup.episode_count} episodes")
    score = wrapup.shown_score
    if score is not None:
        parts.append(f"season score ★ {score / 100:.2f} from {wrapup.ratings:,} ratings")
    return " · ".join(clip(p, 60) for p in parts)


def _sizes(count: int) -> tuple[float, float]:
    """(annotation, tick label) font sizes for `count` episodes on the x axis."""
    if count <= 13:
        return 10.0, 10.0
    if count <= 26:
        return 7.5, 8.5
    return 6.0, 7.0


def _tick_labels(series: ChartSeries) -> list[str]:
    if len(series.numbers) <= 13:
        return [f"E{n:02d}" for n in series.numbers]
    return [str(n) for n in series.numbers]


def _bar_colour(series: ChartSeries, number: int) -> str:
    if number in series.best:
        return BEST
    if number in series.worst:
        return WORST
    return BAR


def _style_axes(axes: Axes) -> None:
    axes.set_facecolor(BACKGROUND)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.spines["left"].set_color(GRID)
    axes.spines["bottom"].set_color(GRID)
    axes.tick_params(length=0)
    axes.set_axisbelow(True)


def _draw_averages(axes: Axes, series: ChartSeries) -> None:
    _style_axes(axes)
    label_size, _ = _sizes(len(series.numbers))
    heights = [a if a is not None else 0.0 for a in series.averages]
    colours = [_bar_colour(series, n) for n in series.numbers]
    bars = axes.bar(series.numbers, heights, width=0.68, color=colours, zorder=2, gid="averages")
    for bar, average, label, aired in zip(bars, series.averages, series.labels, series.aired, strict=True):
        x = bar.get_x() + bar.get_width() / 2
        if average is not None and label is not None:
            # On a patch of background, so the season-score line never runs through a label.
            axes.text(
                x,
                average + 0.1,
                label,
                ha="center",
                va="bottom",
                fontsize=label_size,
                fontweight="bold",
                color=TEXT,
                zorder=5,
                bbox={"boxstyle": "square,pad=0.12", "facecolor": BACKGROUND, "edgecolor": "none"},
            )
        elif len(series.numbers) <= 26:
            note = "no ratings" if aired else "not aired"
            axes.text(
                x,
                0.12,
                note,
                ha="center",
                va="bottom",
                rotation=90,
                fontsize=label_size - 1,
                color=MUTED if aired else FAINT,
                zorder=3,
            )
    axes.set_ylim(0, 5.75)
    axes.set_yticks([h / 2 for h in range(1, 11)], [stars_label(h) for h in range(1, 11)])
    axes.set_ylabel("average ★")
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    if series.score is not None:
        axes.axhline(series.score, color=SCORE_LINE, linestyle=(0, (5, 4)), linewidth=1.4, zorder=4, gid="score")
        axes.text(
            1.005,
            series.score,
            f"★ {series.score_label}",
            transform=axes.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=10,
            fontweight="bold",
            color=SCORE_LINE,
            clip_on=False,
        )


def _draw_counts(axes: Axes, series: ChartSeries) -> None:
    _style_axes(axes)
    label_size, tick_size = _sizes(len(series.numbers))
    bars = axes.bar(series.numbers, series.ratings, width=0.68, color=COUNT_BAR, zorder=2, gid="ratings")
    top = max(series.ratings, default=0) or 1
    for bar, count in zip(bars, series.ratings, strict=True):
        if count:
            axes.text(
                bar.get_x() + bar.get_width() / 2,
                count + top * 0.06,
                compact(count),
                ha="center",
                va="bottom",
                fontsize=label_size,
                color=MUTED,
                zorder=3,
            )
    axes.set_ylim(0, top * 1.55)
    axes.set_yticks([])
    axes.set_ylabel("ratings")
    axes.set_xticks(series.numbers, _tick_labels(series), fontsize=tick_size)
    if len(series.numbers) > 13:
        axes.set_xlabel("episode", fontsize=tick_size)
    for label, aired in zip(axes.get_xticklabels(), series.aired, strict=True):
        label.set_color(MUTED if aired else FAINT)
    axes.set_xlim(min(series.numbers, default=1) - 0.6, max(series.numbers, default=1) + 0.6)


def _legend(figure: Figure, series: ChartSeries) -> None:
    handles: list[Any] = [Patch(color=BEST, label="best")]
    if series.worst:
        handles.append(Patch(color=WORST, label="worst"))
    handles.append(Line2D([], [], color=SCORE_LINE, linestyle=(0, (5, 4)), linewidth=1.4, label="season score"))
    figure.legend(
        handles=handles,
        loc="lower right",
        bbox_to_anchor=(RIGHT, TOP),
        borderaxespad=0.2,
        ncols=len(handles),
        frameon=False,
        fontsize=10,
        labelcolor=MUTED,
        handlelength=1.6,
    )


def chart_figure(wrapup: WrapUp) -> tuple[Figure, ChartSeries]:
    """The chart as a matplotlib Figure (on an Agg canvas), with the series it plots."""
    series = chart_series(wrapup)
    if series.score is None:
        raise ValueError("no ratings yet: there is nothing to chart")
    with _pinned_style():
        return _figure(wrapup, series), series


def _figure(wrapup: WrapUp, series: ChartSeries) -> Figure:
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor=BACKGROUND)
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 1, height_ratios=(3.3, 1), hspace=0.12, left=LEFT, right=RIGHT, top=TOP, bottom=0.1)
    averages = figure.add_subplot(grid[0])
    counts = figure.add_subplot(grid[1], sharex=averages)
    _draw_averages(averages, series)
    _draw_counts(counts, series)
    averages.tick_params(axis="x", labelbottom=False)
    heading = clip(wrapup.title, 50) + " — season wrap-up"
    figure.text(
        LEFT,
        0.925,
        heading,
        fontsize=17 if len(heading) <= 48 else 14,
        fontweight="bold",
        color=TEXT,
        ha="left",
        va="baseline",
        parse_math=False,
    )
    figure.text(LEFT, 0.865, subtitle(wrapup), fontsize=11, color=MUTED, ha="left", va="baseline", parse_math=False)
    _legend(figure, series)
    return figure


@contextmanager
def _pinned_style() -> Iterator[None]:
    """matplotlib's own defaults plus ours, whatever the process changed (one render at a time)."""
    with _render_lock, matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(STYLE)
        yield


def render_chart(wrapup: WrapUp) -> bytes:
    """The chart as PNG bytes, identical for an identical wrap-up. ValueError without ratings."""
    with _pinned_style():
        figure, _ = chart_figure(wrapup)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, facecolor=BACKGROUND, metadata={"Software": None})
    return buffer.getvalue()


def _ready() -> bool:
    """Runs in the worker: importing this module there loaded matplotlib."""
    return True


class ChartRenderer:
    """Renders charts in one worker process, started on first use and kept for the next ones.

    Why a process rather than `asyncio.to_thread`: rendering allocates heavily, and inside the
    bot's process (a heap of a few hundred thousand objects) that sets off the garbage
    collector's full passes, which stop every thread — `bench/wrapup.py` measured event-loop
    stalls above 100 ms that way, plus ~25 ms of Agg's C code holding the GIL. In a process of
    its own neither reaches the event loop; the loop only pickles a small `WrapUp` and receives
    the PNG bytes. "spawn", not "fork": forking a process that runs threads (aiosqlite's) can
    copy a held lock into the child.
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in the worker process (it and its arguments must pickle)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), function, *args)
        except BrokenProcessPool:
            self.close()  # the worker died (killed, out of memory): one retry in a fresh one
            return await loop.run_in_executor(self._executor(), function, *args)

    def warm(self) -> None:
        """Start the worker now without waiting for it: it needs a second or two to import
        matplotlib, time better spent while a member is still typing the command."""
        if self._pool is None:
            self._executor().submit(_ready)

    async def render(self, wrapup: WrapUp) -> bytes:
        return await self.run(render_chart, wrapup)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


renderer = ChartRenderer()


async def render_chart_async(wrapup: WrapUp) -> bytes:
    """`render_chart` off the event loop, in the shared worker process."""
    return await renderer.render(wrapup)
