"""Shows as members see them: the list, the series card, the week's schedule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import discord

from bot.render.text import clip, episode_label, join_lines, safe, ts, when
from bot.services.polls import SeasonScore
from bot.services.shows import Drop, EpisodeInfo, ShowInfo

COLOUR = discord.Colour.blurple()
EPISODE_WINDOW = 15


def score_text(score: SeasonScore | None) -> str:
    if score is None:
        return "no ratings yet"
    ratings = f"{score.ratings} rating{'s' if score.ratings != 1 else ''}"
    return f"★ {score.stars:.1f} ({ratings} over {score.rated_episodes} ep.)"


def show_line(show: ShowInfo, score: SeasonScore | None = None) -> str:
    head = f"**{safe(show.title)}**" + (f" · {safe(show.season)}" if show.season else "")
    progress = f"{show.aired_count}/{show.episode_count} aired"
    if show.paused:
        state = "⏸️ paused"
    elif show.finished:
        state = "✅ finished"
    else:
        upcoming = show.next_episode
        state = f"next: {episode_label(upcoming.number)} {when(upcoming.air_at)}" if upcoming else "—"
    rating = f" — {score_text(score)}" if score is not None else ""
    return f"{head} — {progress} — {state}{rating}"


def list_embed(shows: Sequence[ShowInfo], scores: Mapping[int, SeasonScore] | None = None) -> discord.Embed:
    embed = discord.Embed(title="The club's shows", colour=COLOUR)
    if not shows:
        embed.description = "No shows yet. A moderator adds one with `/show add`."
        return embed
    scores = scores or {}
    embed.description = join_lines([show_line(s, scores.get(s.id)) for s in shows], 4000)
    return embed


def episode_line(episode: EpisodeInfo) -> str:
    title = f" · {safe(clip(episode.title, 80))}" if episode.title else ""
    marks = []
    if episode.delayed:
        marks.append("moved")
    if episode.announced == "missed":
        marks.append("missed while offline")
    suffix = f" ({', '.join(marks)})" if marks else ""
    state = "✅" if episode.aired else "🗓️"
    return f"{state} {episode_label(episode.number)}{title} · {ts(episode.air_at, 'f')}{suffix}"


def _episode_window(show: ShowInfo) -> tuple[list[EpisodeInfo], int]:
    """Around the next episode when the list is long: a few aired, then the upcoming ones."""
    episodes = list(show.episodes)
    if len(episodes) <= EPISODE_WINDOW:
        return episodes, 0
    start = max(0, min(show.aired_count - 3, len(episodes) - EPISODE_WINDOW))
    return episodes[start : start + EPISODE_WINDOW], start


def info_embed(show: ShowInfo, score: SeasonScore | None = None) -> discord.Embed:
    embed = discord.Embed(title=safe(show.title), colour=COLOUR)
    if show.season:
        embed.add_field(name="Season", value=safe(show.season))
    embed.add_field(name="Platform", value=safe(show.platform) if show.platform else "—")
    embed.add_field(name="Episodes", value=f"{show.aired_count}/{show.episode_count} aired")
    embed.add_field(name="Rating so far", value=score_text(score))
    embed.add_field(name="Weekly slot", value=show.slot.describe())
    embed.add_field(name="Heads-up", value=f"{show.reminder_minutes} min before" if show.reminder_minutes else "none")
    if show.paused:
        embed.add_field(name="Status", value="⏸️ paused — `/show resume` restarts the drops")
    episodes, skipped = _episode_window(show)
    lines = [episode_line(e) for e in episodes]
    if skipped:
        lines.insert(0, f"…{skipped} earlier episodes")
    after = show.episode_count - skipped - len(episodes)
    if after > 0:
        lines.append(f"…{after} more episodes")
    embed.description = join_lines(lines, 4000)
    if show.breaks:
        embed.add_field(
            name="Break weeks", value=clip(", ".join(d.isoformat() for d in show.breaks), 1024), inline=False
        )
    return embed


def schedule_embed(drops: Sequence[Drop], now: datetime) -> discord.Embed:
    embed = discord.Embed(title="Drops in the next 7 days", colour=COLOUR)
    if not drops:
        embed.description = "Nothing drops in the next seven days."
        return embed
    lines = []
    for drop in drops:
        title = f" · {safe(clip(drop.title, 60))}" if drop.title else ""
        platform = f" · {safe(drop.platform)}" if drop.platform else ""
        finale = " · finale" if drop.number == drop.episode_count else ""
        lines.append(
            f"{when(drop.air_at)} — **{safe(drop.show_title)} {episode_label(drop.number)}**{title}{platform}{finale}"
        )
    embed.description = join_lines(lines, 4000)
    return embed
