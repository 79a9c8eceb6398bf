"""The wrap-up as members see it: an embed (with the chart as its image), a CSV, a reminder.

Every piece of member or moderator text goes through `safe` (no mentions, no markdown tricks)
and is clipped before it is escaped, so Discord's embed limits hold whatever was typed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import discord

from bot.render.text import clip, episode_label, join_lines, safe
from bot.services.survey import MORE_CHOICES
from bot.services.wrapup import HALF_STEPS, EpisodeStats, Favourite, Pick, WrapUp

COLOUR = discord.Colour(0xF0B232)
CHART_FILE = "wrapup.png"
TITLE_MAX, FIELD_MAX, DESCRIPTION_MAX, EMBED_MAX = 256, 1024, 4096, 6000
CHARACTER_SHOWN, MOMENT_SHOWN, VERDICT_SHOWN, EPISODE_TITLE_SHOWN = 60, 150, 150, 80


def stars(hundredths: int) -> str:
    return f"★ {hundredths / 100:.2f}"


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def episode_list(numbers: Sequence[int], limit: int = 4) -> str:
    """ "E03", "E03 and E07", "E01, E02, E05 and 3 more"."""
    labels = [episode_label(n) for n in numbers]
    if len(labels) > limit:
        labels = [*labels[:limit], f"{len(labels) - limit} more"]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def episode_heading(episode: EpisodeStats) -> str:
    title = f" · *{safe(clip(episode.title, EPISODE_TITLE_SHOWN))}*" if episode.title else ""
    return f"**{episode_label(episode.number)}**{title}"


def pick_text(pick: Pick) -> str:
    episode = pick.episode
    lines = [episode_heading(episode), f"{stars(pick.shown_average)} · {plural(episode.ratings, 'rating')}"]
    if pick.tied:
        lines.append(
            f"Tied: {episode_list([e.number for e in pick.episodes])}; "
            f"{episode_label(episode.number)} is shown for {pick.decided_by}."
        )
    return "\n".join(lines)


def score_text(wrapup: WrapUp) -> str:
    score = wrapup.shown_score
    if score is None:
        return "No ratings yet."
    rated = len(wrapup.rated)
    return (
        f"**{stars(score)}** / 5\n"
        f"mean of {plural(rated, 'episode average')} · {plural(wrapup.ratings, 'rating')} behind it"
    )


def worst_text(wrapup: WrapUp) -> str:
    if wrapup.worst is not None:
        return pick_text(wrapup.worst)
    if len(wrapup.rated) == 1:
        return "Only one episode has ratings so far."
    return "Every rated episode scored the same."


def participation_text(wrapup: WrapUp) -> str:
    if not wrapup.aired_count:
        return "Nothing has aired yet."
    counts = [e.ratings for e in wrapup.aired]
    low, high = min(counts, default=0), max(counts, default=0)
    per_episode = f"{low:,}" if low == high else f"{low:,}–{high:,}"
    lines = [f"**{wrapup.raters:,}** rated · {per_episode} ratings per aired episode"]
    if wrapup.complete:
        lines.append(f"**{wrapup.finished:,}** finished the season (all {wrapup.episode_count} marked watched)")
    else:
        lines.append(f"**{wrapup.caught_up:,}** caught up with the {plural(wrapup.aired_count, 'aired episode')}")
    return "\n".join(lines)


def discussed_text(wrapup: WrapUp) -> str:
    top = wrapup.most_discussed
    if top is None:
        return "No messages in the discussion threads yet."
    each = " each" if len(top.numbers) > 1 else ""
    return f"**{episode_list(top.numbers)}** · {plural(top.messages, 'message')}{each}"


def favourites_text(favourites: Sequence[Favourite], shown: int) -> str:
    lines = [
        f"{rank}. **{safe(clip(f.label, shown))}** · {plural(f.count, 'vote')}"
        for rank, f in enumerate(favourites, start=1)
    ]
    return join_lines(lines, FIELD_MAX)


def more_text(wrapup: WrapUp) -> str:
    survey = wrapup.survey
    share = survey.more_please
    if share is None:
        return "Nobody has said yet."
    counts = " · ".join(f"{choice} {survey.more.get(choice, 0)}" for choice in MORE_CHOICES)
    return f"**{round(share * 100)}%** more, please\n{counts}"


def verdicts_text(verdicts: Sequence[str]) -> str:
    return join_lines([f"> {safe(clip(v, VERDICT_SHOWN))}" for v in verdicts], FIELD_MAX)


def description(wrapup: WrapUp) -> str:
    parts = [safe(p) for p in (wrapup.season, wrapup.platform) if p]
    lines = [" · ".join([*parts, plural(wrapup.episode_count, "episode")])]
    if not wrapup.complete:
        lines.append(f"So far, {wrapup.aired_count} of {wrapup.episode_count} episodes have aired.")
    if not wrapup.rated:
        lines.append(
            "No ratings yet, so there is no chart: members rate each episode on the poll posted when it drops."
        )
    return "\n".join(lines)


def _field(embed: discord.Embed, name: str, value: str, inline: bool = True) -> None:
    embed.add_field(name=name, value=clip(value, FIELD_MAX) or "—", inline=inline)


def _survey_fields(embed: discord.Embed, wrapup: WrapUp) -> None:
    survey = wrapup.survey
    if survey.characters:
        _field(embed, "❤️ Favourite characters", favourites_text(survey.characters, CHARACTER_SHOWN))
    if survey.more_answers:
        _field(embed, "🔁 Would you like some more?", more_text(wrapup))
    if survey.moments:
        _field(embed, "✨ Favourite moments", favourites_text(survey.moments, MOMENT_SHOWN), inline=False)
    if survey.least_moments:
        _field(embed, "💢 Least favourite moments", favourites_text(survey.least_moments, MOMENT_SHOWN), inline=False)
    if survey.verdicts:
        _field(embed, "🗣️ The club's verdict", verdicts_text(survey.verdicts), inline=False)


def _fit(embed: discord.Embed) -> discord.Embed:
    """Drop fields from the end (the verdicts first) until the embed is within Discord's 6000."""
    while len(embed) > EMBED_MAX and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def wrapup_embed(wrapup: WrapUp, with_chart: bool | None = None) -> discord.Embed:
    """The wrap-up embed; its image is the chart attachment whenever there are ratings."""
    embed = discord.Embed(
        title=clip(f"🎬 {safe(clip(wrapup.title, 200))} — season wrap-up", TITLE_MAX),
        description=clip(description(wrapup), DESCRIPTION_MAX),
        colour=COLOUR,
        timestamp=wrapup.generated_at,
    )
    if wrapup.rated:
        _field(embed, "⭐ Season score", score_text(wrapup))
        if wrapup.best is not None:
            _field(embed, "🏆 Best episode", pick_text(wrapup.best))
        _field(embed, "🥀 Worst episode", worst_text(wrapup))
    _field(embed, "👥 Participation", participation_text(wrapup))
    _field(embed, "💬 Most discussed", discussed_text(wrapup))
    _survey_fields(embed, wrapup)
    answered = wrapup.survey.respondents
    embed.set_footer(
        text=f"{plural(answered, 'member')} answered the wrap-up questions · add yours with /season survey"
        if answered
        else "Nobody has answered the wrap-up questions yet · /season survey"
    )
    if with_chart if with_chart is not None else bool(wrapup.rated):
        embed.set_image(url=f"attachment://{CHART_FILE}")
    return _fit(embed)


