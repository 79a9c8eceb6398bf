"""Building INTERACTION_CREATE payloads the way a Discord client would produce them.

Test-side mistakes (unknown command or option, wrong value type, a value the client UI
would never let a user submit) raise :class:`InvocationError` with a helpful message.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from . import payloads
from .messages import guess_content_type
from .models import Attachment, Member, Message, Role, User
from .permissions import base_permissions, channel_permissions, has

if TYPE_CHECKING:
    from .interactions import Modal
    from .state import Channel, Guild, World

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
_OPTION_TYPE_NAMES = {
    STRING: "string",
    INTEGER: "integer",
    BOOLEAN: "boolean",
    USER: "user",
    CHANNEL: "channel",
    ROLE: "role",
    MENTIONABLE: "mentionable",
    NUMBER: "number",
    ATTACHMENT: "attachment",
}
SELECT_TYPES = {3: "string", 5: "user", 6: "role", 7: "mentionable", 8: "channel"}


class InvocationError(AssertionError):
    """The test asked for something a real Discord client could not send."""


@dataclasses.dataclass
class FileUpload:
    """A file a user attaches to an attachment option or a file-upload modal field."""

    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None


class Resolver:
    """Collects the ``resolved`` map for snowflake-typed values."""

    def __init__(self, world: World, guild: Guild, channel: Channel, invoker: Member) -> None:
        self.world = world
        self.guild = guild
        self.channel = channel
        self.invoker = invoker
        self.users: dict[str, Any] = {}
        self.members: dict[str, Any] = {}
        self.roles: dict[str, Any] = {}
        self.channels: dict[str, Any] = {}
        self.attachments: dict[str, Any] = {}

    def user(self, target: Member | User | int) -> str:
        if isinstance(target, int):
            target = self.guild.members.get(target) or self.world.users[target]
        user = target.user if isinstance(target, Member) else target
        self.users[str(user.id)] = payloads.user(user)
        member = self.guild.members.get(user.id)
        if member is not None:
            perms = channel_permissions(self.channel, member)
            self.members[str(user.id)] = payloads.member(member, with_user=False) | {"permissions": str(perms)}
        return str(user.id)

    def role(self, target: Role | int) -> str:
        role = target if isinstance(target, Role) else self.guild.roles[int(target)]
        self.roles[str(role.id)] = payloads.role(role)
        return str(role.id)

    def channel_value(self, target: Channel | int) -> str:
        channel = target if not isinstance(target, int) else self.world.channels[target]
        perms = channel_permissions(channel, self.invoker)
        self.channels[str(channel.id)] = payloads.channel(channel) | {"permissions": str(perms)}
        return str(channel.id)

    def attachment(self, upload: FileUpload | Attachment | tuple[str, bytes]) -> str:
        if isinstance(upload, tuple):
            upload = FileUpload(*upload)
        if isinstance(upload, FileUpload):
            attachment_id = self.world.ids.next()
            attachment = Attachment(
                id=attachment_id,
                filename=upload.filename,
                data=upload.data,
                url=self.world.attachment_url(self.channel.id, attachment_id, upload.filename),
                content_type=upload.content_type or guess_content_type(upload.filename),
                description=upload.description,
                ephemeral=True,
            )
            self.world.attachments[attachment_id] = attachment
        else:
            attachment = upload
        self.attachments[str(attachment.id)] = payloads.attachment(attachment)
        return str(attachment.id)

    def mentionable(self, target: Member | User | Role | int) -> str:
        if isinstance(target, Role) or (isinstance(target, int) and target in self.guild.roles):
            return self.role(target)
        return self.user(target)

    def payload(self) -> dict[str, Any] | None:
        out = {
            k: v
            for k, v in {
                "users": self.users,
                "members": self.members,
                "roles": self.roles,
                "channels": self.channels,
                "attachments": self.attachments,
            }.items()
            if v
        }
        return out or None


# -- application commands ----------------------------------------------------------------------
def check_command_available(command: dict[str, Any], guild: Guild, member: Member) -> None:
    """Discord's client hides commands a member may not use; refuse to invoke those."""
    required = command.get("default_member_permissions")
    if required is not None:
        perms = base_permissions(guild, member)
        if not has(perms, int(required)):
            raise InvocationError(
                f"/{command['name']} requires default_member_permissions={required} which "
                f"{member.username} lacks (Discord would not show the command); pass force=True to send anyway"
            )
    contexts = command.get("contexts")
    if contexts is not None and 0 not in contexts:
        raise InvocationError(f"/{command['name']} is not available in guilds (contexts={contexts})")


