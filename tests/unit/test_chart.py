"""The wrap-up chart: a deterministic PNG whose bars are the episode averages and counts."""

from __future__ import annotations

import os
import struct
from dataclasses import replace
from typing import Any

import matplotlib
import pytest
from matplotlib.colors import to_hex
from sqlalchemy.ext.asyncio import AsyncSession

from bot.render.chart import BAR, BEST, PIXELS, WORST, ChartRenderer, chart_figure, render_chart
from bot.services.wrapup import WrapUp, build_wrapup
from tests.support.season import AFTER_SEASON, MID_SEASON, SEASON_VOTES, Season, seed_season
from tests.support.seeds import METALLIC_ROUGE, TITLE

pytestmark = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == PNG_SIGNATURE
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        chunks.append((kind, data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


async def season_wrapup(session: AsyncSession, season: Season, now: Any = AFTER_SEASON) -> WrapUp:
    await seed_season(session, season, now)
    return await build_wrapup(session, season.guild_id, TITLE, now)


def bars(figure: Any, gid: str) -> list[Any]:
    return [patch for axes in figure.axes for patch in axes.patches if patch.get_gid() == gid]


def texts(figure: Any, axes_index: int) -> list[str]:
    return [t.get_text() for t in figure.axes[axes_index].texts]


async def test_png_has_a_fixed_size_and_no_metadata_that_changes(session: AsyncSession) -> None:
    data = render_chart(await season_wrapup(session, Season()))
    chunks = png_chunks(data)
    kind, header = chunks[0]
    assert kind == b"IHDR"
    assert struct.unpack(">II", header[:8]) == PIXELS == (1500, 840)
    kinds = {k for k, _ in chunks}
    assert b"tIME" not in kinds
    assert not any(b"Software" in body for k, body in chunks if k in (b"tEXt", b"iTXt", b"zTXt"))


async def test_the_same_wrapup_gives_the_same_bytes(session: AsyncSession) -> None:
    wrapup = await season_wrapup(session, Season())
    first = render_chart(wrapup)
    with matplotlib.rc_context({"font.size": 30, "axes.facecolor": "red", "lines.linewidth": 9}):
        second = render_chart(wrapup)  # whatever else in the process changed matplotlib's defaults
    assert first == second
    assert matplotlib.rcParams["font.size"] == matplotlib.rcParamsDefault["font.size"]  # and left them alone


async def test_bars_are_the_episode_averages_with_best_and_worst_marked(session: AsyncSession) -> None:
    wrapup = await season_wrapup(session, Season())
    figure, series = chart_figure(wrapup)
    averages = bars(figure, "averages")
    assert len(averages) == 13
    expected = [sum(v) / len(v) / 2 for _, v in sorted(SEASON_VOTES.items())]
    assert [p.get_height() for p in averages] == pytest.approx(expected)
    assert list(series.averages) == pytest.approx(expected)
    colours = [to_hex(p.get_facecolor()) for p in averages]
    assert colours[0] == BEST.lower()  # E01, 4.00
    assert colours[11] == WORST.lower()  # E12, 2.00
    assert colours.count(BAR.lower()) == 11
    labels = texts(figure, 0)
    assert labels[:2] == ["4.00", "2.50"]
    assert "★ 2.92" in labels


async def test_rating_counts_are_plotted_and_written(session: AsyncSession) -> None:
    figure, series = chart_figure(await season_wrapup(session, Season()))
    counts = bars(figure, "ratings")
    assert [int(p.get_height()) for p in counts] == [len(v) for _, v in sorted(SEASON_VOTES.items())]
    assert texts(figure, 1) == [str(len(v)) for _, v in sorted(SEASON_VOTES.items())]
    assert [t.get_text() for t in figure.axes[1].get_xticklabels()] == [f"E{n:02d}" for n in range(1, 14)]
    assert series.ratings[0] == 5


async def test_the_season_score_is_a_dashed_line(session: AsyncSession) -> None:
    wrapup = await season_wrapup(session, Season())
    figure, _ = chart_figure(wrapup)
    (line,) = [line for line in figure.axes[0].get_lines() if line.get_gid() == "score"]
    assert line.get_ydata()[0] == pytest.approx(wrapup.score)
    assert line.get_linestyle() == "--"


async def test_titles_name_the_show_and_say_so_far_mid_season(session: AsyncSession) -> None:
    wrapup = await season_wrapup(session, Season().until(7), MID_SEASON)
    figure, series = chart_figure(wrapup)
    heading = [t.get_text() for t in figure.texts]
    assert heading[0] == "Metallic Rouge — season wrap-up"
    assert "so far: 7 of 13 episodes" in heading[1]
    assert series.averages[7:] == (None,) * 6
    assert texts(figure, 0).count("not aired") == 6


async def test_dollar_signs_in_a_title_are_text_not_math(session: AsyncSession) -> None:
    season = Season(form=replace(METALLIC_ROUGE, title="Money $ Heist $"))
    await seed_season(session, season, AFTER_SEASON)
    wrapup = await build_wrapup(session, season.guild_id, "money", AFTER_SEASON)
    assert render_chart(wrapup).startswith(PNG_SIGNATURE)
    figure, _ = chart_figure(wrapup)
    assert figure.texts[0].get_text().startswith("Money $ Heist $")


async def test_a_long_season_is_readable(session: AsyncSession) -> None:
    votes = {n: (10,) * 3000 + (7,) * (40 * n) for n in range(1, 27)}
    season = Season(form=replace(METALLIC_ROUGE, episodes=26), votes=votes, titles={})
    wrapup = await season_wrapup(session, season, AFTER_SEASON.replace(year=2025))
    figure, _ = chart_figure(wrapup)
    assert len(bars(figure, "averages")) == 26
    assert texts(figure, 1)[0] == "3k" and texts(figure, 1)[-1] == "4k"  # 3,040 and 4,040 ratings


async def test_without_ratings_there_is_nothing_to_chart(session: AsyncSession) -> None:
    wrapup = await season_wrapup(session, Season(votes={}))
    with pytest.raises(ValueError, match="no ratings"):
        render_chart(wrapup)


async def test_rendering_happens_in_another_process(session: AsyncSession) -> None:
    wrapup = await season_wrapup(session, Season())
    renderer = ChartRenderer()
    try:
        renderer.warm()  # what the show autocomplete does while a member types
        renderer.warm()
        assert await renderer.run(os.getpid) != os.getpid()
        assert await renderer.render(wrapup) == render_chart(wrapup)  # same bytes, wherever drawn
        with pytest.raises(ValueError, match="no ratings"):
            await renderer.render(replace(wrapup, episodes=()))
    finally:
        renderer.close()