# --- CSV ------------------------------------------------------------------------------------------

CSV_HEADER = [
    "episode",
    "title",
    "air_date",
    "aired",
    "average",
    "ratings",
    *(f"stars_{h / 2:.1f}" for h in range(1, HALF_STEPS + 1)),
    "messages",
]


def _cell(text: str) -> str:
    """Text that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def wrapup_csv(wrapup: WrapUp) -> bytes:
    """One row per episode (UTF-8 with a BOM, so spreadsheets read accented titles right)."""
    zone = ZoneInfo(wrapup.timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in wrapup.episodes:
        writer.writerow(
            [
                e.number,
                _cell(e.title or ""),
                e.air_at.astimezone(zone).date().isoformat(),
                "yes" if e.aired else "no",
                "" if e.shown_average is None else f"{e.shown_average / 100:.2f}",
                e.ratings,
                *e.histogram,
                "" if e.messages is None else e.messages,
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def csv_filename(wrapup: WrapUp) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", wrapup.title.casefold()).strip("-")[:60]
    return f"{slug or 'season'}-wrapup.csv"


# --- the reminder after the finale ---------------------------------------------------------------


def command_text(text: str) -> str:
    """Text for inside an inline code span (which cannot hold a backtick)."""
    return " ".join(text.replace("`", "ˋ").split())


def wrapup_ready_text(show_title: str) -> str:
    return (
        f"🎬 The season of **{safe(show_title)}** is complete — moderators can share the wrap-up with "
        f"`/season wrapup show:{command_text(show_title)} publish:true`\n"
        "Members can still add their answers first with `/season survey`."
    )
