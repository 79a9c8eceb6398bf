"""Issue 2 end to end: /club setup and /club show through the real bot process."""

from __future__ import annotations

from tests.e2e.conftest import WatchClub
from tests.e2e.fakediscord import P


async def test_setup_with_forum_and_timezone_then_show_it_back(watchclub: WatchClub) -> None:
    s = watchclub.server
    await watchclub.start()
    reply = await s.fake.slash(
        s.guild,
        s.mod,
        "club setup",
        announcements=s.announcements,
        discussions=s.forum,
        ping_role=s.watchers,
        timezone="America/New_York",
    )
    assert reply.ephemeral
    assert "Saved" in reply.content
    shown = await s.fake.slash(s.guild, s.mod, "club show")
    assert shown.ephemeral
    fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
    assert fields["Announcements"] == f"<#{s.announcements.id}>"
    assert fields["Discussions"].startswith(f"<#{s.forum.id}> (forum")
    assert fields["Ping role"] == f"<@&{s.watchers.id}>"
    assert fields["Timezone"] == "America/New_York"
    problems = next(v for k, v in fields.items() if k.startswith("Problems"))
    assert 'no "Spoilers" tag' in problems  # the forum has none and I can't create it
    s.forum.add_tag("Spoilers")
    again = await s.fake.slash(s.guild, s.mod, "club show")
    fields = {f["name"]: f["value"] for f in again.embeds[0]["fields"]}
    assert fields["Problems"] == "None that I can see."
    rows = await watchclub.query("SELECT discussion_kind, timezone, ping_role_id FROM club_config")
    assert [tuple(r) for r in rows] == [("forum", "America/New_York", s.watchers.id)]


async def test_non_moderator_is_refused_privately(watchclub: WatchClub) -> None:
    s = watchclub.server
    await watchclub.start()
    reply = await s.fake.slash(
        s.guild, s.bob, "club setup", announcements=s.announcements, discussions=s.forum, force=True
    )
    assert reply.ephemeral
    assert "Manage Server" in reply.content
    assert await watchclub.query("SELECT * FROM club_config") == []


async def test_unknown_timezone_gets_a_suggestion(watchclub: WatchClub) -> None:
    s = watchclub.server
    await watchclub.start()
    reply = await s.fake.slash(
        s.guild, s.mod, "club setup", announcements=s.announcements, discussions=s.forum, timezone="Europe/Londn"
    )
    assert reply.ephemeral
    assert "Europe/London" in reply.content
    assert await watchclub.query("SELECT * FROM club_config") == []


async def test_timezone_autocomplete(watchclub: WatchClub) -> None:
    s = watchclub.server
    await watchclub.start()
    choices = await s.fake.autocomplete(s.guild, s.mod, "club setup", "timezone", "new yo")
    assert choices.choice_names[0] == "America/New_York"


async def test_configuration_survives_a_restart_without_resyncing(watchclub: WatchClub) -> None:
    s = watchclub.server
    bot = await watchclub.start()
    await s.fake.slash(s.guild, s.mod, "club setup", announcements=s.announcements, discussions=s.chat)
    assert await bot.terminate() == 0  # SIGTERM: a clean shutdown
    await bot.start_and_wait_ready(timeout=60)
    shown = await s.fake.slash(s.guild, s.mod, "club show")
    fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
    assert fields["Discussions"].startswith(f"<#{s.chat.id}> (text")
    assert s.fake.sync_count(s.guild) == 1  # unchanged commands are not synced again
    assert "Traceback" not in bot.log_text()


async def test_show_lists_missing_permissions(watchclub: WatchClub) -> None:
    s = watchclub.server
    await watchclub.start()
    s.announcements.deny_bot(P.SEND_MESSAGES)
    s.forum.deny_bot(P.MANAGE_THREADS)
    await s.fake.slash(s.guild, s.mod, "club setup", announcements=s.announcements, discussions=s.forum)
    shown = await s.fake.slash(s.guild, s.mod, "club show")
    problems = next(f["value"] for f in shown.embeds[0]["fields"] if f["name"].startswith("Problems"))
    assert "Send Messages" in problems
    assert "Manage Threads" in problems


async def test_commands_need_a_club_first(watchclub: WatchClub) -> None:
    s = watchclub.server
    await watchclub.start()
    listed = await s.fake.slash(s.guild, s.bob, "show list")
    assert "No shows yet" in listed.embeds[0]["description"]
    added = await s.fake.slash(
        s.guild, s.mod, "show add", title="Metallic Rouge", episodes=13, weekday="Thursday", time="23:30"
    )
    assert added.ephemeral
    assert "/club setup" in added.content
    shown = await s.fake.slash(s.guild, s.mod, "club show")
    assert shown.ephemeral
    assert "/club setup" in shown.content
