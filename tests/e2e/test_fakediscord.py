"""Tests of the fake Discord itself, driven by the real discord.py client (selftest_bot) and raw HTTP/WS."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.e2e.fakediscord import (
    BotProcess,
    FakeDiscord,
    ForumChannel,
    Guild,
    InteractionFailed,
    InvocationError,
    Member,
    P,
    TextChannel,
    fixtures,
)
from tests.e2e.fakediscord.fixtures import BotLauncher

# The fake's fixtures, made visible to pytest here (a conftest would `import *` them instead).
fake_discord_options = fixtures.fake_discord_options
fake_discord = fixtures.fake_discord
bot_process = fixtures.bot_process

SELFTEST = [sys.executable, "-m", "tests.e2e.fakediscord.selftest_bot"]
TEXT_CHANNEL_VOICE_BITS = discord.Permissions.voice().value


@dataclasses.dataclass
class Club:
    guild: Guild
    general: TextChannel
    announcements: TextChannel
    forum: ForumChannel
    alice: Member  # moderator
    bob: Member


@pytest.fixture
def club(fake_discord: FakeDiscord) -> Club:
    guild = fake_discord.add_guild("Film Club")
    category = guild.add_category("Club")
    general = guild.add_text_channel("general", category=category)
    announcements = guild.add_text_channel("announcements", category=category, topic="News")
    forum = guild.add_forum_channel("discussions", tags=["anime", "tv", "film"], category=category)
    alice = guild.add_member("alice", moderator=True)
    bob = guild.add_member("bob")
    # Threads that exist before the bot connects (they are in GUILD_CREATE).
    guild.add_thread(general, "old chat", owner=bob)
    guild.add_thread(forum, "Old post", owner=alice, applied_tags=[forum.tag("tv")], content="hi")
    return Club(guild, general, announcements, forum, alice, bob)


async def start_selftest(launcher: BotLauncher, club: Club, **env: str) -> BotProcess:
    wait_for = () if env.get("SELFTEST_SKIP_SYNC") == "1" else ("club",)
    return await launcher.start(
        SELFTEST, env={"SELFTEST_GUILD_ID": str(club.guild.id), **env}, commands=wait_for, guild=club.guild
    )


@pytest.fixture
async def http(fake_discord: FakeDiscord) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    async with aiohttp.ClientSession(base_url=fake_discord.base_url, headers=headers) as session:
        yield session


async def call(http: aiohttp.ClientSession, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with http.request(method, "/api/v10" + path, **kwargs) as resp:
        return resp.status, (await resp.json() if resp.status != 204 else None)


def process_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1].startswith("Z")  # a zombie is dead
    except FileNotFoundError:
        return True


# -- with the real discord.py bot ----------------------------------------------------------------------------
async def test_boot_ready_guild_create_and_command_sync(
    fake_discord: FakeDiscord, bot_process: BotLauncher, club: Club
) -> None:
    club.announcements.deny_bot(P.SEND_MESSAGES)
    bot = await start_selftest(bot_process, club)

    conn = fake_discord.gateway.connections[-1]
    identify = next(f for f in conn.received if f["op"] == 2)
    assert identify["d"]["intents"] == discord.Intents.default().value
    assert conn.sent_events[:2] == ["READY", "GUILD_CREATE"]
    assert fake_discord.sync_count(club.guild) == 1
    put = fake_discord.requests("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
    assert len(put) == 1 and put[0].status == 200
    setup = next(c for c in fake_discord.commands(club.guild) if c["name"] == "club")["options"][0]
    assert {o["name"]: o["type"] for o in setup["options"]} == {
        "channel": 7,
        "timezone": 3,
        "announce": 5,
        "count": 4,
        "ratio": 10,
        "role": 8,
        "member": 6,
    }

    # discord.py computes the same permissions from GUILD_CREATE's roles and overwrites.
    for channel in (club.general, club.announcements):
        reply = await fake_discord.slash(club.guild, club.alice, "perms", channel=channel)
        _, bot_value, _, app_value = reply.content.split()
        expected = channel.bot_permissions()
        assert int(bot_value) == expected & ~TEXT_CHANNEL_VOICE_BITS
        assert int(app_value) == club.general.bot_permissions()  # app_permissions: where the command ran
    assert not club.announcements.bot_permissions() & P.SEND_MESSAGES

    # op 7 RECONNECT: discord.py resumes on resume_gateway_url and keeps working.
    fake_discord.gateway.request_reconnect()
    await fake_discord.wait_for(lambda: fake_discord.gateway.resume_count == 1, 10, "a RESUME")
    await fake_discord.wait_for_ready(10)
    reply = await fake_discord.slash(club.guild, club.bob, "secret")
    assert reply.content == "shh"
    assert fake_discord.unhandled_requests() == []
    await bot.wait_for_log("READY as")  # discord.py parsed every GUILD_CREATE (incl. threads) and fired on_ready
    assert "Traceback" not in bot.log_text()


async def test_slash_options_ephemeral_and_autocomplete(
    fake_discord: FakeDiscord, bot_process: BotLauncher, club: Club
) -> None:
    await start_selftest(bot_process, club)
    mods = club.guild.moderator_role

    pending = fake_discord.slash(
        club.guild,
        club.alice,
        "club setup",
        channel=club.announcements,
        timezone="Europe/London",
        announce=True,
        count=3,
        ratio=0.5,
        role=mods,
        member=club.bob,
    )
    reply = await pending
    assert reply.content == (
        f"setup channel={club.announcements.id}:TextChannel tz=Europe/London announce=True "
        f"count=3 ratio=0.5 role={mods.id} member={club.bob.id}"
    )
    assert not reply.ephemeral and reply.message in club.general.history()
    assert reply.latency is not None and reply.latency < 3
    assert reply.allowed_mentions == {"parse": []}
    data = pending.record.payload["data"]
    group = data["options"][0]
    assert (data["type"], group["type"], group["name"]) == (1, 1, "setup")
    assert set(data["resolved"]) == {"channels", "roles", "users", "members"}

    secret = await fake_discord.slash(club.guild, club.bob, "secret")
    assert secret.ephemeral and secret.content == "shh"
    assert secret.message not in club.general.history()

    suggestions = await fake_discord.autocomplete(club.guild, club.alice, "club setup", "timezone", "eur")
    assert suggestions.choice_names == ["Europe/London", "Europe/Paris"]

    with pytest.raises(InvocationError, match="registered"):
        fake_discord.slash(club.guild, club.alice, "nope")
    with pytest.raises(InvocationError, match="no option"):
        fake_discord.slash(club.guild, club.alice, "club setup", channel=club.general, timezone="x", colour="red")


async def test_defer_then_followup_with_files(fake_discord: FakeDiscord, bot_process: BotLauncher, club: Club) -> None:
    await start_selftest(bot_process, club)

    reply = await fake_discord.slash(club.guild, club.alice, "report")
    assert reply.deferred and reply.message is not None
    message = await reply.wait_followup()
    assert message is reply.message and not message.loading  # the first follow-up fills the deferred message
    assert message.content == "report ready"
    csv, png = message.attachments
    assert (csv.filename, csv.text(), csv.content_type) == (
        "report.csv",
        "title,votes\nAlien,3\n",
        "text/csv; charset=utf-8",
    )
    assert png.image_size() == (1, 1) and png.data.startswith(b"\x89PNG")
    follow = fake_discord.requests("POST", "/webhooks/{webhook_id}/{webhook_token}")[0]
    assert [f.filename for f in follow.files] == ["report.csv", "chart.png"]
    async with aiohttp.ClientSession() as session, session.get(csv.url) as resp:
        assert await resp.read() == csv.data  # attachment URLs are served by the fake


async def test_persistent_components_after_sigkill_restart(
    fake_discord: FakeDiscord, bot_process: BotLauncher, club: Club
) -> None:
    bot = await start_selftest(bot_process, club)
    reply = await fake_discord.slash(club.guild, club.alice, "panel", channel=club.general, poll=7)
    panel = fake_discord.message(reply.content.split()[1])
    assert panel.content == "Poll 7" and [b["custom_id"] for b in panel.buttons()] == [
        "selftest:vote:7",
        "selftest:feedback:7",
    ]

    vote = await fake_discord.click(panel, "selftest:vote:7", club.bob)
    assert vote.ephemeral and vote.content == f"voted 7 by {club.bob.id}"

    pid = bot.pid
    assert await bot.kill() == -9
    assert process_gone(pid or 0) and not fake_discord.connected
    await bot.start_and_wait_ready(30)  # same fake, same state; commands already registered

    vote = await fake_discord.click(panel, "selftest:vote:7", club.alice)
    assert vote.content == f"voted 7 by {club.alice.id}"
    picked = await fake_discord.select(panel, "selftest:pick:7", ["beta", "gamma"], club.bob)
    assert picked.type == 7 and panel.content == "picked beta,gamma for 7"
    assert panel.history[-1]["content"] == "Poll 7"
    with pytest.raises(InvocationError, match="not an option"):
        fake_discord.select(panel, "selftest:pick:7", ["delta"], club.bob)


async def test_modals_label_and_classic(fake_discord: FakeDiscord, bot_process: BotLauncher, club: Club) -> None:
    await start_selftest(bot_process, club)
    reply = await fake_discord.slash(club.guild, club.alice, "panel", channel=club.general, poll=3)
    panel = fake_discord.message(reply.content.split()[1])

    opened = await fake_discord.click(panel, "selftest:feedback:3", club.bob)
    assert opened.modal.title == "Feedback" and [c["type"] for c in opened.modal.components] == [18, 18]
    submitted = await fake_discord.submit_modal(opened, {"thoughts": "great pick", "rating": ["4"]})
    assert submitted.content == "feedback 3: great pick rating=4" and submitted.ephemeral
    submit_data = fake_discord.interaction_records[-1].payload["data"]
    assert submit_data["components"][0]["component"] == {
        "type": 4,
        "id": opened.modal.components[0]["component"]["id"],
        "custom_id": "thoughts",
        "value": "great pick",
    }

    classic = await fake_discord.slash(club.guild, club.bob, "classic")
    assert classic.modal.components[0]["type"] == 1  # ActionRow wrapping the TextInput
    with pytest.raises(InvocationError, match="required"):
        fake_discord.submit_modal(classic, {})
    done = await fake_discord.submit_modal(classic, {"answer": "42"})
    assert done.content == "classic: 42"


async def test_forum_post_thread_from_message_and_members(
    fake_discord: FakeDiscord, bot_process: BotLauncher, club: Club
) -> None:
    await start_selftest(bot_process, club)

    reply = await fake_discord.slash(
        club.guild, club.alice, "post", forum=club.forum, title="Frieren ep 1", tag="anime"
    )
    _, thread_id, _, message_id, tags = reply.content.split()
    post = fake_discord.thread(thread_id)
    assert tags == "tags=anime" and post.applied_tags == [club.forum.tag("anime").id]
    assert post.name == "Frieren ep 1" and message_id == thread_id
    assert post.starter_message is not None and post.starter_message.content == "first post"

    reply = await fake_discord.slash(club.guild, club.alice, "thread", channel=club.general, user=club.bob)
    message = await reply.wait_followup()
    _, thread_id, _, starter_id, _, user_id = message.content.split()
    thread = fake_discord.thread(thread_id)
    assert thread_id == starter_id and thread.type == 11 and int(user_id) == club.bob.id
    assert set(thread.members) == {fake_discord.bot_user.id, club.bob.id}
    # Without GUILD_MEMBERS the bot hears of its own thread membership only (via THREAD_CREATE).
    assert not [e for e in fake_discord.events("THREAD_MEMBERS_UPDATE") if e.data["id"] == thread_id]
    created = await fake_discord.wait_for_event("THREAD_CREATE", lambda d: d["id"] == thread_id)
    assert created.data["newly_created"] and created.data["member"]["user_id"] == str(fake_discord.bot_user.id)
    assert fake_discord.message(starter_id).thread_id == thread.id

    # A member posts in the thread: MESSAGE_CREATE reaches the bot (content gated), which reacts.
    before = len(fake_discord.requests("PUT"))
    posted = fake_discord.post_message(thread, club.bob, "hello there")
    await fake_discord.wait_for(lambda: "\N{EYES}" in posted.reactions, 10, "the bot's reaction")
    assert len(fake_discord.requests("PUT")) == before + 1


async def test_permission_denied_deleted_channel_and_nonce(
    fake_discord: FakeDiscord, bot_process: BotLauncher, club: Club
) -> None:
    await start_selftest(bot_process, club)

    club.announcements.deny_bot(P.SEND_MESSAGES)
    reply = await fake_discord.slash(club.guild, club.alice, "say", channel_id=str(club.announcements.id), text="hi")
    assert reply.content == "error 403 50013"

    gone = club.guild.add_text_channel("old-news")
    gone.delete()
    reply = await fake_discord.slash(club.guild, club.alice, "say", channel_id=str(gone.id), text="hi")
    assert reply.content == "error 404 10003"

    args: dict[str, Any] = {"channel_id": str(club.general.id), "text": "only once", "nonce": "club-42"}
    first = await fake_discord.slash(club.guild, club.alice, "say", **args)
    second = await fake_discord.slash(club.guild, club.alice, "say", **args)
    assert first.content == second.content and first.content.startswith("sent ")
    assert [m.content for m in club.general.history()].count("only once") == 1
    assert len(fake_discord.requests("POST", "/channels/{channel_id}/messages", channel_id=club.general.id)) == 2

    sent = fake_discord.message(first.content.split()[1])
    edit: dict[str, Any] = {"channel_id": str(club.general.id), "message_id": str(sent.id), "text": "edited text"}
    assert (await fake_discord.slash(club.guild, club.alice, "edit", **edit)).content == "edited"
    assert sent.content == "edited text" and sent.edited_timestamp is not None
    assert sent.history[-1]["content"] == "only once"
    patch = fake_discord.requests("PATCH", "/channels/{channel_id}/messages/{message_id}", message_id=sent.id)
    assert patch[0].json["content"] == "edited text"
    users_message = fake_discord.post_message(club.general, club.bob, "mine")
    edit |= {"message_id": str(users_message.id)}
    assert (await fake_discord.slash(club.guild, club.alice, "edit", **edit)).content == "error 403 50005"


async def test_injected_429_is_retried_by_discord_py(
    fake_discord: FakeDiscord, bot_process: BotLauncher, club: Club
) -> None:
    await start_selftest(bot_process, club)
    fault = fake_discord.inject_rate_limit(
        "POST", "/channels/{channel_id}/messages", retry_after=0.3, channel_id=club.general.id
    )
    started = time.monotonic()
    reply = await fake_discord.slash(club.guild, club.alice, "say", channel_id=str(club.general.id), text="after 429")
    assert reply.content.startswith("sent ")
    sends = fake_discord.requests("POST", "/channels/{channel_id}/messages")
    assert [r.status for r in sends] == [429, 200] and sends[0].fault == fault.name
    assert sends[1].at - sends[0].at >= 0.28 and time.monotonic() - started >= 0.28
    assert fault.remaining == 0 and club.general.last_message is not None


@pytest.mark.parametrize("fake_discord_options", [{"interaction_deadline": 0.5}])
async def test_interaction_deadline_bookkeeping(
    fake_discord: FakeDiscord, bot_process: BotLauncher, club: Club
) -> None:
    await start_selftest(bot_process, club)
    pending = fake_discord.slash(club.guild, club.alice, "slow", seconds=0.8)
    record = await pending.settled(5)
    assert record.deadline_missed and record.late_latency is not None and record.late_latency >= 0.75
    assert record.attempts[0].error == {"message": "Unknown interaction", "code": 10062}
    with pytest.raises(InteractionFailed, match="Unknown interaction"):
        await pending

    fast = await fake_discord.slash(club.guild, club.alice, "secret")
    assert fake_discord.latencies() == [fast.latency]
    assert fake_discord.requests("POST", "/interactions/{interaction_id}/{interaction_token}/callback", status=404)


async def test_bot_process_lifecycle_no_orphans(fake_discord: FakeDiscord, club: Club, tmp_path: Any) -> None:
    launcher = BotLauncher(fake_discord, tmp_path)
    bot = await start_selftest(launcher, club, SELFTEST_SKIP_SYNC="1")
    pid = bot.pid
    assert bot.running
    await bot.wait_for_log("connected to Gateway")
    await launcher.cleanup()  # what the fixture does at teardown: SIGTERM, then SIGKILL if needed
    assert bot.returncode == 0 and process_gone(pid or 0)
    assert "closed cleanly" in bot.log_tail()

    # Even if the test runner dies abruptly, PR_SET_PDEATHSIG takes the bot down with it.
    script = (
        "import os, sys; from tests.e2e.fakediscord.process import BotProcess; "
        "p = BotProcess(command=['sleep', '60']); p.start(); print(p.pid, flush=True); os._exit(0)"
    )
    parent = await asyncio.create_subprocess_exec(sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE)
    stdout, _ = await asyncio.wait_for(parent.communicate(), 30)
    orphan = int(stdout.split()[0])
    await fake_discord.wait_for(lambda: process_gone(orphan), 5, "the orphaned child to die")
    assert process_gone(orphan)


async def test_bot_crash_at_startup_fails_fast_with_log(fake_discord: FakeDiscord, bot_process: BotLauncher) -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"exited with code 3[\s\S]*boom"):
        await bot_process.start([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], timeout=20)
    assert time.monotonic() - started < 10


# -- REST and gateway shapes, without a bot ----------------------------------------------------------------
async def test_rest_auth_errors_and_headers(fake_discord: FakeDiscord, http: aiohttp.ClientSession, club: Club) -> None:
    async with http.get("/api/v10/users/@me", headers={"Authorization": "Bot wrong"}) as resp:
        assert (resp.status, await resp.json()) == (401, {"message": "401: Unauthorized", "code": 0})
    async with http.get("/api/v10/users/@me") as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "application/json"
        assert int(resp.headers["X-RateLimit-Remaining"]) >= 0 and "X-RateLimit-Bucket" in resp.headers
        assert (await resp.json())["bot"] is True

    assert await call(http, "GET", "/channels/1") == (404, {"message": "Unknown Channel", "code": 10003})
    assert (await call(http, "GET", "/nope"))[1] == {"message": "404: Not Found", "code": 0}
    assert fake_discord.unhandled_requests()[0].path == "/nope"

    status, body = await call(http, "POST", f"/channels/{club.general.id}/messages", json={"content": "x" * 2001})
    assert status == 400 and body["code"] == 50035
    assert body["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert (await call(http, "POST", f"/channels/{club.general.id}/messages", json={}))[1]["code"] == 50006

    club.general.deny_bot(P.VIEW_CHANNEL)
    assert await call(http, "GET", f"/channels/{club.general.id}") == (
        403,
        {"message": "Missing Access", "code": 50001},
    )

    content = f"@everyone hi {club.bob.mention}"
    status, body = await call(http, "POST", f"/channels/{club.announcements.id}/messages", json={"content": content})
    assert [u["id"] for u in body["mentions"]] == [str(club.bob.id)] and body["mention_everyone"] is False
    quiet = {"content": content, "allowed_mentions": {"parse": []}}
    status, body = await call(http, "POST", f"/channels/{club.announcements.id}/messages", json=quiet)
    assert body["mentions"] == [] and fake_discord.message(body["id"]).allowed_mentions == {"parse": []}

    club.announcements.deny_bot(P.EMBED_LINKS)
    status, body = await call(
        http, "POST", f"/channels/{club.announcements.id}/messages", json={"content": "hi", "embeds": [{"title": "t"}]}
    )
    assert status == 200 and body["embeds"] == []  # dropped silently, like Discord

    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps({"content": "file", "attachments": [{"id": 0, "filename": "a.csv"}]}))
    form.add_field("files[0]", b"a,b\n1,2\n", filename="a.csv", content_type="application/octet-stream")
    status, body = await call(http, "POST", f"/channels/{club.announcements.id}/messages", data=form)
    assert status == 200 and body["attachments"][0]["filename"] == "a.csv"
    assert fake_discord.requests("POST", "/channels/{channel_id}/messages")[-1].files[0].data == b"a,b\n1,2\n"

    fake_discord.inject_fault("GET", "/users/@me", status=503, message="upstream", times=None)
    assert (await call(http, "GET", "/users/@me"))[0] == 503
    fake_discord.clear_faults()
    assert (await call(http, "GET", "/users/@me"))[0] == 200


async def test_rest_threads_forums_and_tags(fake_discord: FakeDiscord, http: aiohttp.ClientSession, club: Club) -> None:
    tag_ids = [str(t.id) for t in club.forum.available_tags]
    forum = f"/channels/{club.forum.id}"

    status, body = await call(http, "POST", f"{forum}/threads", json={"name": "x" * 101, "message": {"content": "hi"}})
    assert status == 400 and "name" in body["errors"]
    six = [*tag_ids, "1", "2", "3"]
    status, body = await call(
        http, "POST", f"{forum}/threads", json={"name": "t", "applied_tags": six, "message": {"content": "hi"}}
    )
    assert status == 400 and body["errors"]["applied_tags"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    status, body = await call(
        http, "POST", f"{forum}/threads", json={"name": "t", "applied_tags": tag_ids[:1], "message": {"content": "hi"}}
    )
    assert status == 200 and body["message"]["id"] == body["id"] and body["applied_tags"] == tag_ids[:1]

    # Discord's trap: no "type" in a text channel makes a PRIVATE thread.
    status, body = await call(http, "POST", f"/channels/{club.general.id}/threads", json={"name": "oops"})
    assert (status, body["type"]) == (200, 12)
    status, body = await call(http, "POST", f"/channels/{club.general.id}/threads", json={"name": "ok", "type": 11})
    assert (status, body["type"]) == (200, 11)

    status, body = await call(http, "POST", f"/channels/{club.general.id}/messages", json={"content": "starter"})
    path = f"/channels/{club.general.id}/messages/{body['id']}/threads"
    assert (await call(http, "POST", path, json={"name": "a"}))[0] == 200
    assert (await call(http, "POST", path, json={"name": "b"}))[1]["code"] == 160004

    tags = [{"name": f"t{i}"} for i in range(21)]
    assert (await call(http, "PATCH", forum, json={"available_tags": tags}))[1]["code"] == 50013
    club.guild.set_bot_permissions(club.guild.bot_role.permissions | P.MANAGE_CHANNELS)
    status, body = await call(http, "PATCH", forum, json={"available_tags": tags})
    assert status == 400 and "available_tags" in body["errors"]
    keep = [{"id": tag_ids[0], "name": "anime"}, {"name": "documentary"}]
    status, body = await call(http, "PATCH", forum, json={"available_tags": keep})
    assert status == 200 and [t["name"] for t in body["available_tags"]] == ["anime", "documentary"]
    assert body["available_tags"][0]["id"] == tag_ids[0]


async def test_gateway_identify_resume_and_bad_token(fake_discord: FakeDiscord, club: Club) -> None:
    url = fake_discord.gateway_url + "?v=10&encoding=json"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            hello = await ws.receive_json()
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] == 41250
            await ws.send_json({"op": 2, "d": {"token": "bad", "intents": 513, "properties": {}}})
            closed = await ws.receive()
            assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == 4004

        async with session.ws_connect(url) as ws:
            await ws.receive_json()
            await ws.send_json({"op": 2, "d": {"token": fake_discord.token, "intents": 513, "properties": {}}})
            ready = await ws.receive_json()
            guild_create = await ws.receive_json()
            assert (ready["t"], ready["s"], guild_create["t"], guild_create["s"]) == ("READY", 1, "GUILD_CREATE", 2)
            assert ready["d"]["resume_gateway_url"] == fake_discord.gateway_url
            assert ready["d"]["guilds"] == [{"id": str(club.guild.id), "unavailable": True}]
            members = guild_create["d"]["members"]
            assert [m["user"]["id"] for m in members] == [str(fake_discord.bot_user.id)]  # no GUILD_MEMBERS intent
            forum = next(c for c in guild_create["d"]["channels"] if c["type"] == 15)
            assert [t["name"] for t in forum["available_tags"]] == ["anime", "tv", "film"]
            await ws.send_json({"op": 1, "d": 2})
            assert (await ws.receive_json())["op"] == 11
            await fake_discord.wait_for_ready(5)
            session_id = ready["d"]["session_id"]
        await fake_discord.wait_for_disconnect(5)

        club.general.update(topic="missed while away")  # buffered for the session
        async with session.ws_connect(url) as ws:
            await ws.receive_json()
            resume = {"token": fake_discord.token, "session_id": session_id, "seq": 2}
            await ws.send_json({"op": 6, "d": resume})
            replayed, resumed = await ws.receive_json(), await ws.receive_json()
            assert (replayed["t"], replayed["s"], resumed["t"]) == ("CHANNEL_UPDATE", 3, "RESUMED")
            assert replayed["d"]["topic"] == "missed while away"

        async with session.ws_connect(url) as ws:
            await ws.receive_json()
            await ws.send_json({"op": 6, "d": {"token": fake_discord.token, "session_id": "nope", "seq": 1}})
            assert await ws.receive_json() == {"op": 9, "d": False}


async def test_interaction_callbacks_and_webhooks_raw(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession, club: Club
) -> None:
    app = fake_discord.application_id
    command = {
        "name": "ping",
        "description": "Ping",
        "type": 1,
        "options": [{"type": 6, "name": "who", "description": "x"}],
    }
    status, body = await call(http, "PUT", f"/applications/{app}/guilds/{club.guild.id}/commands", json=[command])
    assert status == 200 and body[0]["guild_id"] == str(club.guild.id) and body[0]["application_id"] == str(app)
    assert (await call(http, "PUT", f"/applications/{app}/guilds/{club.guild.id}/commands", json=[command]))[1] == body

    async with aiohttp.ClientSession() as session, session.ws_connect(fake_discord.gateway_url) as ws:
        await ws.receive_json()
        await ws.send_json({"op": 2, "d": {"token": fake_discord.token, "intents": 513, "properties": {}}})
        await fake_discord.wait_for_ready(5)
        pending = fake_discord.slash(club.guild, club.alice, "ping", who=club.bob)
        frame = await ws.receive_json()
        while frame.get("t") != "INTERACTION_CREATE":
            frame = await ws.receive_json()
        payload = frame["d"]
        assert payload["data"]["options"] == [{"type": 6, "name": "who", "value": str(club.bob.id)}]
        assert payload["data"]["resolved"]["members"][str(club.bob.id)]["permissions"].isdigit()
        assert payload["member"]["user"]["id"] == str(club.alice.id) and payload["app_permissions"].isdigit()
        assert (payload["channel_id"], payload["guild_locale"], payload["context"]) == (
            str(club.general.id),
            "en-US",
            0,
        )

        base = f"/interactions/{payload['id']}/{payload['token']}/callback"
        webhook = f"/webhooks/{app}/{payload['token']}"
        assert (await call(http, "POST", webhook, json={"content": "early"}))[1]["code"] == 10015
        status, body = await call(http, "POST", base + "?with_response=1", json={"type": 5, "data": {"flags": 64}})
        assert status == 200 and body["interaction"]["response_message_loading"] is True
        assert body["interaction"]["response_message_ephemeral"] is True and body["resource"] == {"type": 5}
        again = await call(http, "POST", base, json={"type": 4, "data": {"content": "x"}})
        assert again == (400, {"message": "Interaction has already been acknowledged.", "code": 40060})

        status, body = await call(http, "PATCH", webhook + "/messages/@original", json={"content": "pong"})
        assert status == 200 and body["content"] == "pong" and body["flags"] == 64
        reply = await pending
        assert reply.deferred and reply.ephemeral and reply.message is not None and reply.message.content == "pong"
        status, extra = await call(http, "POST", webhook + "?wait=true", json={"content": "more"})
        assert status == 200 and extra["id"] != body["id"]
        assert (await call(http, "GET", webhook + "/messages/@original"))[1]["content"] == "pong"
        assert (await call(http, "DELETE", f"{webhook}/messages/{extra['id']}"))[0] == 204
        assert (await call(http, "GET", f"{webhook}/messages/{extra['id']}"))[1]["code"] == 10008
        assert reply.followups[0].deleted and reply.record.latency is not None
