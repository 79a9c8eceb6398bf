"""A tiny real discord.py bot used only by the fake's own tests.

Run with ``python -m tests.e2e.fakediscord.selftest_bot`` and the env vars
DISCORD_TOKEN, DISCORD_API_BASE, DISCORD_GATEWAY_URL (set by BotProcess) plus
SELFTEST_GUILD_ID (guild to sync commands to) and optionally SELFTEST_SKIP_SYNC=1.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import os
import re
import signal
import sys
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

log = logging.getLogger("selftest")

TIMEZONES = ["Europe/London", "Europe/Paris", "America/New_York", "Asia/Tokyo"]
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def apply_endpoints() -> None:
    """Point discord.py at DISCORD_API_BASE / DISCORD_GATEWAY_URL (same as the real bot does)."""
    api_base = os.environ.get("DISCORD_API_BASE")
    gateway_url = os.environ.get("DISCORD_GATEWAY_URL")
    if api_base:
        discord.http.Route.BASE = api_base
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def http_error(exc: discord.HTTPException) -> str:
    return f"error {exc.status} {exc.code}"


# -- persistent components ------------------------------------------------------------------------
class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"selftest:vote:(?P<poll>\d+)"):
    def __init__(self, poll: int) -> None:
        super().__init__(discord.ui.Button(label="Vote", custom_id=f"selftest:vote:{poll}"))
        self.poll = poll

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str], /) -> VoteButton:
        return cls(int(match["poll"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"voted {self.poll} by {interaction.user.id}", ephemeral=True)


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"selftest:feedback:(?P<poll>\d+)"):
    def __init__(self, poll: int) -> None:
        super().__init__(discord.ui.Button(label="Feedback", custom_id=f"selftest:feedback:{poll}"))
        self.poll = poll

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Any, match: re.Match[str], /
    ) -> FeedbackButton:
        return cls(int(match["poll"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal(self.poll))


class PickSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"selftest:pick:(?P<poll>\d+)"):
    def __init__(self, poll: int) -> None:
        options = [discord.SelectOption(label=n, value=n) for n in ("alpha", "beta", "gamma")]
        super().__init__(discord.ui.Select(custom_id=f"selftest:pick:{poll}", options=options, max_values=2))
        self.poll = poll

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str], /) -> PickSelect:
        return cls(int(match["poll"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        picked = ",".join(self.item.values)
        await interaction.response.edit_message(content=f"picked {picked} for {self.poll}")


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    def __init__(self, poll: int) -> None:
        super().__init__(custom_id=f"selftest:feedback-modal:{poll}")
        self.poll = poll
        self.thoughts: discord.ui.TextInput[Any] = discord.ui.TextInput(custom_id="thoughts", max_length=200)
        options = [discord.SelectOption(label=str(n), value=str(n)) for n in range(1, 6)]
        self.rating: discord.ui.Select[Any] = discord.ui.Select(custom_id="rating", options=options)
        self.add_item(discord.ui.Label(text="Your thoughts", component=self.thoughts))
        self.add_item(discord.ui.Label(text="Rating", component=self.rating))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"feedback {self.poll}: {self.thoughts.value} rating={self.rating.values[0]}", ephemeral=True
        )


class ClassicModal(discord.ui.Modal, title="Classic"):
    answer: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Answer", custom_id="answer")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"classic: {self.answer.value}")


# -- the bot ---------------------------------------------------------------------------------------------
class SelftestBot(commands.Bot):
    def __init__(self) -> None:
        intents = discord.Intents.default()  # no privileged intents
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    async def setup_hook(self) -> None:
        self.add_dynamic_items(VoteButton, FeedbackButton, PickSelect)
        guild_id = int(os.environ["SELFTEST_GUILD_ID"])
        guild = discord.Object(guild_id)
        for command in COMMANDS:
            self.tree.add_command(command, guild=guild)
        if os.environ.get("SELFTEST_SKIP_SYNC") != "1":
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands", len(synced))

    async def on_ready(self) -> None:
        log.info("READY as %s in %d guilds", self.user, len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or not isinstance(message.channel, discord.Thread):
            return
        await message.add_reaction("\N{EYES}")


club = app_commands.Group(name="club", description="Club administration")


@club.command(name="setup", description="Configure the club")
@app_commands.describe(channel="Announcements channel", timezone="Time zone")
async def club_setup(
    interaction: discord.Interaction,
    channel: discord.TextChannel,
    timezone: str,
    announce: bool = False,
    count: int = 1,
    ratio: float = 1.0,
    role: discord.Role | None = None,
    member: discord.Member | None = None,
) -> None:
    await interaction.response.send_message(
        f"setup channel={channel.id}:{type(channel).__name__} tz={timezone} announce={announce!r} "
        f"count={count!r} ratio={ratio!r} role={role.id if role else None} member={member.id if member else None}"
    )


@club_setup.autocomplete("timezone")
async def timezone_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=tz, value=tz) for tz in TIMEZONES if current.lower() in tz.lower()]


@app_commands.command(description="Reply ephemerally")
async def secret(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("shh", ephemeral=True)


@app_commands.command(description="Defer, then follow up with files")
async def report(interaction: discord.Interaction) -> None:
    await interaction.response.defer(thinking=True)
    await asyncio.sleep(0.1)
    files = [
        discord.File(io.BytesIO(b"title,votes\nAlien,3\n"), filename="report.csv"),
        discord.File(io.BytesIO(PNG_1X1), filename="chart.png"),
    ]
    await interaction.followup.send("report ready", files=files)


@app_commands.command(description="Post a panel with persistent components")
async def panel(interaction: discord.Interaction, channel: discord.TextChannel, poll: int) -> None:
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(poll))
    view.add_item(FeedbackButton(poll))
    view.add_item(PickSelect(poll))
    try:
        message = await channel.send(f"Poll {poll}", view=view)
    except discord.HTTPException as exc:
        await interaction.response.send_message(http_error(exc), ephemeral=True)
        return
    await interaction.response.send_message(f"posted {message.id}", ephemeral=True)


@app_commands.command(description="Open a classic modal")
async def classic(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(ClassicModal(custom_id="selftest:classic"))


@app_commands.command(description="Create a forum post with a tag")
async def post(interaction: discord.Interaction, forum: discord.ForumChannel, title: str, tag: str) -> None:
    tags = [t for t in forum.available_tags if t.name == tag]
    try:
        created = await forum.create_thread(name=title, content="first post", applied_tags=tags)
    except discord.HTTPException as exc:
        await interaction.response.send_message(http_error(exc))
        return
    names = ",".join(t.name for t in created.thread.applied_tags)
    await interaction.response.send_message(f"post {created.thread.id} message {created.message.id} tags={names}")


@app_commands.command(description="Create a thread from a message and add a user")
async def thread(interaction: discord.Interaction, channel: discord.TextChannel, user: discord.Member) -> None:
    await interaction.response.defer(ephemeral=True)
    try:
        starter = await channel.send("thread starter")
        created = await starter.create_thread(name="Discussion")
        await created.add_user(user)
    except discord.HTTPException as exc:
        await interaction.followup.send(http_error(exc))
        return
    await interaction.followup.send(f"thread {created.id} starter {starter.id} user {user.id}")


@app_commands.command(description="Edit a message")
async def edit(interaction: discord.Interaction, channel_id: str, message_id: str, text: str) -> None:
    channel = interaction.client.get_partial_messageable(int(channel_id))
    try:
        await channel.get_partial_message(int(message_id)).edit(content=text)
    except discord.HTTPException as exc:
        await interaction.response.send_message(http_error(exc))
        return
    await interaction.response.send_message("edited")


@app_commands.command(description="Report the bot's permissions in a channel")
async def perms(interaction: discord.Interaction, channel: discord.abc.GuildChannel) -> None:
    guild = interaction.guild
    assert guild is not None
    resolved = guild.get_channel_or_thread(channel.id)
    assert resolved is not None
    value = resolved.permissions_for(guild.me).value
    await interaction.response.send_message(f"perms {value} app {interaction.app_permissions.value}", ephemeral=True)


@app_commands.command(description="Send a message in a channel (by id, like a stored setting)")
async def say(interaction: discord.Interaction, channel_id: str, text: str, nonce: str | None = None) -> None:
    channel = interaction.client.get_partial_messageable(int(channel_id))
    try:
        message = await channel.send(text, nonce=nonce) if nonce else await channel.send(text)
    except discord.HTTPException as exc:
        await interaction.response.send_message(http_error(exc))
        return
    await interaction.response.send_message(f"sent {message.id}")


@app_commands.command(description="Answer after a delay")
async def slow(interaction: discord.Interaction, seconds: float) -> None:
    await asyncio.sleep(seconds)
    try:
        await interaction.response.send_message("finally")
    except discord.NotFound as exc:
        log.warning("too late: %s", http_error(exc))


COMMANDS: tuple[app_commands.Command[Any, Any, Any] | app_commands.Group, ...] = (
    club,
    secret,
    report,
    panel,
    classic,
    post,
    thread,
    edit,
    perms,
    say,
    slow,
)


async def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(levelname)s %(name)s: %(message)s")
    apply_endpoints()
    bot = SelftestBot()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(bot.close()))
    async with bot:
        await bot.start(os.environ["DISCORD_TOKEN"])
    log.info("closed cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
