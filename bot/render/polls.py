"""Rating polls as members see them: stars, the live poll, the final result, vote replies."""

from __future__ import annotations

import discord

from bot.render.text import episode_label, safe, ts
from bot.services.polls import HALF_STARS, PollInfo, PollStats
from bot.services.votes import VoteReceipt

OPEN_COLOUR = discord.Colour.gold()
CLOSED_COLOUR = discord.Colour.dark_grey()
BAR_WIDTH = 20
FULL, HALF = "★", "½"


def stars(half_stars: int) -> str:
    """1 → "½ ★", 2 → "★", 7 → "★★★½", 10 → "★★★★★"."""
    full, half = divmod(half_stars, 2)
    if full == 0:
        return f"{HALF} {FULL}"
    return FULL * full + (HALF if half else "")


def stars_number(half_stars: int) -> str:
    """1 → "0.5", 8 → "4"."""
    return f"{half_stars / 2:g}"


def option_description(half_stars: int) -> str:
    return f"{stars_number(half_stars)} star" + ("" if half_stars == 2 else "s")


def average_line(stats: PollStats) -> str:
    """ "★ 3.8 · 42 ratings", or "No ratings yet"."""
    if stats.average is None:
        return "No ratings yet"
    noun = "rating" if stats.count == 1 else "ratings"
    return f"★ {stats.average:.1f} · {stats.count} {noun}"


def poll_title(poll: PollInfo) -> str:
    return f"Rate {safe(poll.show_title)} {episode_label(poll.episode_number)}"


def poll_embed(poll: PollInfo, stats: PollStats) -> discord.Embed:
    """The live poll: average and count so far, and when it closes."""
    embed = discord.Embed(title=poll_title(poll), colour=OPEN_COLOUR)
    embed.description = (
        f"**{average_line(stats)}**\n\n"
        "Pick ½ to 5 stars below; you can change your rating until the poll closes "
        f"{ts(poll.closes_at, 'R')}. Ratings are anonymous."
    )
    return embed


def histogram(stats: PollStats) -> str:
    """One bar per half-star value, 5 stars first, in a code block so the bars line up."""
    top = max(stats.histogram)
    lines = []
    for value in reversed(HALF_STARS):
        count = stats.histogram[value - 1]
        bar = "█" * round(BAR_WIDTH * count / top) if top else ""
        if count and not bar:
            bar = "▏"
        lines.append(f"{stars_number(value):>3} {bar + ' ' if bar else ''}{count}")
    return "```\n" + "\n".join(lines) + "\n```"


def closed_poll_embed(poll: PollInfo, stats: PollStats) -> discord.Embed:
    """The final result: average, count and the histogram; the poll takes no more votes."""
    embed = discord.Embed(
        title=f"{safe(poll.show_title)} {episode_label(poll.episode_number)} · final rating",
        colour=CLOSED_COLOUR,
    )
    if stats.average is None:
        embed.description = f"Nobody rated this episode. The poll closed {ts(poll.closed_on, 'f')}."
        return embed
    embed.description = f"**{average_line(stats)}**\nThe poll closed {ts(poll.closed_on, 'f')}.\n{histogram(stats)}"
    return embed


def vote_reply(receipt: VoteReceipt, show_title: str | None = None) -> str:
    """The private answer to a vote, sent once it is stored (`/rate` names the show too)."""
    episode = episode_label(receipt.episode_number)
    if show_title is not None:
        episode = f"{safe(show_title)} {episode}"
    until = ts(receipt.closes_at, "R")
    if receipt.half_stars is not None:
        return f"You rated {episode} {stars(receipt.half_stars)} — change it any time until {until}."
    if receipt.removed:
        return f"Removed your rating of {episode}. You can rate it again until {until}."
    return f"You hadn't rated {episode}, so there was nothing to remove."
