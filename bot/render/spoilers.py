"""Thread names and spoiler text: the two places where user text meets Discord's markup."""

from __future__ import annotations

import re
import unicodedata

from bot.errors import UserError

THREAD_NAME_MAX = 100  # Discord counts UTF-16 code units
MESSAGE_MAX = 2000
SEPARATOR = " · "
ELLIPSIS = "…"
MIN_TITLE_ROOM = 4  # below this, an episode title is left out rather than cut to a stub

_MENTION = re.compile(r"@(everyone|here)")
_MENTION_TAG = re.compile(r"<(@[!&]?|#)(\d{15,21})>")
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def one_line(text: str) -> str:
    return " ".join(text.split())


def cut_utf16(text: str, budget: int) -> str:
    """The longest prefix of `text` within `budget` UTF-16 units, never splitting a character,
    and without a dangling joiner or variation selector at the end (half an emoji)."""
    used = 0
    out = []
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if used + size > budget:
            break
        out.append(char)
        used += size
    while out and (out[-1] in ("\u200d", "\ufe0f") or unicodedata.combining(out[-1])):
        out.pop()
    return "".join(out).rstrip()


def thread_name(show_title: str, number: int, episode_title: str | None) -> str:
    """`Show · E03 · Episode title`, at most 100 characters: the episode title is shortened,
    never the show or the episode number."""
    head = f"{one_line(show_title)}{SEPARATOR}E{number:02d}"
    if not episode_title or not one_line(episode_title):
        return cut_utf16(head, THREAD_NAME_MAX)
    title = one_line(episode_title)
    room = THREAD_NAME_MAX - utf16_len(head) - utf16_len(SEPARATOR)
    if utf16_len(title) <= room:
        return f"{head}{SEPARATOR}{title}"
    if room < MIN_TITLE_ROOM:
        return cut_utf16(head, THREAD_NAME_MAX)
    return f"{head}{SEPARATOR}{cut_utf16(title, room - 1)}{ELLIPSIS}"


def tag_name(show_title: str) -> str:
    """A forum tag for the show (tag names are at most 20 characters)."""
    return cut_utf16(one_line(show_title), 20)


def neutralise_mentions(text: str) -> str:
    """Mentions that would render as pings become inert text (a zero-width space inside)."""
    text = _MENTION_TAG.sub(lambda m: f"<{m.group(1)}\u200b{m.group(2)}>", text)
    return _MENTION.sub("@\u200b\\1", text)


def _escape_plain(text: str) -> str:
    # In plain text a `|` could close our spoiler early and a lone backtick could open a code
    # span that swallows the closing `||`; both are escaped, so they show as typed.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")


def spoiler_body(text: str) -> str:
    """`text` inside `||…||` that nothing in it can break out of.

    Balanced code spans and blocks are kept (Discord spoilers can hold them, and a `||`
    inside code is inert); everything else has its pipes and stray backticks escaped.
    """
    parts = []
    position = 0
    for match in _CODE.finditer(text):
        parts.append(_escape_plain(text[position : match.start()]))
        code = match.group(0)
        if code.startswith("```") and not code.endswith("\n```"):
            code = code[:-3] + "\n```"  # a closing fence on its own line renders reliably
        parts.append(code)
        position = match.end()
    parts.append(_escape_plain(text[position:]))
    return f"||{neutralise_mentions(''.join(parts))}||"


def spoiler_message(header: str, text: str, author_id: int) -> str:
    """The full `/spoiler` message, or a UserError when it would not fit in one message."""
    if not text.strip():
        raise UserError("Write the spoiler in `text`; it can't be empty.")
    body = spoiler_body(text.strip())
    content = f"{header} — shared by <@{author_id}>\n{body}"
    if len(content) > MESSAGE_MAX:
        over = len(content) - MESSAGE_MAX
        raise UserError(
            f"That spoiler is too long by {over} characters (the message limit is {MESSAGE_MAX}, "
            "and hidden characters like `|` count double). Shorten it or split it in two."
        )
    return content
