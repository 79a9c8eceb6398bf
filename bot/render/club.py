"""The club configuration as an embed."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.render.text import episode_label, safe, ts
from bot.services.club import ClubSettings
from bot.services.drops import ActionProblem

ACTION_NAMES = {
    "reminder": "heads-up",
    "announce": "announcement",
    "thread": "discussion thread",
    "poll": "rating poll",
    "poll_close": "poll closing",
}

OK_COLOUR = discord.Colour.green()
PROBLEM_COLOUR = discord.Colour.orange()


def club_embed(club: ClubSettings, problems: Sequence[str]) -> discord.Embed:
    discussions = "forum, one post per episode" if club.discussion_kind == "forum" else "text, one thread per episode"
    embed = discord.Embed(
        title="Watch club configuration",
        colour=PROBLEM_COLOUR if problems else OK_COLOUR,
    )
    embed.add_field(name="Announcements", value=f"<#{club.announcement_channel_id}>", inline=True)
    embed.add_field(name="Discussions", value=f"<#{club.discussion_channel_id}> ({discussions})", inline=True)
    embed.add_field(name="Ping role", value=f"<@&{club.ping_role_id}>" if club.ping_role_id else "none", inline=True)
    embed.add_field(name="Timezone", value=club.timezone, inline=True)
    embed.add_field(
        name="Rating polls", value=f"close at the next drop, or after {club.poll_close_days} days", inline=True
    )
    if club.moderator_role_id:
        embed.add_field(name="Moderator role", value=f"<@&{club.moderator_role_id}>", inline=True)
    if problems:
        text = "\n".join(f"• {problem}" for problem in problems)
        embed.add_field(name=f"Problems ({len(problems)})", value=_clip(text, 1024), inline=False)
    else:
        embed.add_field(name="Problems", value="None that I can see.", inline=False)
    return embed


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def action_problem_line(problem: ActionProblem) -> str:
    what = ACTION_NAMES.get(problem.kind, problem.kind)
    state = {"retry": "I'll retry", "failed": "gave up after retrying", "done": "done anyway"}.get(problem.status, "")
    return (
        f"{safe(problem.show_title)} {episode_label(problem.episode_number)} {what} ({ts(problem.at, 'R')}): "
        f"{problem.reason} — {state}"
    )
