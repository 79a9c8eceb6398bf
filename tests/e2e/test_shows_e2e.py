"""Issue 3 end to end, the commands: adding, listing, the week's schedule, removing with a confirm."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.conftest import WatchClub
from tests.e2e.test_drops_e2e import DROP, add_show, setup_club

THREE_DAYS_BEFORE = DROP - timedelta(days=3)


async def test_list_info_schedule_and_autocomplete(watchclub: WatchClub) -> None:
    s = watchclub.server
    await watchclub.start(clock_start=THREE_DAYS_BEFORE)
    await setup_club(watchclub)
    await add_show(watchclub)
    stamp = f"<t:{int(DROP.timestamp())}:F>"

    listed = await s.fake.slash(s.guild, s.bob, "show list")
    line = listed.embeds[0]["description"]
    assert "**Metallic Rouge** · Winter 2024 — 0/13 aired — next: E01" in line
    assert stamp in line
    assert f"<t:{int(DROP.timestamp())}:R>" in line

    info = await s.fake.slash(s.guild, s.bob, "show info", show="metallic")
    fields = {f["name"]: f["value"] for f in info.embeds[0]["fields"]}
    assert fields["Weekly slot"] == "Thursdays at 23:30 (America/New_York)"
    assert fields["Platform"] == "Crunchyroll"
    assert info.embeds[0]["description"].count("🗓️") == 13

    week = await s.fake.slash(s.guild, s.bob, "schedule")
    assert week.ephemeral
    assert "**Metallic Rouge E01**" in week.embeds[0]["description"]
    assert stamp in week.embeds[0]["description"]

    choices = await s.fake.autocomplete(s.guild, s.bob, "show info", "show", "ROUGE")
    assert choices.choice_names == ["Metallic Rouge"]

    refused = await s.fake.slash(s.guild, s.bob, "show pause", show="Metallic Rouge")
    assert refused.ephemeral
    assert "moderators" in refused.content


async def test_bad_inputs_get_clear_private_answers(watchclub: WatchClub) -> None:
    s = watchclub.server
    await watchclub.start(clock_start=THREE_DAYS_BEFORE)
    await setup_club(watchclub)
    await add_show(watchclub)
    cases = [
        ({"title": "Metallic Rouge"}, "already a show"),
        ({"title": "Frieren", "time": "7pm"}, "HH:MM"),
        ({"title": "Frieren", "timezone": "Mars/Base"}, "timezone"),
        ({"title": "Frieren", "start": "next week"}, "YYYY-MM-DD"),
    ]
    for change, needle in cases:
        options = {"title": "Frieren", "episodes": 28, "weekday": "Friday", "time": "10:00", **change}
        reply = await s.fake.slash(s.guild, s.mod, "show add", **options)
        assert reply.ephemeral, change
        assert needle in reply.content, (change, reply.content)
    rows = await watchclub.query("SELECT title FROM show")
    assert [r[0] for r in rows] == ["Metallic Rouge"]
    delay = await s.fake.slash(s.guild, s.mod, "show delay", show="Metallic Rouge", episode=2, to="tomorrow")
    assert delay.ephemeral
    assert "YYYY-MM-DD HH:MM" in delay.content
    unknown = await s.fake.slash(s.guild, s.mod, "show info", show="Frieren")
    assert "no show called" in unknown.content


async def test_remove_asks_to_confirm(watchclub: WatchClub) -> None:
    s = watchclub.server
    await watchclub.start(clock_start=THREE_DAYS_BEFORE)
    await setup_club(watchclub)
    await add_show(watchclub)
    asked = await s.fake.slash(s.guild, s.mod, "show remove", show="Metallic Rouge")
    assert asked.ephemeral
    assert asked.message is not None
    keep = next(b for b in asked.message.buttons() if b["label"] == "Keep it")
    kept = await s.fake.click(asked.message, keep["custom_id"], s.mod)
    assert "nothing changed" in (kept.message.content if kept.message else kept.content)
    assert len(await watchclub.query("SELECT id FROM show")) == 1

    again = await s.fake.slash(s.guild, s.mod, "show remove", show="Metallic Rouge")
    assert again.message is not None
    remove = next(b for b in again.message.buttons() if b["label"] == "Remove it")
    await s.fake.click(again.message, remove["custom_id"], s.mod)
    assert await watchclub.query("SELECT id FROM show") == []
    assert await watchclub.query("SELECT id FROM episode") == []
