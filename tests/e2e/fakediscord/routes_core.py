"""Users, application, gateway discovery, guilds, roles and application commands."""

from __future__ import annotations

from typing import Any

from . import errors as err
from . import payloads
from .backend import Backend
from .errors import FormErrors
from .permissions import P, base_permissions
from .rest import NO_CONTENT, ApiRequest, RestServer
from .state import CATEGORY, FORUM, TEXT, Channel, Guild


def register(server: RestServer, backend: Backend) -> None:
    routes = CoreRoutes(backend)
    r = server.route
    r("GET", "/users/@me", routes.get_me)
    r("GET", "/users/{user_id}", routes.get_user)
    r("GET", "/oauth2/applications/@me", routes.get_application)
    r("GET", "/applications/@me", routes.get_application)
    r("GET", "/gateway", routes.get_gateway)
    r("GET", "/gateway/bot", routes.get_gateway_bot)
    r("GET", "/guilds/{guild_id}", routes.get_guild)
    r("GET", "/guilds/{guild_id}/channels", routes.get_guild_channels)
    r("POST", "/guilds/{guild_id}/channels", routes.create_guild_channel)
    r("GET", "/guilds/{guild_id}/roles", routes.get_roles)
    r("GET", "/guilds/{guild_id}/members/{user_id}", routes.get_member)
    r("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", routes.add_member_role)
    r("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", routes.remove_member_role)
    for prefix in ("/applications/{application_id}", "/applications/{application_id}/guilds/{guild_id}"):
        r("GET", prefix + "/commands", routes.list_commands)
        r("PUT", prefix + "/commands", routes.bulk_overwrite_commands)
        r("POST", prefix + "/commands", routes.create_command)
        r("GET", prefix + "/commands/{command_id}", routes.get_command)
        r("PATCH", prefix + "/commands/{command_id}", routes.edit_command)
        r("DELETE", prefix + "/commands/{command_id}", routes.delete_command)


