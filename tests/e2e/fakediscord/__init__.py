"""A loopback fake Discord (REST + gateway) for end-to-end tests of a real discord.py bot.

Typical use (see ``fixtures.py`` for the pytest fixtures)::

    guild = fake.add_guild("Film Club")
    chan = guild.add_text_channel("general")
    alice = guild.add_member("alice", moderator=True)
    await bot_process.start(env={"DATABASE_URL": ...}, commands=["club"], guild=guild)
    reply = await fake.slash(guild, alice, "club setup", announcements=chan, timezone="Europe/London")
    assert reply.ephemeral and "Saved" in reply.content

See README.md in this folder for the whole API.
"""

from .driver import FileUpload, InvocationError
from .errors import DiscordAPIError
from .fake import FakeDiscord
from .faults import Fault
from .gateway import GUILD_MEMBERS, GUILD_MESSAGES, GUILDS, MESSAGE_CONTENT, PRIVILEGED_INTENTS, SentEvent
from .interactions import InteractionFailed, InteractionRecord, InteractionReply, Modal, PendingInteraction
from .models import Attachment, ForumTag, Member, Message, Role, User
from .permissions import DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE, MODERATOR_PERMISSIONS, P
from .process import BotProcess
from .recorder import RecordedRequest
from .rest import RateLimitPolicy
from .state import CategoryChannel, Channel, ForumChannel, Guild, TextChannel, Thread
from .waiting import WaitTimeout

__all__ = [
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE",
    "GUILDS",
    "GUILD_MEMBERS",
    "GUILD_MESSAGES",
    "MESSAGE_CONTENT",
    "MODERATOR_PERMISSIONS",
    "PRIVILEGED_INTENTS",
    "Attachment",
    "BotProcess",
    "CategoryChannel",
    "Channel",
    "DiscordAPIError",
    "FakeDiscord",
    "Fault",
    "FileUpload",
    "ForumChannel",
    "ForumTag",
    "Guild",
    "InteractionFailed",
    "InteractionRecord",
    "InteractionReply",
    "InvocationError",
    "Member",
    "Message",
    "Modal",
    "P",
    "PendingInteraction",
    "RateLimitPolicy",
    "RecordedRequest",
    "Role",
    "SentEvent",
    "TextChannel",
    "Thread",
    "User",
    "WaitTimeout",
]