def command_data(
    command: dict[str, Any],
    path: list[str],
    values: dict[str, Any],
    resolver: Resolver,
    *,
    focused: str | None = None,
) -> dict[str, Any]:
    """The ``data`` of a type-2 (or, with ``focused``, type-4) interaction."""
    schema_options: list[dict[str, Any]] = command.get("options") or []
    chain: list[dict[str, Any]] = []
    for name in path[1:]:
        sub = next((o for o in schema_options if o["name"] == name and o["type"] in (1, 2)), None)
        if sub is None:
            known = [o["name"] for o in schema_options if o["type"] in (1, 2)]
            raise InvocationError(f"/{' '.join(path)}: no subcommand {name!r}; available: {known}")
        chain.append(sub)
        schema_options = sub.get("options") or []
    if any(o["type"] in (1, 2) for o in schema_options):
        known = [o["name"] for o in schema_options]
        raise InvocationError(f"/{' '.join(path)} is a group; pick a subcommand: {known}")
    leaf = _leaf_options(path, schema_options, values, resolver, focused)
    for sub in reversed(chain):
        leaf = [{"type": sub["type"], "name": sub["name"], "options": leaf}]
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": command.get("type", 1),
        "options": leaf,
    }
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    resolved = resolver.payload()
    if resolved:
        data["resolved"] = resolved
    return data


def _leaf_options(
    path: list[str],
    schema: list[dict[str, Any]],
    values: dict[str, Any],
    resolver: Resolver,
    focused: str | None,
) -> list[dict[str, Any]]:
    by_name = {o["name"]: o for o in schema}
    for name in values:
        if name not in by_name:
            raise InvocationError(f"/{' '.join(path)} has no option {name!r}; options: {list(by_name)}")
    if focused is None:
        missing = [o["name"] for o in schema if o.get("required") and o["name"] not in values]
        if missing:
            raise InvocationError(f"/{' '.join(path)}: missing required options {missing}")
    elif focused not in by_name:
        raise InvocationError(f"/{' '.join(path)}: no option {focused!r} to autocomplete")
    options = []
    for option in schema:  # Discord sends options in the command's declared order
        name = option["name"]
        if name not in values:
            continue
        if name == focused:
            options.append({"type": option["type"], "name": name, "value": str(values[name]), "focused": True})
            continue
        value = convert_option(path, option, values[name], resolver)
        options.append({"type": option["type"], "name": name, "value": value})
    return options


def convert_option(path: list[str], option: dict[str, Any], value: Any, resolver: Resolver) -> Any:
    kind = option["type"]
    where = f"/{' '.join(path)} option {option['name']!r} ({_OPTION_TYPE_NAMES.get(kind, kind)})"
    converted = _convert(kind, value, resolver, where)
    _check_constraints(option, converted, value, where)
    return converted


def _convert(kind: int, value: Any, resolver: Resolver, where: str) -> Any:
    if kind == STRING and isinstance(value, str):
        return value
    if kind == INTEGER and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == NUMBER and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if kind == BOOLEAN and isinstance(value, bool):
        return value
    if kind == USER and isinstance(value, (Member, User, int)):
        return resolver.user(value)
    if kind == ROLE and isinstance(value, (Role, int)):
        return resolver.role(value)
    if kind == MENTIONABLE and isinstance(value, (Member, User, Role, int)):
        return resolver.mentionable(value)
    if kind == CHANNEL and (isinstance(value, int) or hasattr(value, "guild")):
        return resolver.channel_value(value)
    if kind == ATTACHMENT and isinstance(value, (FileUpload, Attachment, tuple)):
        return resolver.attachment(value)
    raise InvocationError(f"{where}: cannot send {value!r} ({type(value).__name__})")


def _check_constraints(option: dict[str, Any], converted: Any, raw: Any, where: str) -> None:
    choices = option.get("choices")
    if choices and converted not in [c["value"] for c in choices]:
        raise InvocationError(f"{where}: {converted!r} is not one of the choices {[c['value'] for c in choices]}")
    if option["type"] == STRING and not option.get("min_length", 0) <= len(converted) <= option.get("max_length", 6000):
        raise InvocationError(f"{where}: length {len(converted)} outside the allowed range")
    if option["type"] in (INTEGER, NUMBER):
        low, high = option.get("min_value"), option.get("max_value")
        if (low is not None and converted < low) or (high is not None and converted > high):
            raise InvocationError(f"{where}: {converted} outside [{low}, {high}]")
    if option["type"] == CHANNEL and option.get("channel_types"):
        channel_type = raw.type if hasattr(raw, "type") else None
        if channel_type is not None and channel_type not in option["channel_types"]:
            raise InvocationError(f"{where}: channel type {channel_type} not in {option['channel_types']}")


# -- the INTERACTION_CREATE envelope --------------------------------------------------------------
def interaction_payload(
    world: World,
    *,
    interaction_id: int,
    token: str,
    type: int,
    guild: Guild,
    channel: Channel,
    member: Member,
    data: dict[str, Any],
    message: Message | None = None,
    locale: str = "en-US",
) -> dict[str, Any]:
    perms = channel_permissions(channel, member)
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(world.application.id),
        "type": type,
        "data": data,
        "guild": {"id": str(guild.id), "locale": guild.preferred_locale, "features": list(guild.features)},
        "guild_id": str(guild.id),
        "guild_locale": guild.preferred_locale,
        "channel": payloads.channel(channel) | {"permissions": str(perms)},
        "channel_id": str(channel.id),
        "member": payloads.member(member) | {"permissions": str(perms)},
        "token": token,
        "version": 1,
        "app_permissions": str(channel.bot_permissions()),
        "locale": locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if message is not None:
        payload["message"] = payloads.message(message, world)
    return payload


