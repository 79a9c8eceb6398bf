"""Text helpers: safe user text, Discord timestamps, episode labels."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import discord

_MENTION = re.compile(r"@(everyone|here|[!&]?\d{15,21})")
_MENTION_TAG = re.compile(r"<(@[!&]?|#)(\d{15,21})>")


def safe(text: str) -> str:
    """User-provided text made inert: no markdown tricks, no mentions (even where allowed)."""
    escaped = discord.utils.escape_markdown(text)
    escaped = _MENTION_TAG.sub(lambda m: f"<{m.group(1)}\u200b{m.group(2)}>", escaped)
    return _MENTION.sub("@\u200b\\1", escaped)


def ts(instant: datetime, style: str = "F") -> str:
    """Discord timestamp markup: every member sees their own local time."""
    return discord.utils.format_dt(instant.astimezone(UTC), style=style)  # type: ignore[arg-type]


def when(instant: datetime) -> str:
    return f"{ts(instant, 'F')} ({ts(instant, 'R')})"


def episode_label(number: int) -> str:
    return f"E{number:02d}"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def join_lines(lines: list[str], limit: int) -> str:
    """Join lines up to `limit` characters, saying how many were left out."""
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        remaining = len(lines) - index
        tail = f"…and {remaining} more"
        if used + len(line) + 1 > limit - len(tail) - 1 and remaining > 0:
            out.append(tail)
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)
