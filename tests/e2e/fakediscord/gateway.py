"""The gateway websocket: HELLO, IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME, dispatches."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import logging
import secrets
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import payloads
from .permissions import P, has
from .waiting import ChangeNotifier

if TYPE_CHECKING:
    from .state import Guild, World

log = logging.getLogger(__name__)

# Opcodes
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE, RESUME, RECONNECT = 0, 1, 2, 3, 4, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

# Intents
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
GUILD_MESSAGE_TYPING = 1 << 11
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

_EVENT_INTENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "GUILD_UPDATE",
            "GUILD_ROLE_CREATE",
            "GUILD_ROLE_UPDATE",
            "GUILD_ROLE_DELETE",
            "CHANNEL_CREATE",
            "CHANNEL_UPDATE",
            "CHANNEL_DELETE",
            "CHANNEL_PINS_UPDATE",
            "THREAD_CREATE",
            "THREAD_UPDATE",
            "THREAD_DELETE",
            "THREAD_LIST_SYNC",
            "THREAD_MEMBER_UPDATE",
            "THREAD_MEMBERS_UPDATE",
        ],
        GUILDS,
    ),
    **dict.fromkeys(["GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"], GUILD_MEMBERS),
    **dict.fromkeys(["MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK"], GUILD_MESSAGES),
    **dict.fromkeys(["MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE"], GUILD_MESSAGE_REACTIONS),
    "TYPING_START": GUILD_MESSAGE_TYPING,
}
_CONTENT_FIELDS = {"content": "", "embeds": [], "attachments": [], "components": []}


@dataclasses.dataclass(frozen=True)
class SentEvent:
    """A dispatch that was written to a bot's websocket."""

    name: str
    seq: int
    data: Any
    session_id: str | None
    at: float  # loop time


@dataclasses.dataclass(eq=False)
class Session:
    id: str
    intents: int
    shard: tuple[int, int] | None
    seq: int = 0
    connection: Connection | None = None
    buffer: deque[dict[str, Any]] = dataclasses.field(default_factory=lambda: deque(maxlen=2000))
    invalidated: bool = False

    def covers(self, guild_id: int | None) -> bool:
        if guild_id is None or self.shard is None:
            return True
        shard_id, count = self.shard
        return (guild_id >> 22) % count == shard_id


class Connection:
    """One websocket. Frames go through a queue so their order is the order of dispatch."""

    def __init__(
        self, ws: web.WebSocketResponse, notifier: ChangeNotifier, event_log: list[SentEvent] | None = None
    ) -> None:
        self.ws = ws
        self._event_log = event_log if event_log is not None else []
        self.session: Session | None = None
        self.ready = False
        self.closed = False
        self.close_code: int | None = None
        self.received: list[dict[str, Any]] = []
        self.sent_events: list[str] = []
        self._notifier = notifier
        self._queue: asyncio.Queue[tuple[dict[str, Any] | None, Callable[[], None] | None]] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop())

    def send(self, frame: dict[str, Any] | None, on_sent: Callable[[], None] | None = None) -> None:
        """Queue a frame (``None`` = only run ``on_sent`` once everything before it went out)."""
        if not self.closed:
            self._queue.put_nowait((frame, on_sent))

    async def _write_loop(self) -> None:
        while True:
            frame, on_sent = await self._queue.get()
            if frame is not None:
                try:
                    await self.ws.send_str(json.dumps(frame))
                except (ConnectionError, RuntimeError):
                    self.mark_closed(None)
                    return
                if frame.get("t"):
                    self.sent_events.append(frame["t"])
                    session_id = self.session.id if self.session else None
                    now = asyncio.get_running_loop().time()
                    self._event_log.append(SentEvent(frame["t"], frame.get("s") or 0, frame["d"], session_id, now))
            if on_sent is not None:
                on_sent()
            self._notifier.notify()

    async def close(self, code: int, reason: str = "") -> None:
        if not self.ws.closed:
            await self.ws.close(code=code, message=reason.encode())
        self.mark_closed(code)

    def mark_closed(self, code: int | None) -> None:
        if self.closed:
            return
        self.closed = True
        self.ready = False
        self.close_code = code if code is not None else self.ws.close_code
        self._writer.cancel()
        self._notifier.notify()


