"""Thread names and spoiler wrapping: what members see, and what they can't break."""

from __future__ import annotations

import re

import pytest

from bot.errors import UserError
from bot.render.spoilers import (
    MESSAGE_MAX,
    THREAD_NAME_MAX,
    spoiler_body,
    spoiler_message,
    tag_name,
    thread_name,
    utf16_len,
)

SHOW = "Metallic Rouge"


def test_thread_name_with_and_without_episode_title() -> None:
    assert thread_name(SHOW, 3, "Crimson Is the Sound of Dawn") == "Metallic Rouge · E03 · Crimson Is the Sound of Dawn"
    assert thread_name(SHOW, 3, None) == "Metallic Rouge · E03"
    assert thread_name(SHOW, 3, "   ") == "Metallic Rouge · E03"
    assert thread_name(SHOW, 123, None) == "Metallic Rouge · E123"


def test_long_episode_titles_are_shortened_never_the_show_or_number() -> None:
    name = thread_name(SHOW, 7, "A" * 300)
    assert utf16_len(name) <= THREAD_NAME_MAX
    assert name.startswith("Metallic Rouge · E07 · AAA")
    assert name.endswith("…")


def test_a_maximal_show_title_keeps_show_and_number() -> None:
    long_show = "S" * 80
    name = thread_name(long_show, 12, "Some episode title that cannot fit")
    assert name.startswith(long_show + " · E12")
    assert utf16_len(name) <= THREAD_NAME_MAX


def test_emoji_are_counted_as_discord_counts_them_and_never_cut_in_half() -> None:
    title = "👩‍👩‍👧‍👦" * 40  # family emoji: 11 UTF-16 units each
    name = thread_name(SHOW, 1, title)
    assert utf16_len(name) <= THREAD_NAME_MAX
    assert not name.rstrip("…").endswith("\u200d")
    name.encode("utf-8")  # no lone surrogates


def test_markdown_and_newlines_in_titles_stay_one_plain_line() -> None:
    name = thread_name(SHOW, 2, "**Wander**\n in the _Labyrinth_")
    assert name == "Metallic Rouge · E02 · **Wander** in the _Labyrinth_"


def test_tag_names_fit_discords_limit() -> None:
    assert tag_name("Metallic Rouge") == "Metallic Rouge"
    assert len(tag_name("The Apothecary Diaries Season Two")) <= 20


def visible_spoiler(body: str) -> bool:
    """True when the whole body is one spoiler: starts with ||, ends with ||, and no
    unescaped || in between (outside code)."""
    inner = body[2:-2]
    without_code = re.sub(r"```.*?```|`[^`\n]+`", "", inner, flags=re.DOTALL)
    unescaped = re.sub(r"\\.", "", without_code)
    return body.startswith("||") and body.endswith("||") and "||" not in unescaped


@pytest.mark.parametrize(
    "text",
    [
        "Rouge is a Nean",
        "ends here|| and this is visible ||",
        "|||||",
        "trailing pipe |",
        "`unclosed code",
        "```py\nprint('x')\n```",
        "inline `a || b` code",
        "```\nno language||\n``` then || text",
        "\\|| escaped already",
    ],
)
def test_nothing_breaks_out_of_the_spoiler(text: str) -> None:
    assert visible_spoiler(spoiler_body(text))


def test_code_blocks_are_kept() -> None:
    body = spoiler_body("look: ```py\nprint(1)```")
    assert "```py\nprint(1)\n```" in body


def test_mentions_ping_nobody_and_look_inert() -> None:
    body = spoiler_body("@everyone @here <@123456789012345678> <@&123456789012345678>")
    assert "@everyone" not in body
    assert "@here" not in body
    assert "<@123456789012345678>" not in body
    assert "<@&123456789012345678>" not in body


def test_message_has_header_author_and_body() -> None:
    content = spoiler_message("**Spoiler · Metallic Rouge · E05**", "Sarah is Violet", 42)
    first, second = content.split("\n", 1)
    assert first == "**Spoiler · Metallic Rouge · E05** — shared by <@42>"
    assert second == "||Sarah is Violet||"


def test_too_long_and_empty_are_refused() -> None:
    with pytest.raises(UserError, match="too long"):
        spoiler_message("h", "|" * 1000, 1)  # escaping doubles it past the limit
    with pytest.raises(UserError, match="empty"):
        spoiler_message("h", "   ", 1)
    ok = spoiler_message("h", "x" * 1900, 1)
    assert len(ok) <= MESSAGE_MAX
