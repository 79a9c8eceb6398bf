"""Issues 3 and 4 end to end: drops announced once, on time, late after downtime; threads.

The bot's clock starts a little before a Thursday 23:30 (America/New_York) drop through the
test-only WATCHCLUB_CLOCK_START setting, so a real drop happens seconds into the test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import WatchClub
from tests.e2e.fakediscord import FileUpload, Message, P, TextChannel

DROP = datetime(2024, 1, 12, 4, 30, tzinfo=UTC)  # Thursday 2024-01-11 23:30 in New York
WEEK = timedelta(days=7)
# Enough for the bot to boot and the moderator to set things up before the drop.
LEAD = timedelta(seconds=20)
DROP_WAIT = 60.0


async def setup_club(watchclub: WatchClub, discussions: TextChannel | None = None) -> None:
    s = watchclub.server
    reply = await s.fake.slash(
        s.guild,
        s.mod,
        "club setup",
        announcements=s.announcements,
        discussions=discussions or s.forum,
        ping_role=s.watchers,
        timezone="America/New_York",
    )
    assert "Saved" in reply.content, reply.content


async def add_show(watchclub: WatchClub, title: str = "Metallic Rouge", reminder: int = 0) -> None:
    s = watchclub.server
    reply = await s.fake.slash(
        s.guild,
        s.mod,
        "show add",
        title=title,
        episodes=13,
        weekday="Thursday",
        time="23:30",
        start="2024-01-11",
        platform="Crunchyroll",
        season="Winter 2024",
        reminder=reminder,
    )
    assert reply.content.startswith("Added"), reply.content


def bot_messages(channel: TextChannel, needle: str) -> list[Message]:
    return [m for m in channel.history() if m.author.bot and needle in m.content]


async def test_heads_up_and_announcement_arrive_once_pinging_only_the_role(watchclub: WatchClub) -> None:
    s = watchclub.server
    s.forum.allow_bot(P.MANAGE_CHANNELS)  # so the bot can create the forum's tags
    await watchclub.start(clock_start=DROP - LEAD)
    await setup_club(watchclub)
    await add_show(watchclub, title="Metallic Rouge @everyone", reminder=1)

    heads_up = await s.fake.wait_for_message(s.announcements, lambda m: "drops" in m.content, timeout=15)
    assert "Metallic Rouge @\u200beveryone E01" in heads_up.content
    assert "on Crunchyroll" in heads_up.content
    announcement = await s.fake.wait_for_message(s.announcements, lambda m: "is out" in m.content, timeout=DROP_WAIT)
    assert announcement.content.startswith(f"<@&{s.watchers.id}>")
    assert announcement.mention_roles == [s.watchers.id]
    assert not announcement.mention_everyone
    assert announcement.mentions == []

    # the forum post, tagged (tags created), linked from the announcement
    post = await s.fake.wait_for(lambda: next(iter(s.forum.threads), None), timeout=15)
    assert post.name == "Metallic Rouge @everyone · E01"
    tag_names = {t.name for t in s.forum.available_tags if t.id in post.applied_tags}
    assert tag_names == {"Spoilers", "Metallic Rouge @ever"}
    first = post.starter_message
    assert first is not None
    assert "Spoilers for Metallic Rouge @\u200beveryone up to episode 1" in first.content
    assert announcement.jump_url.split("/")[-1] in first.content
    await s.fake.wait_for(lambda: f"<#{post.id}>" in (s.fake.message(announcement.id).content or ""), timeout=15)

    # exactly once each, even after a second look
    await s.fake.slash(s.guild, s.bob, "show list")
    assert len(bot_messages(s.announcements, "drops <t:")) == 1
    assert len(bot_messages(s.announcements, "is out")) == 1
    assert len(s.forum.threads) == 1
    await watchclub.wait_for_rows("SELECT 1 FROM drop_action WHERE kind = 'thread' AND status = 'done'")
    rows = await watchclub.query("SELECT kind, status, late FROM drop_action ORDER BY id")
    statuses = {kind: (status, bool(late)) for kind, status, late in rows}
    assert statuses["reminder"] == ("done", False)
    assert statuses["announce"] == ("done", False)
    assert statuses["thread"][0] == "done"


async def test_text_channel_drop_opens_one_thread_from_the_announcement(watchclub: WatchClub) -> None:
    s = watchclub.server
    await watchclub.start(clock_start=DROP - LEAD)
    await setup_club(watchclub, discussions=s.announcements)
    await add_show(watchclub)
    await s.fake.slash(
        s.guild, s.mod, "show title", show="Metallic Rouge", episode=1, title="Crimson Is the Sound of Dawn"
    )
    announcement = await s.fake.wait_for_message(s.announcements, lambda m: "is out" in m.content, timeout=DROP_WAIT)
    thread = await s.fake.wait_for(lambda: s.fake.world.channels.get(announcement.id), timeout=15)
    assert thread.name == "Metallic Rouge · E01 · Crimson Is the Sound of Dawn"
    assert thread.type == 11  # public
    warning = await s.fake.wait_for_message(thread, lambda m: "Spoilers for" in m.content, timeout=15)
    assert "up to episode 1 — catch up first!" in warning.content
    assert len([t for t in s.announcements.threads]) == 1


async def test_refused_announcement_is_shown_to_moderators_and_the_post_still_opens(watchclub: WatchClub) -> None:
    s = watchclub.server
    for index in range(20):  # a forum already full of tags
        s.forum.add_tag(f"tag {index}")
    await watchclub.start(clock_start=DROP - LEAD)
    await setup_club(watchclub)
    await add_show(watchclub)
    s.announcements.deny_bot(P.SEND_MESSAGES)

    post = await s.fake.wait_for(lambda: next(iter(s.forum.threads), None), timeout=DROP_WAIT)
    assert post.name == "Metallic Rouge · E01"
    assert post.applied_tags == []
    await s.fake.wait_for_request(
        "POST", "/channels/{channel_id}/messages", status=403, channel_id=s.announcements.id, timeout=15
    )
    await watchclub.wait_for_rows("SELECT 1 FROM drop_action WHERE kind = 'thread' AND status = 'done'")
    await watchclub.wait_for_rows("SELECT 1 FROM drop_action WHERE kind = 'announce' AND status = 'retry'")
    shown = await s.fake.slash(s.guild, s.mod, "club show")
    problems = next(f["value"] for f in shown.embeds[0]["fields"] if f["name"].startswith("Problems"))
    assert "Send Messages" in problems  # the live permission check
    assert "E01 announcement" in problems and "403" in problems  # what happened at the drop
    assert "20 tags" in problems
    assert bot_messages(s.announcements, "is out") == []


async def test_killed_across_a_drop_announces_once_marked_late(watchclub: WatchClub) -> None:
    s = watchclub.server
    bot = await watchclub.start(clock_start=DROP - LEAD)
    await setup_club(watchclub)
    await add_show(watchclub)
    await bot.kill()  # before the drop

    await watchclub.start(clock_start=DROP + timedelta(minutes=5))
    announcement = await s.fake.wait_for_message(s.announcements, lambda m: "is out" in m.content, timeout=30)
    assert "Posted late" in announcement.content
    await s.fake.wait_for(lambda: next(iter(s.forum.threads), None), timeout=15)
    second = watchclub.processes[-1]
    await second.kill()

    await watchclub.start(clock_start=DROP + timedelta(minutes=7))
    await s.fake.slash(s.guild, s.mod, "show list")  # the bot is up and has looked again
    assert len(bot_messages(s.announcements, "is out")) == 1
    assert len(s.forum.threads) == 1
    rows = await watchclub.query("SELECT status, late FROM drop_action WHERE kind = 'announce'")
    assert [(status, bool(late)) for status, late in rows] == [("done", True)]


async def test_watched_joins_the_threads_up_to_that_episode(watchclub: WatchClub) -> None:
    s = watchclub.server
    bot = await watchclub.start(clock_start=DROP - LEAD)
    await setup_club(watchclub)
    await add_show(watchclub)
    await bot.kill()

    # back after E03's drop: E01 and E02 are missed (no announcement) but get their threads
    await watchclub.start(clock_start=DROP + 2 * WEEK + timedelta(minutes=2))
    await s.fake.wait_for(lambda: len(s.forum.threads) == 3 or None, timeout=30)
    assert len(bot_messages(s.announcements, "is out")) == 1  # only E03, marked late

    reply = await s.fake.slash(s.guild, s.bob, "watched", show="Metallic Rouge", episode=3)
    message = await reply.wait_followup() if reply.deferred else reply
    assert "Added you to 3 discussion threads" in message.content
    for thread in s.forum.threads:
        assert s.bob.id in thread.members
    assert s.carol.id not in next(iter(s.forum.threads)).members

    lower = await s.fake.slash(s.guild, s.bob, "watched", show="Metallic Rouge", episode=1)
    assert "Corrected from E03" in lower.content
    future = await s.fake.slash(s.guild, s.bob, "watched", show="Metallic Rouge", episode=4)
    assert future.ephemeral
    assert "hasn't aired yet" in future.content

    progress = await s.fake.slash(s.guild, s.bob, "progress")
    assert progress.ephemeral
    assert "watched E01" in progress.embeds[0]["description"]


async def test_spoiler_is_wrapped_and_pings_nobody(watchclub: WatchClub) -> None:
    s = watchclub.server
    bot = await watchclub.start(clock_start=DROP - LEAD)
    await setup_club(watchclub)
    await add_show(watchclub)
    await bot.kill()
    await watchclub.start(clock_start=DROP + WEEK + timedelta(minutes=1))

    reply = await s.fake.slash(
        s.guild,
        s.bob,
        "spoiler",
        in_channel=s.chat,
        show="metallic",
        episode=2,
        text=f"@everyone Rouge || is a Nean <@&{s.watchers.id}>",
    )
    assert not reply.ephemeral
    header, body = reply.content.split("\n", 1)
    assert header.startswith("**Spoiler · Metallic Rouge · E02**")
    assert body.startswith("||") and body.endswith("||")
    assert "\\|\\|" in body
    assert reply.message is not None
    assert reply.message.mention_roles == []
    assert not reply.message.mention_everyone
    early = await s.fake.slash(s.guild, s.bob, "spoiler", show="Metallic Rouge", episode=5, text="x")
    assert early.ephemeral
    assert "hasn't aired yet" in early.content


async def test_spoiler_image_goes_out_marked_as_a_spoiler(watchclub: WatchClub) -> None:
    s = watchclub.server
    bot = await watchclub.start(clock_start=DROP - LEAD)
    await setup_club(watchclub)
    await add_show(watchclub)
    await bot.kill()
    await watchclub.start(clock_start=DROP + timedelta(minutes=1))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    reply = await s.fake.slash(
        s.guild,
        s.bob,
        "spoiler",
        in_channel=s.chat,
        show="Metallic Rouge",
        episode=1,
        text="look at this",
        image=FileUpload("rouge.png", png, "image/png"),
    )
    message = await reply.wait_followup() if reply.deferred else reply.message
    assert message is not None
    assert [a.filename for a in message.attachments] == ["SPOILER_rouge.png"]
    assert message.attachments[0].data == png
    assert "||look at this||" in message.content
    not_image = await s.fake.slash(
        s.guild,
        s.bob,
        "spoiler",
        show="Metallic Rouge",
        episode=1,
        text="notes",
        image=FileUpload("notes.txt", b"spoilers", "text/plain"),
    )
    assert not_image.ephemeral
    assert "Only images" in not_image.content


async def test_show_thread_reopens_a_deleted_thread_and_relinks_it(watchclub: WatchClub) -> None:
    s = watchclub.server
    s.forum.add_tag("Spoilers")
    bot = await watchclub.start(clock_start=DROP - LEAD)
    await setup_club(watchclub)
    await add_show(watchclub)
    await bot.kill()
    await watchclub.start(clock_start=DROP + timedelta(minutes=1))
    first = await s.fake.wait_for(lambda: next(iter(s.forum.threads), None), timeout=30)
    announcement = await s.fake.wait_for_message(s.announcements, lambda m: f"<#{first.id}>" in m.content, timeout=15)

    still_there = await s.fake.slash(s.guild, s.mod, "show thread", show="Metallic Rouge", episode=1)
    answer = await still_there.wait_followup() if still_there.deferred else still_there
    assert "already has its thread" in answer.content

    first.delete()
    reopened = await s.fake.slash(s.guild, s.mod, "show thread", show="Metallic Rouge", episode=1)
    answer = await reopened.wait_followup() if reopened.deferred else reopened
    assert "Opened a new discussion thread" in answer.content
    second = await s.fake.wait_for(lambda: next(iter(s.forum.threads), None), timeout=15)
    assert second.id != first.id
    assert second.name == "Metallic Rouge · E01"
    relinked = await s.fake.wait_for(
        lambda: f"<#{second.id}>" in s.fake.message(announcement.id).content or None, timeout=15
    )
    assert relinked
    rows = await watchclub.query("SELECT thread_id FROM episode_thread")
    assert [r[0] for r in rows] == [second.id]
    refused = await s.fake.slash(s.guild, s.bob, "show thread", show="Metallic Rouge", episode=1)
    assert refused.ephemeral
    assert "moderators" in refused.content