class Gateway:
    def __init__(
        self,
        world: World,
        notifier: ChangeNotifier,
        *,
        heartbeat_interval: int,
        enabled_privileged_intents: int,
        url: Callable[[], str],
    ) -> None:
        self.world = world
        self.notifier = notifier
        self.heartbeat_interval = heartbeat_interval
        self.enabled_privileged_intents = enabled_privileged_intents
        self._url = url
        self.connections: list[Connection] = []
        self.events: list[SentEvent] = []
        self.sessions: dict[str, Session] = {}
        self.ready_count = 0
        self.identify_count = 0
        self.resume_count = 0
        world.add_sink(self.on_world_event)

    # -- public state -------------------------------------------------------------------
    @property
    def live_connections(self) -> list[Connection]:
        return [c for c in self.connections if not c.closed]

    @property
    def connected(self) -> bool:
        """Whether a bot is connected and past READY/GUILD_CREATE (or RESUMED)."""
        return any(c.ready for c in self.live_connections)

    async def wait_for_ready(self, timeout: float = 10.0, *, after: int | None = None) -> None:
        """Wait for a connection that identified and got every GUILD_CREATE.

        ``after``: only count identifications after this ``ready_count`` (use it across restarts).
        """

        def ready() -> bool:
            return self.connected and (after is None or self.ready_count > after)

        await self.notifier.wait_for(ready, timeout, "the bot to connect (IDENTIFY, READY, GUILD_CREATE)")

    async def wait_for_disconnect(self, timeout: float = 10.0) -> None:
        await self.notifier.wait_for(lambda: not self.live_connections, timeout, "the bot to disconnect")

    # -- dispatching ---------------------------------------------------------------------
    def on_world_event(self, name: str, data: dict[str, Any] | None, guild_id: int | None) -> None:
        self.dispatch(name, data, guild_id)

    def dispatch(
        self,
        name: str,
        data: dict[str, Any] | None,
        guild_id: int | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> int:
        """Send an event to every session that should receive it; returns how many got it queued."""
        count = 0
        for session in self._active_sessions():
            if not session.covers(guild_id):
                continue
            event_data = self._for_session(session, name, data, guild_id)
            if event_data is None:
                continue
            self._send_dispatch(session, name, event_data, on_sent)
            count += 1
        return count

    def dispatch_interaction(self, payload: dict[str, Any], guild_id: int | None, on_sent: Callable[[], None]) -> int:
        """INTERACTION_CREATE goes only to ready, live connections (never buffered)."""
        count = 0
        for conn in self.live_connections:
            if conn.ready and conn.session is not None and conn.session.covers(guild_id):
                self._send_dispatch(conn.session, "INTERACTION_CREATE", payload, on_sent if count == 0 else None)
                count += 1
        return count

    def _active_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if not s.invalidated]

    def _send_dispatch(
        self, session: Session, name: str, data: dict[str, Any], on_sent: Callable[[], None] | None
    ) -> None:
        session.seq += 1
        frame = {"op": DISPATCH, "t": name, "s": session.seq, "d": data}
        session.buffer.append(frame)
        if session.connection is not None and not session.connection.closed:
            session.connection.send(frame, on_sent)

    def _for_session(
        self, session: Session, name: str, data: dict[str, Any] | None, guild_id: int | None
    ) -> dict[str, Any] | None:
        """Apply intents, visibility and the message content gate, like Discord does per session."""
        if name == "GUILD_CREATE" and data is None:
            guild = self.world.guilds.get(guild_id or 0)
            return None if guild is None else self._guild_create(guild, session)
        needed = _EVENT_INTENTS.get(name)
        if needed is not None and not session.intents & needed:
            return None
        # Without GUILD_MEMBERS, THREAD_MEMBERS_UPDATE only comes when the bot itself is added/removed.
        others_hidden = name == "THREAD_MEMBERS_UPDATE" and not session.intents & GUILD_MEMBERS
        if others_hidden and data is not None and not self._touches_bot(data):
            return None
        if name.startswith("MESSAGE_") or name == "TYPING_START":
            return self._message_event(session, data)
        return data

    def _touches_bot(self, data: dict[str, Any]) -> bool:
        bot_id = str(self.world.bot_user.id)
        added = {m.get("user_id") for m in data.get("added_members", [])}
        return bot_id in added or bot_id in data.get("removed_member_ids", [])

    def _message_event(self, session: Session, data: dict[str, Any] | None) -> dict[str, Any] | None:
        if data is None:
            return None
        channel = self.world.channels.get(int(data.get("channel_id", 0)))
        if channel is None or not self._bot_sees(channel):
            return None
        if session.intents & MESSAGE_CONTENT or "author" not in data:
            return data
        bot_id = str(self.world.bot_user.id)
        if data["author"].get("id") == bot_id or any(u.get("id") == bot_id for u in data.get("mentions", [])):
            return data
        gated = copy.copy(data)
        gated.update({k: copy.copy(v) for k, v in _CONTENT_FIELDS.items() if k in data})
        return gated

    def _bot_sees(self, channel: Any) -> bool:
        perms = channel.bot_permissions()
        if not has(perms, P.VIEW_CHANNEL):
            return False
        if channel.is_thread() and channel.private:
            return self.world.bot_user.id in channel.members or has(perms, P.MANAGE_THREADS)
        return True

    def _guild_create(self, guild: Guild, session: Session) -> dict[str, Any]:
        return payloads.guild_create(guild, self.world, include_members=bool(session.intents & GUILD_MEMBERS))

    # -- control ----------------------------------------------------------------------------
    async def close_all(self, code: int = 1000, reason: str = "") -> None:
        for conn in self.live_connections:
            await conn.close(code, reason)

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: discord.py closes and RESUMEs on resume_gateway_url."""
        for conn in self.live_connections:
            conn.send({"op": RECONNECT, "d": None})

    def invalidate_sessions(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION to every live connection."""
        for conn in self.live_connections:
            if conn.session is not None and not resumable:
                conn.session.invalidated = True
            conn.send({"op": INVALID_SESSION, "d": resumable})

    # -- websocket handler --------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = Connection(ws, self.notifier, self.events)
        self.connections.append(conn)
        conn.send({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval, "_trace": ["fake-gateway"]}})
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    if msg.type is WSMsgType.BINARY:
                        await conn.close(4002, "Error while decoding payload.")
                    break
                await self._on_frame(conn, msg.data)
                if conn.closed:
                    break
        finally:
            conn.mark_closed(ws.close_code)
        return ws

    async def _on_frame(self, conn: Connection, raw: str) -> None:
        try:
            frame = json.loads(raw)
            op = frame["op"]
        except (ValueError, KeyError, TypeError):
            await conn.close(4002, "Error while decoding payload.")
            return
        conn.received.append(_redact(frame))
        if op == HEARTBEAT:
            conn.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(conn, frame.get("d") or {})
        elif op == RESUME:
            await self._resume(conn, frame.get("d") or {})
        elif op == REQUEST_MEMBERS:
            self._request_members(conn, frame.get("d") or {})
        elif op in (PRESENCE, VOICE_STATE):
            if conn.session is None:
                await conn.close(4003, "Not authenticated.")
        else:
            await conn.close(4001, "Unknown opcode.")
        self.notifier.notify()

    def _token_ok(self, token: Any) -> bool:
        return isinstance(token, str) and token.removeprefix("Bot ") == self.world.token

    async def _identify(self, conn: Connection, d: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(4005, "Already authenticated.")
            return
        if not self._token_ok(d.get("token")):
            await conn.close(4004, "Authentication failed.")
            return
        intents = d.get("intents")
        if not isinstance(intents, int):
            await conn.close(4013, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.enabled_privileged_intents:
            await conn.close(4014, "Disallowed intent(s).")
            return
        shard = d.get("shard")
        if shard is not None and not (len(shard) == 2 and 0 <= shard[0] < shard[1]):
            await conn.close(4010, "Invalid shard.")
            return
        self.identify_count += 1
        session = Session(secrets.token_hex(16), intents, tuple(shard) if shard else None)
        self._retire_sessions(session)
        self.sessions[session.id] = session
        session.connection = conn
        conn.session = session
        self._send_ready(conn, session)

    def _retire_sessions(self, new: Session) -> None:
        """A fresh IDENTIFY for a shard replaces older, disconnected sessions of that shard."""
        for old in self.sessions.values():
            if old.shard == new.shard and (old.connection is None or old.connection.closed):
                old.invalidated = True

    def _send_ready(self, conn: Connection, session: Session) -> None:
        guilds = [g for g in self.world.guilds.values() if session.covers(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": payloads.current_user(self.world.bot_user),
            "user_settings": {},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._url(),
            "application": {"id": str(self.world.application.id), "flags": self.world.application.flags},
            "private_channels": [],
            "presences": [],
            "relationships": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "auth": {},
            "_trace": ["fake-gateway"],
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        self._send_dispatch(session, "READY", ready, None)
        for guild in guilds:
            self._send_dispatch(session, "GUILD_CREATE", self._guild_create(guild, session), None)
        conn.send(None, lambda: self._mark_ready(conn, resumed=False))

    def _mark_ready(self, conn: Connection, *, resumed: bool) -> None:
        if conn.closed:
            return
        conn.ready = True
        if not resumed:
            self.ready_count += 1

    async def _resume(self, conn: Connection, d: dict[str, Any]) -> None:
        if not self._token_ok(d.get("token")):
            await conn.close(4004, "Authentication failed.")
            return
        session = self.sessions.get(str(d.get("session_id")))
        seq = d.get("seq") or 0
        if session is None or session.invalidated:
            conn.send({"op": INVALID_SESSION, "d": False})
            return
        previous = session.connection
        if previous is not None and previous is not conn and not previous.closed:
            previous.ready = False  # the session moves to the new socket, as on Discord
            await previous.close(4000, "Session resumed elsewhere.")
        self.resume_count += 1
        session.connection = conn
        conn.session = session
        for frame in list(session.buffer):
            if frame["s"] > seq:
                conn.send(frame)
        session.seq += 1
        conn.send({"op": DISPATCH, "t": "RESUMED", "s": session.seq, "d": {"_trace": ["fake-gateway"]}})
        conn.send(None, lambda: self._mark_ready(conn, resumed=True))

    def _request_members(self, conn: Connection, d: dict[str, Any]) -> None:
        if conn.session is None:
            return
        guild = self.world.guilds.get(int(d.get("guild_id", 0)))
        if guild is None:
            return
        members = list(guild.members.values())
        if d.get("user_ids"):
            wanted = {int(u) for u in d["user_ids"]}
            members = [m for m in members if m.id in wanted]
        elif d.get("query"):
            members = [m for m in members if m.username.startswith(d["query"])]
        limit = d.get("limit") or 0
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [payloads.member(m) for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if d.get("nonce"):
            chunk["nonce"] = d["nonce"]
        self._send_dispatch(conn.session, "GUILD_MEMBERS_CHUNK", chunk, None)


def _redact(frame: dict[str, Any]) -> dict[str, Any]:
    d = frame.get("d")
    if isinstance(d, dict) and "token" in d:
        return frame | {"d": d | {"token": "<redacted>"}}
    return frame