class CoreRoutes:
    def __init__(self, backend: Backend) -> None:
        self.b = backend
        self.world = backend.world

    # -- users / application / gateway ------------------------------------------------------
    async def get_me(self, api: ApiRequest) -> Any:
        return payloads.current_user(self.world.bot_user)

    async def get_user(self, api: ApiRequest) -> Any:
        user = self.world.users.get(api.snowflake("user_id"))
        if user is None:
            raise err.unknown_user()
        return payloads.user(user)

    async def get_application(self, api: ApiRequest) -> Any:
        return payloads.application(self.world.application, self.world.bot_user)

    async def get_gateway(self, api: ApiRequest) -> Any:
        return {"url": self.b.gateway_url}

    async def get_gateway_bot(self, api: ApiRequest) -> Any:
        return {
            "url": self.b.gateway_url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1},
        }

    # -- guilds ----------------------------------------------------------------------------------
    async def get_guild(self, api: ApiRequest) -> Any:
        guild = self.b.guild(api)
        data = payloads.guild(guild)
        if api.query.get("with_counts") in ("true", "1", "True"):
            data |= {"approximate_member_count": len(guild.members), "approximate_presence_count": 0}
        return data

    async def get_guild_channels(self, api: ApiRequest) -> Any:
        return [payloads.channel(c) for c in self.b.guild(api).channels.values()]

    async def create_guild_channel(self, api: ApiRequest) -> Any:
        guild = self.b.guild(api)
        self.b.require(base_permissions(guild, guild.me), P.MANAGE_CHANNELS)
        body = api.body
        errors = FormErrors()
        name = body.get("name") or ""
        if not 1 <= len(name) <= 100:
            errors.bad_length(["name"], 1, 100)
        kind = body.get("type", TEXT)
        if kind not in (TEXT, CATEGORY, FORUM):
            errors.add(["type"], "BASE_TYPE_CHOICES", f"Value must be one of {{{TEXT}, {CATEGORY}, {FORUM}}}.")
        errors.raise_if_any()
        parent = guild.channels.get(int(body["parent_id"])) if body.get("parent_id") else None
        channel: Channel
        if kind == CATEGORY:
            channel = guild.add_category(name)
        elif kind == FORUM:
            channel = guild.add_forum_channel(name, [t["name"] for t in body.get("available_tags") or []])
        else:
            channel = guild.add_text_channel(name, topic=body.get("topic"))
        channel.parent_id = parent.id if parent else None
        for ow in body.get("permission_overwrites") or []:
            channel.set_overwrite(int(ow["id"]), allow=int(ow.get("allow", 0)), deny=int(ow.get("deny", 0)))
        return payloads.channel(channel)

    async def get_roles(self, api: ApiRequest) -> Any:
        return [payloads.role(r) for r in self.b.guild(api).roles.values()]

    async def get_member(self, api: ApiRequest) -> Any:
        guild = self.b.guild(api)
        member = guild.members.get(api.snowflake("user_id"))
        if member is None:
            raise err.unknown_member()
        return payloads.member(member)

    async def add_member_role(self, api: ApiRequest) -> Any:
        guild, member, role = self._role_target(api)
        if role.id not in member.role_ids:
            guild.set_member_roles(member, [guild.roles[r] for r in member.role_ids] + [role])
        return NO_CONTENT

    async def remove_member_role(self, api: ApiRequest) -> Any:
        guild, member, role = self._role_target(api)
        if role.id in member.role_ids:
            guild.set_member_roles(member, [guild.roles[r] for r in member.role_ids if r != role.id])
        return NO_CONTENT

    def _role_target(self, api: ApiRequest) -> tuple[Guild, Any, Any]:
        guild = self.b.guild(api)
        member = guild.members.get(api.snowflake("user_id"))
        if member is None:
            raise err.unknown_member()
        role = guild.roles.get(api.snowflake("role_id"))
        if role is None:
            raise err.unknown_role()
        me = guild.me
        self.b.require(base_permissions(guild, me), P.MANAGE_ROLES)
        top = max(guild.roles[r].position for r in me.role_ids)
        if role.position >= top or role.managed:
            raise err.missing_permissions()
        return guild, member, role

    # -- application commands -------------------------------------------------------------------
    def _scope(self, api: ApiRequest) -> int | None:
        if api.snowflake("application_id") != self.world.application.id:
            raise err.DiscordAPIError(403, 20012, "You are not authorized to perform this action on this application")
        if "guild_id" not in api.request.match_info:
            return None
        guild_id = api.snowflake("guild_id")
        if guild_id not in self.world.guilds:
            raise err.missing_access()
        return guild_id

    async def list_commands(self, api: ApiRequest) -> Any:
        return self.world.commands.get_all(self._scope(api))

    async def bulk_overwrite_commands(self, api: ApiRequest) -> Any:
        scope = self._scope(api)
        body = api.json
        if not isinstance(body, list):
            raise err.form_error([], "BASE_TYPE_ARRAY", "Must be an array.")
        return self.world.commands.bulk_overwrite(scope, body)

    async def create_command(self, api: ApiRequest) -> Any:
        return self.world.commands.add(self._scope(api), api.body)

    async def get_command(self, api: ApiRequest) -> Any:
        command = self.world.commands.get(self._scope(api), api.snowflake("command_id"))
        if command is None:
            raise err.unknown_command()
        return command

    async def edit_command(self, api: ApiRequest) -> Any:
        scope = self._scope(api)
        command = self.world.commands.get(scope, api.snowflake("command_id"))
        if command is None:
            raise err.unknown_command()
        return self.world.commands.add(scope, command | api.body)

    async def delete_command(self, api: ApiRequest) -> Any:
        if not self.world.commands.delete(self._scope(api), api.snowflake("command_id")):
            raise err.unknown_command()
        return NO_CONTENT
