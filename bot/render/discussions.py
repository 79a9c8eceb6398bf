"""Replies about members' progress."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord

from bot.render.text import episode_label, join_lines, safe, ts
from bot.services.discussions import ProgressUpdate, ShowProgress


def watched_reply(update: ProgressUpdate, joined: Sequence[int]) -> str:
    title = safe(update.show_title)
    lines = [f"Got it: you've watched **{title}** up to {episode_label(update.episode_number)}."]
    if update.previous is not None and update.previous > update.episode_number:
        lines.append(f"(Corrected from {episode_label(update.previous)}; you stay in the threads you're in.)")
    if joined:
        links = ", ".join(f"<#{thread_id}>" for thread_id in joined)
        lines.append(f"Added you to {len(joined)} discussion thread{'s' if len(joined) != 1 else ''}: {links}")
    missing = len(update.threads_to_join) - len(joined)
    if missing > 0:
        lines.append(f"{missing} thread(s) could not be joined (deleted or archived by a moderator).")
    if update.episode_number < update.aired_count:
        lines.append(f"{update.aired_count - update.episode_number} more aired episode(s) to catch up on.")
    return "\n".join(lines)


def progress_line(show: ShowProgress, now: datetime) -> str:
    title = f"**{safe(show.show_title)}**"
    watched = f"watched {episode_label(show.watched)}" if show.watched else "not started"
    head = f"{title}: {watched} · {show.aired_count}/{show.episode_count} aired"
    if show.next_to_watch is None:
        return f"{head} · ✅ all done"
    label = episode_label(show.next_to_watch)
    if show.next_to_watch <= show.aired_count:
        return f"{head} · next for you: {label} (out since {ts(show.next_air_at, 'R')})" if show.next_air_at else head
    if show.paused:
        return f"{head} · caught up; the show is paused"
    when = f" drops {ts(show.next_air_at, 'R')}" if show.next_air_at else ""
    return f"{head} · caught up; {label}{when}"


def progress_embed(shows: Sequence[ShowProgress], now: datetime) -> discord.Embed:
    embed = discord.Embed(title="Your progress", colour=discord.Colour.blurple())
    if not shows:
        embed.description = "The club has no shows yet."
        return embed
    embed.description = join_lines([progress_line(show, now) for show in shows], 4000)
    embed.set_footer(text="Update it with /watched; only you can see this.")
    return embed
