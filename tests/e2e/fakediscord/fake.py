"""FakeDiscord: the loopback Discord (REST + gateway) and the test-facing API."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from . import routes_channels, routes_core, routes_interactions, routes_threads
from .backend import Backend
from .driver import (
    InvocationError,
    Resolver,
    check_command_available,
    command_data,
    component_data,
    interaction_payload,
    modal_submit_data,
)
from .errors import DiscordAPIError
from .faults import Fault, FaultInjector
from .gateway import PRIVILEGED_INTENTS, Gateway, SentEvent
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    InteractionManager,
    InteractionRecord,
    InteractionReply,
    Modal,
    PendingInteraction,
)
from .messages import create_message
from .models import Member, Message, User
from .permissions import P, names
from .recorder import RecordedRequest, RequestLog
from .rest import API_PREFIX, RateLimitPolicy, RestServer, rate_limit_body, rate_limit_headers
from .state import Channel, Guild, TextChannel, Thread, World
from .waiting import ChangeNotifier

T = TypeVar("T")


class FakeDiscord:
    """An in-process Discord for the real discord.py client.

    Use as ``async with FakeDiscord() as fake:`` (or the ``fake_discord`` fixture), build
    guilds with :meth:`add_guild`, point the bot at :meth:`env`, then drive it with
    :meth:`slash`, :meth:`click`, :meth:`select`, :meth:`submit_modal`, :meth:`post_message`.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_name: str = "WatchClub",
        application_id: int | None = None,
        heartbeat_interval: int = 41250,
        interaction_deadline: float = 3.0,
        response_timeout: float = 5.0,
        enabled_privileged_intents: int = PRIVILEGED_INTENTS,
        rate_limits: RateLimitPolicy | None = None,
        nonce_window: float = 300.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token or f"fake.{secrets.token_urlsafe(24)}"
        self.host = host
        self.port = 0
        self.response_timeout = response_timeout
        self.notifier = ChangeNotifier()
        self.world = World(token=self.token, bot_name=bot_name, application_id=application_id)
        self.world.add_change_hook(self.notifier.notify)
        self.log = RequestLog()
        self.faults = FaultInjector()
        self.gateway = Gateway(
            self.world,
            self.notifier,
            heartbeat_interval=heartbeat_interval,
            enabled_privileged_intents=enabled_privileged_intents,
            url=lambda: self.gateway_url,
        )
        self.interactions = InteractionManager(self.world, self.gateway, self.notifier, deadline=interaction_deadline)
        self._rate_limits = rate_limits or RateLimitPolicy()
        self._backend = Backend(
            self.world,
            self.gateway,
            self.interactions,
            self.notifier,
            gateway_url="",
            enabled_privileged_intents=enabled_privileged_intents,
            nonce_window=nonce_window,
        )
        self._runner: web.AppRunner | None = None

    # -- life cycle -----------------------------------------------------------------------------------
    async def start(self) -> FakeDiscord:
        loop = asyncio.get_running_loop()
        server = RestServer(
            token=self.token,
            log=self.log,
            faults=self.faults,
            notifier=self.notifier,
            rate_limits=self._rate_limits,
            clock=loop.time,
        )
        backend = self._backend
        for module in (routes_core, routes_channels, routes_threads, routes_interactions):
            module.register(server, backend)
        server.app.router.add_get("/gateway", self.gateway.handle)
        server.app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._serve_attachment)
        self._runner = web.AppRunner(server.app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        backend.gateway_url = self.gateway_url
        self.world.cdn_base = f"{self.base_url}/attachments"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self.gateway.close_all(1001, "Fake Discord is shutting down")
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        attachment = self.world.attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(
            body=attachment.data, content_type=(attachment.content_type or "application/octet-stream").split(";")[0]
        )

    # -- addresses ----------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    def env(self) -> dict[str, str]:
        """The environment variables that point a bot at this fake."""
        return {
            "DISCORD_TOKEN": self.token,
            "DISCORD_API_BASE": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
        }

    # -- state -------------------------------------------------------------------------------------------------
    @property
    def bot_user(self) -> User:
        return self.world.bot_user

    @property
    def application_id(self) -> int:
        return self.world.application.id

    def add_guild(self, name: str, **kwargs: Any) -> Guild:
        """See :meth:`World.add_guild` (``everyone_permissions``, ``bot_permissions``, ``owner``, ``locale``)."""
        return self.world.add_guild(name, **kwargs)

    def guild(self, key: int | str) -> Guild:
        return self.world.guild(key)

    def channel(self, channel_id: int) -> Channel:
        channel = self.world.channels.get(int(channel_id)) or self.world.deleted_channels.get(int(channel_id))
        if channel is None:
            raise KeyError(f"no channel {channel_id}")
        return channel

    def thread(self, thread_id: int | str) -> Thread:
        channel = self.channel(int(thread_id))
        if not isinstance(channel, Thread):
            raise KeyError(f"channel {thread_id} is not a thread")
        return channel

    def message(self, message_id: int | str) -> Message:
        return self.world.messages[int(message_id)]

    # -- gateway -------------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.gateway.connected

    @property
    def ready_count(self) -> int:
        return self.gateway.ready_count

    async def wait_for_ready(self, timeout: float = 15.0, *, after: int | None = None) -> None:
        await self.gateway.wait_for_ready(timeout, after=after)

    async def wait_for_disconnect(self, timeout: float = 10.0) -> None:
        await self.gateway.wait_for_disconnect(timeout)

    def events(self, name: str | None = None) -> list[SentEvent]:
        """Gateway dispatches actually written to the bot (after intent/visibility filtering)."""
        return [e for e in self.gateway.events if name is None or e.name == name]

    async def wait_for_event(
        self, name: str, predicate: Callable[[Any], bool] | None = None, timeout: float = 5.0
    ) -> SentEvent:
        """Wait until an event ``name`` whose ``data`` matches ``predicate`` was sent to the bot."""

        def found() -> SentEvent | None:
            matches = [e for e in self.events(name) if predicate is None or predicate(e.data)]
            return matches[-1] if matches else None

        return await self.wait_for(found, timeout, f"a {name} dispatch")

    def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None = None) -> int:
        """Send an arbitrary gateway dispatch to connected sessions (intents permitting)."""
        return self.gateway.dispatch(event, data, guild_id)

    # -- request log ---------------------------------------------------------------------------------------
    def requests(self, method: str | None = None, route: str | None = None, **filters: Any) -> list[RecordedRequest]:
        """Recorded REST requests, e.g. ``requests("PATCH", "/channels/{channel_id}/messages/{message_id}")``."""
        return self.log.find(method, route, **filters)

    def unhandled_requests(self) -> list[RecordedRequest]:
        return self.log.unhandled()

    async def wait_for_request(
        self,
        method: str | None = None,
        route: str | None = None,
        *,
        timeout: float = 5.0,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        **filters: Any,
    ) -> RecordedRequest:
        """Wait until a matching request has been answered and return the latest one."""

        def found() -> RecordedRequest | None:
            matches = [r for r in self.log.find(method, route, predicate=predicate, **filters) if r.status is not None]
            return matches[-1] if matches else None

        return await self.wait_for(found, timeout, f"a request {method or '*'} {route or '*'} {filters or ''}")

    async def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 5.0, description: str = "condition"
    ) -> T:
        """Wait until ``predicate()`` is truthy (re-checked on every change in the fake)."""
        return await self.notifier.wait_for(predicate, timeout, description)

    async def wait_for_message(
        self, channel: Channel, predicate: Callable[[Message], bool] | None = None, timeout: float = 5.0
    ) -> Message:
        """The latest live message in ``channel`` matching ``predicate``."""

        def found() -> Message | None:
            matches = [m for m in channel.history() if predicate is None or predicate(m)]
            return matches[-1] if matches else None

        return await self.wait_for(found, timeout, f"a message in #{channel.name}")

    def add_context_provider(self, provider: Callable[[], str]) -> None:
        """Text appended to every timeout error (the bot process registers its log tail here)."""
        self.notifier.context_providers.append(provider)

    def remove_context_provider(self, provider: Callable[[], str]) -> None:
        if provider in self.notifier.context_providers:
            self.notifier.context_providers.remove(provider)

    # -- fault injection ---------------------------------------------------------------------------------------
    def inject_fault(
        self,
        method: str | None = None,
        route: str | None = None,
        *,
        status: int = 500,
        code: int = 0,
        message: str = "500: Internal Server Error",
        errors: dict[str, Any] | None = None,
        times: int | None = 1,
        headers: dict[str, str] | None = None,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        **params: Any,
    ) -> Fault:
        """Answer matching requests with a Discord error ``times`` times (``None``: until cleared).

        ``params`` filter on path parameters, e.g. ``channel_id=channel.id``.
        """
        body = DiscordAPIError(status, code, message, errors).body()
        fault = Fault(
            method, route, {k: str(v) for k, v in params.items()}, status, body, headers or {}, times, predicate
        )
        return self.faults.add(fault)

    def inject_rate_limit(
        self,
        method: str | None = None,
        route: str | None = None,
        *,
        retry_after: float = 0.5,
        times: int | None = 1,
        global_: bool = False,
        scope: str = "user",
        **params: Any,
    ) -> Fault:
        """A real-looking 429 (body with ``retry_after``, ``Retry-After``/``X-RateLimit-*``/``Via`` headers)."""
        fault = Fault(
            method,
            route,
            {k: str(v) for k, v in params.items()},
            429,
            rate_limit_body(retry_after, global_=global_),
            rate_limit_headers(retry_after, bucket=route or "", global_=global_, scope=scope),
            times,
        )
        return self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    # -- application commands ----------------------------------------------------------------------------------
    def commands(self, guild: Guild | None = None) -> list[dict[str, Any]]:
        return self.world.commands.get_all(guild.id if guild else None)

    def sync_count(self, guild: Guild | None = None) -> int:
        """How many times the bot bulk-overwrote (PUT) commands for ``guild`` (``None``: global)."""
        return self.world.commands.sync_counts[guild.id if guild else None]

    async def wait_for_commands(self, *names: str, guild: Guild | None = None, timeout: float = 10.0) -> None:
        gid = guild.id if guild else None
        await self.wait_for(
            lambda: all(self.world.commands.find(gid, n) for n in names),
            timeout,
            f"commands {names} to be registered",
        )

    # -- driving the bot as a user ----------------------------------------------------------------------------
    def slash(
        self,
        guild: Guild,
        member: Member,
        command: str,
        /,
        *,
        in_channel: Channel | None = None,
        options: dict[str, Any] | None = None,
        user_locale: str = "en-US",
        force: bool = False,
        response_timeout: float | None = None,
        **option_values: Any,
    ) -> PendingInteraction:
        """Invoke ``/command [group] [sub]`` as ``member``; ``await`` the result for the bot's reply.

        Option values go in keyword arguments (or ``options={...}`` for names that collide with
        the parameters here); ``in_channel`` is where the command is typed (default: first text
        channel). ``force=True`` skips the ``default_member_permissions`` check.
        """
        path = command.strip().lstrip("/").split()
        schema = self._command(guild, path)
        channel = in_channel or self._default_channel(guild)
        if not force:
            check_command_available(schema, guild, member)
            self._require(member, channel, P.VIEW_CHANNEL | P.USE_APPLICATION_COMMANDS, f"use /{path[0]}")
        resolver = Resolver(self.world, guild, channel, member)
        data = command_data(schema, path, {**(options or {}), **option_values}, resolver)
        label = f"/{' '.join(path)}"
        return self._send(APPLICATION_COMMAND, label, guild, channel, member, data, user_locale, response_timeout)

    def autocomplete(
        self,
        guild: Guild,
        member: Member,
        command: str,
        focused: str,
        value: str = "",
        /,
        *,
        in_channel: Channel | None = None,
        options: dict[str, Any] | None = None,
        response_timeout: float | None = None,
        **option_values: Any,
    ) -> PendingInteraction:
        """Type ``value`` into option ``focused``; ``(await ...).choices`` are the bot's suggestions."""
        path = command.strip().lstrip("/").split()
        schema = self._command(guild, path)
        channel = in_channel or self._default_channel(guild)
        resolver = Resolver(self.world, guild, channel, member)
        values = {**(options or {}), **option_values, focused: value}
        data = command_data(schema, path, values, resolver, focused=focused)
        label = f"autocomplete /{' '.join(path)} {focused}={value!r}"
        return self._send(AUTOCOMPLETE, label, guild, channel, member, data, "en-US", response_timeout)

    def click(
        self, message: Message, custom_id: str, member: Member, *, timeout: float | None = None
    ) -> PendingInteraction:
        """Click the button ``custom_id`` on ``message``."""
        return self._component(message, custom_id, None, member, timeout, f"click {custom_id!r}")

    def select(
        self, message: Message, custom_id: str, values: list[Any], member: Member, *, timeout: float | None = None
    ) -> PendingInteraction:
        """Choose ``values`` in the select ``custom_id`` (strings, or members/roles/channels)."""
        return self._component(message, custom_id, values, member, timeout, f"select {custom_id!r} {values!r}")

    def submit_modal(
        self,
        modal: InteractionReply | Modal,
        values: dict[str, Any],
        member: Member | None = None,
        *,
        timeout: float | None = None,
    ) -> PendingInteraction:
        """Submit a modal the bot opened; ``values`` by custom_id (str for text, list for selects)."""
        modal = modal.modal if isinstance(modal, InteractionReply) else modal
        origin = modal.record
        member = member or origin.member
        resolver = Resolver(self.world, origin.guild, origin.channel, member)
        data = modal_submit_data(modal, values, resolver)
        return self._send(
            MODAL_SUBMIT,
            f"modal {modal.custom_id!r}",
            origin.guild,
            origin.channel,
            member,
            data,
            "en-US",
            timeout,
            source=origin.source_message,
        )

    def post_message(
        self,
        channel: Channel,
        member: Member,
        content: str = "",
        *,
        embeds: list[dict[str, Any]] | None = None,
        reply_to: Message | None = None,
    ) -> Message:
        """A member posts in a channel or thread (MESSAGE_CREATE goes to the bot)."""
        body: dict[str, Any] = {"content": content, "embeds": embeds or []}
        if reply_to is not None:
            body["message_reference"] = {"message_id": str(reply_to.id), "channel_id": str(reply_to.channel_id)}
        send = P.SEND_MESSAGES_IN_THREADS if channel.is_thread() else P.SEND_MESSAGES
        perms = self._require(member, channel, P.VIEW_CHANNEL | send, "post")
        message = create_message(self.world, channel, member.user, body, [], author_perms=perms)
        routes_channels.publish_message(self._backend, channel, message)
        return message

    @property
    def interaction_records(self) -> list[InteractionRecord]:
        return list(self.interactions.records.values())

    def latencies(self) -> list[float]:
        """Response latencies (dispatch to first callback) of every answered interaction."""
        return [r.latency for r in self.interaction_records if r.latency is not None]

    def latency_summary(self) -> dict[str, float | int]:
        """Counts and latency percentiles (seconds) over every interaction sent so far."""
        records = self.interaction_records
        values = sorted(self.latencies())

        def pct(q: float) -> float:
            return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0

        return {
            "sent": len(records),
            "answered": len(values),
            "late": sum(r.deadline_missed for r in records),
            "unanswered": sum(r.initial is None and not r.deadline_missed for r in records),
            "p50": pct(0.50),
            "p95": pct(0.95),
            "max": values[-1] if values else 0.0,
        }

    # -- helpers --------------------------------------------------------------------------------------------
    @staticmethod
    def _require(member: Member, channel: Channel, needed: int, action: str) -> int:
        """A user can only act where Discord lets them; a test asking otherwise is a test bug."""
        perms = channel.permissions_for(member)
        if perms & needed != needed:
            missing = ", ".join(names(needed & ~perms))
            raise InvocationError(f"{member.username} cannot {action} in #{channel.name}: missing {missing}")
        return perms

    def _command(self, guild: Guild, path: list[str]) -> dict[str, Any]:
        if not path:
            raise InvocationError("empty command name")
        schema = self.world.commands.find(guild.id, path[0])
        if schema is None:
            names = self.world.commands.names(guild.id)
            raise InvocationError(
                f"/{path[0]} is not registered for {guild.name} (registered: {names or 'none'}); "
                "did the bot sync? use `await fake.wait_for_commands(...)`"
            )
        return schema

    def _default_channel(self, guild: Guild) -> Channel:
        for channel in guild.channels.values():
            if isinstance(channel, TextChannel):
                return channel
        raise InvocationError(f"{guild.name} has no text channel to invoke commands in; pass channel=")

    def _component(
        self,
        message: Message,
        custom_id: str,
        values: list[Any] | None,
        member: Member,
        timeout: float | None,
        label: str,
    ) -> PendingInteraction:
        channel = self.channel(message.channel_id)
        guild = channel.guild
        self._require(member, channel, P.VIEW_CHANNEL, "use components")
        resolver = Resolver(self.world, guild, channel, member)
        data = component_data(message, custom_id, values, resolver)
        return self._send(MESSAGE_COMPONENT, label, guild, channel, member, data, "en-US", timeout, source=message)

    def _send(
        self,
        kind: int,
        label: str,
        guild: Guild,
        channel: Channel,
        member: Member,
        data: dict[str, Any],
        locale: str,
        timeout: float | None,
        source: Message | None = None,
    ) -> PendingInteraction:
        interaction_id = self.world.ids.next()
        token = f"aW50ZXJhY3Rpb246{interaction_id}:{secrets.token_urlsafe(48)}"
        payload = interaction_payload(
            self.world,
            interaction_id=interaction_id,
            token=token,
            type=kind,
            guild=guild,
            channel=channel,
            member=member,
            data=data,
            message=source,
            locale=locale,
        )
        record = InteractionRecord(
            interaction_id=interaction_id,
            token=token,
            type=kind,
            payload=payload,
            guild=guild,
            channel=channel,
            member=member,
            label=label,
            deadline=self.interactions.deadline,
            source_message=source,
        )
        self.interactions.dispatch(record)
        return PendingInteraction(record, self.notifier, timeout or self.response_timeout)


__all__ = ["FakeDiscord"]
