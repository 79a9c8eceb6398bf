"""A bot that only replies: the baseline for `bench.vote_latency`.

    python -m bench._reply_only_bot  # DISCORD_TOKEN, DISCORD_API_BASE, DISCORD_GATEWAY_URL

The same discord.py, the same intents and the same persistent select as WatchClub's poll
message (a `DynamicItem` matching `wc:poll:<id>:rate`), but the callback answers at once,
privately, without a database, a writer queue or a message edit. It is kept lean on purpose
(it wraps the select discord.py already parsed from the message instead of building one, and
drops an answer Discord refused as late without a traceback), so that whatever latency it shows
under a burst is the floor set by discord.py, the machine and the fake Discord.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
from typing import Any

import discord
import yarl

from bot.client import bot_intents

log = logging.getLogger("reply_only_bot")


class RateSelect(discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=r"wc:poll:(?P<poll_id>\d+):rate"):
    """Matches WatchClub's poll select; answers with the value picked, nothing stored."""

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RateSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(item)  # the select discord.py parsed from the message: nothing to build

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await interaction.response.send_message(f"You picked {self.item.values[0]}.", ephemeral=True)
        except discord.NotFound:  # too late: Discord forgot the interaction (the bench counts it)
            log.debug("late answer to interaction %s", interaction.id)


class ReplyOnlyBot(discord.Client):
    async def setup_hook(self) -> None:
        self.add_dynamic_items(RateSelect)


def point_at_discord() -> None:
    """Send REST and gateway traffic where the environment says (the fake Discord)."""
    discord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])


async def run() -> None:
    point_at_discord()
    bot = ReplyOnlyBot(intents=bot_intents(), allowed_mentions=discord.AllowedMentions.none())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
    async with bot:
        await bot.start(os.environ["DISCORD_TOKEN"])


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