# -- message components -----------------------------------------------------------------------
def component_data(message: Message, custom_id: str, values: list[Any] | None, resolver: Resolver) -> dict[str, Any]:
    component = message.find_component(custom_id)
    if component is None:
        known = [c.get("custom_id") for c in message.iter_components() if c.get("custom_id")]
        raise InvocationError(f"message {message.id} has no component {custom_id!r}; custom_ids: {known}")
    if component.get("disabled"):
        raise InvocationError(f"component {custom_id!r} is disabled; a user cannot use it")
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
    if "id" in component:
        data["id"] = component["id"]
    if component["type"] == 2:
        if values is not None:
            raise InvocationError(f"{custom_id!r} is a button; use click()")
        return data
    if component["type"] not in SELECT_TYPES:
        raise InvocationError(f"{custom_id!r} is component type {component['type']}, not clickable")
    data["values"] = select_values(component, values or [], resolver)
    resolved = resolver.payload()
    if resolved:
        data["resolved"] = resolved
    return data


def select_values(component: dict[str, Any], values: list[Any], resolver: Resolver) -> list[str]:
    """Validate and convert chosen values for a select of any kind."""
    custom_id = component.get("custom_id")
    low, high = component.get("min_values", 1), component.get("max_values", 1)
    if not low <= len(values) <= high:
        raise InvocationError(f"select {custom_id!r} takes {low}..{high} values, got {len(values)}")
    kind = component["type"]
    if kind == 3:
        allowed = [o["value"] for o in component.get("options", [])]
        for value in values:
            if value not in allowed:
                raise InvocationError(f"select {custom_id!r}: {value!r} is not an option; options: {allowed}")
        return [str(v) for v in values]
    convert = {5: resolver.user, 6: resolver.role, 7: resolver.mentionable, 8: resolver.channel_value}[kind]
    return [convert(v) for v in values]


# -- modal submit ----------------------------------------------------------------------------------
def modal_submit_data(modal: Modal, values: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    """Answer every input of ``modal``; works for ActionRow+TextInput and Label-wrapped inputs."""
    inputs = modal.inputs()
    for custom_id in values:
        if custom_id not in inputs:
            raise InvocationError(f"modal {modal.custom_id!r} has no input {custom_id!r}; inputs: {list(inputs)}")
    components = [_submit_component(c, values, resolver) for c in modal.components]
    data: dict[str, Any] = {"custom_id": modal.custom_id, "components": [c for c in components if c is not None]}
    resolved = resolver.payload()
    if resolved:
        data["resolved"] = resolved
    return data


def _submit_component(component: dict[str, Any], values: dict[str, Any], resolver: Resolver) -> dict[str, Any] | None:
    kind = component["type"]
    if kind == 1:
        children = [_submit_leaf(c, values, resolver) for c in component.get("components", [])]
        return {"type": 1, "id": component.get("id"), "components": children}
    if kind == 18:
        return {
            "type": 18,
            "id": component.get("id"),
            "component": _submit_leaf(component["component"], values, resolver),
        }
    if kind == 10:
        return {"type": 10, "id": component.get("id"), "content": component.get("content", "")}
    return None


def _submit_leaf(component: dict[str, Any], values: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    kind = component["type"]
    custom_id = component.get("custom_id", "")
    base = {"type": kind, "id": component.get("id"), "custom_id": custom_id}
    if kind == 4:
        return base | {"value": _text_value(component, values.get(custom_id))}
    if kind in SELECT_TYPES:
        chosen = values.get(custom_id, [])
        chosen = list(chosen) if isinstance(chosen, (list, tuple)) else [chosen]
        if not chosen and not component.get("required", True):
            return base | {"values": []}
        return base | {"values": select_values(component, chosen, resolver)}
    if kind == 19:
        uploads = values.get(custom_id, [])
        return base | {"values": [resolver.attachment(u) for u in uploads]}
    if kind == 21:
        return base | {"value": values.get(custom_id)}
    if kind == 22:
        return base | {"values": list(values.get(custom_id, []))}
    if kind == 23:
        return base | {"value": bool(values.get(custom_id, False))}
    raise InvocationError(f"modal component type {kind} is not supported by the fake")


def _text_value(component: dict[str, Any], value: Any) -> str:
    custom_id = component.get("custom_id")
    text = (component.get("value") or "") if value is None else value
    if not isinstance(text, str):
        raise InvocationError(f"text input {custom_id!r} takes a string, got {text!r}")
    if component.get("required", True) and not text:
        raise InvocationError(f"text input {custom_id!r} is required")
    if text and len(text) < component.get("min_length", 0):
        raise InvocationError(f"text input {custom_id!r}: at least {component['min_length']} characters")
    if len(text) > component.get("max_length", 4000):
        raise InvocationError(f"text input {custom_id!r}: at most {component['max_length']} characters")
    return text
