"""The heads-up and the drop announcement (plain text: readable without Embed Links)."""

from __future__ import annotations

from bot.render.text import clip, episode_label, safe, ts
from bot.services.drops import DropContext


def episode_heading(context: DropContext) -> str:
    return f"{safe(context.show_title)} {episode_label(context.episode_number)}"


def heads_up(context: DropContext) -> str:
    platform = f" on {safe(context.platform)}" if context.platform else ""
    title = f" · *{safe(clip(context.episode_title, 150))}*" if context.episode_title else ""
    finale = " — the finale!" if context.is_finale else ""
    return f"⏰ **{episode_heading(context)}** drops {ts(context.air_at, 'R')}{platform}{title}{finale}"


def message_url(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def announcement(context: DropContext) -> str:
    """The drop announcement; the thread and poll lines appear once those exist."""
    lines = []
    ping = f"<@&{context.ping_role_id}> " if context.ping_role_id else ""
    lines.append(f"{ping}📺 **{episode_heading(context)}** is out!")
    details = []
    if context.episode_title:
        details.append(f"*{safe(clip(context.episode_title, 200))}*")
    if context.season:
        details.append(safe(context.season))
    if context.platform:
        details.append(f"on {safe(context.platform)}")
    details.append(f"dropped {ts(context.air_at, 'F')}")
    lines.append(" · ".join(details))
    if context.is_finale:
        lines.append(f"🎬 This was the finale of {safe(context.show_title)} — thanks for watching together!")
    if context.late:
        lines.append(f"⏱️ Posted late: it dropped {ts(context.air_at, 'R')} while I was offline.")
    if context.thread is not None:
        lines.append(f"💬 Discussion (spoilers!): <#{context.thread.message_id}>")
    poll = context.done.get("poll")
    if poll is not None:
        lines.append(f"⭐ Rate it: {message_url(context.guild_id, poll.channel_id, poll.message_id)}")
    return "\n".join(lines)
