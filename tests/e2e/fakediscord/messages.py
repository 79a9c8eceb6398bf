"""Message bodies as Discord validates and stores them (channel messages and interaction replies)."""

from __future__ import annotations

import copy
import mimetypes
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from . import errors as err
from .errors import FormErrors, PathPart
from .models import IS_COMPONENTS_V2, Attachment, Message, UploadedFile, User, iter_components
from .permissions import P, has
from .snowflake import utcnow

if TYPE_CHECKING:
    from .state import Channel, Guild, World

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_FILES = 10
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
_CREATE_FLAGS = (1 << 2) | (1 << 6) | (1 << 12) | (1 << 13) | IS_COMPONENTS_V2
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_EMBED_LIMITS = {"title": 256, "description": 4096}


# -- validation ---------------------------------------------------------------------------
def validate_body(
    errors: FormErrors, body: dict[str, Any], files: Sequence[UploadedFile], path: Sequence[PathPart] = ()
) -> None:
    """Field checks shared by every endpoint that takes a message body."""
    content = body.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        errors.max_length([*path, "content"], MAX_CONTENT)
    flags = body.get("flags") or 0
    if flags & IS_COMPONENTS_V2 and (content or body.get("embeds")):
        errors.add(
            [*path, "content"],
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using components v2",
        )
    _validate_embeds(errors, body.get("embeds") or [], [*path, "embeds"])
    _validate_components(errors, body.get("components") or [], [*path, "components"], flags)
    if len(files) > MAX_FILES:
        errors.max_length([*path, "files"], MAX_FILES)


def _validate_embeds(errors: FormErrors, embeds: list[dict[str, Any]], path: list[PathPart]) -> None:
    if len(embeds) > MAX_EMBEDS:
        errors.max_length(path, MAX_EMBEDS)
    total = 0
    for index, embed in enumerate(embeds):
        for key, limit in _EMBED_LIMITS.items():
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                errors.max_length([*path, index, key], limit)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errors.max_length([*path, index, "fields"], 25)
        for f_index, field in enumerate(fields):
            total += len(field.get("name", "")) + len(field.get("value", ""))
            if len(field.get("name", "")) > 256:
                errors.max_length([*path, index, "fields", f_index, "name"], 256)
            if len(field.get("value", "")) > 1024:
                errors.max_length([*path, index, "fields", f_index, "value"], 1024)
        total += len((embed.get("footer") or {}).get("text", "")) + len((embed.get("author") or {}).get("name", ""))
    if total > 6000:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", "Embed size exceeds maximum size of 6000")


def _validate_components(
    errors: FormErrors, components: list[dict[str, Any]], path: list[PathPart], flags: int
) -> None:
    if not flags & IS_COMPONENTS_V2 and len(components) > 5:
        errors.max_length(path, 5)
    seen: set[str] = set()
    for index, top in enumerate(components):
        if not flags & IS_COMPONENTS_V2 and top.get("type") != 1:
            errors.add([*path, index, "type"], "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).')
        if top.get("type") == 1 and len(top.get("components", [])) > 5:
            errors.max_length([*path, index, "components"], 5)
    for component in iter_components(components):
        custom_id = component.get("custom_id")
        if custom_id is None:
            continue
        if len(custom_id) > 100:
            errors.max_length([*path, "custom_id"], 100)
        if custom_id in seen:
            errors.add(path, "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
        seen.add(custom_id)
        if len(component.get("label") or "") > 80:
            errors.max_length([*path, "label"], 80)
        if len(component.get("options") or []) > 25:
            errors.max_length([*path, "options"], 25)


def is_empty(body: dict[str, Any], files: Sequence[UploadedFile], kept_attachments: int = 0) -> bool:
    return not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("poll")
        or files
        or kept_attachments
    )


def check_file_sizes(files: Iterable[UploadedFile]) -> None:
    if sum(len(f.data) for f in files) > ATTACHMENT_SIZE_LIMIT:
        raise err.payload_too_large()


# -- building blocks ---------------------------------------------------------------------------
def normalize_embeds(embeds: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    out = []
    for embed in embeds or []:
        embed = copy.deepcopy(embed)
        embed.setdefault("type", "rich")
        embed.setdefault("content_scan_version", 0)
        out.append(embed)
    return out


def assign_component_ids(components: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Copy components and give each one without ``id`` the next free number, as Discord does."""
    tree = copy.deepcopy(components or [])
    used = {c["id"] for c in iter_components(tree) if isinstance(c.get("id"), int)}
    next_id = 1
    for component in iter_components(tree):
        if "id" not in component or component["id"] is None:
            while next_id in used:
                next_id += 1
            component["id"] = next_id
            used.add(next_id)
    return tree


def build_attachments(
    world: World,
    channel_id: int,
    entries: list[dict[str, Any]] | None,
    files: Sequence[UploadedFile],
    existing: Sequence[Attachment] = (),
    *,
    ephemeral: bool = False,
) -> list[Attachment]:
    """Resolve ``attachments`` entries: ids of existing attachments are kept, ``files[n]`` uploaded."""
    uploads = {_file_index(f): f for f in files}
    kept = {a.id: a for a in existing}
    result: list[Attachment] = []
    used_uploads: set[int] = set()
    for entry in entries or []:
        entry_id = int(entry.get("id", -1))
        if entry_id in kept:
            result.append(kept[entry_id])
        elif entry_id in uploads:
            used_uploads.add(entry_id)
            result.append(_new_attachment(world, channel_id, uploads[entry_id], entry, ephemeral))
    for index, upload in uploads.items():
        if index not in used_uploads:
            result.append(_new_attachment(world, channel_id, upload, {}, ephemeral))
    return result


def _file_index(upload: UploadedFile) -> int:
    match = re.search(r"\[(\d+)\]", upload.field_name) or re.search(r"(\d+)$", upload.field_name)
    return int(match.group(1)) if match else 0


def _new_attachment(
    world: World, channel_id: int, upload: UploadedFile, entry: dict[str, Any], ephemeral: bool
) -> Attachment:
    attachment_id = world.ids.next()
    filename = entry.get("filename") or upload.filename
    content_type = guess_content_type(filename)
    attachment = Attachment(
        id=attachment_id,
        filename=filename,
        data=upload.data,
        url=world.attachment_url(channel_id, attachment_id, filename),
        content_type=content_type,
        description=entry.get("description"),
        ephemeral=ephemeral,
        title=entry.get("title"),
    )
    world.attachments[attachment_id] = attachment
    return attachment


def guess_content_type(filename: str) -> str | None:
    """Discord sniffs the type (discord.py always uploads as application/octet-stream)."""
    guessed, _ = mimetypes.guess_type(filename)
    if guessed and guessed.startswith("text/"):
        return f"{guessed}; charset=utf-8"
    return guessed


def resolve_mentions(
    guild: Guild | None,
    content: str,
    allowed: dict[str, Any] | None,
    *,
    can_mention_everyone: bool,
    replied_user: User | None = None,
) -> tuple[list[User], list[int], bool]:
    """Who actually gets pinged, after ``allowed_mentions`` and permissions."""
    parse = ["users", "roles", "everyone"] if allowed is None else list(allowed.get("parse") or [])
    allowed_users = {int(u) for u in (allowed or {}).get("users") or []}
    allowed_roles = {int(r) for r in (allowed or {}).get("roles") or []}
    users: list[User] = []
    if guild is not None:
        for raw in dict.fromkeys(_USER_MENTION.findall(content)):
            member = guild.members.get(int(raw))
            if member is not None and ("users" in parse or int(raw) in allowed_users):
                users.append(member.user)
    if replied_user is not None and replied_user not in users:
        wants_reply_ping = allowed is None or bool(allowed.get("replied_user", False))
        if wants_reply_ping:
            users.append(replied_user)
    roles: list[int] = []
    if guild is not None:
        for raw in dict.fromkeys(_ROLE_MENTION.findall(content)):
            role = guild.roles.get(int(raw))
            if role is None or not ("roles" in parse or role.id in allowed_roles):
                continue
            if role.mentionable or can_mention_everyone:
                roles.append(role.id)
    everyone = "everyone" in parse and can_mention_everyone and ("@everyone" in content or "@here" in content)
    return users, roles, everyone


# -- create / edit ----------------------------------------------------------------------------
def create_message(
    world: World,
    channel: Channel,
    author: User,
    body: dict[str, Any],
    files: Sequence[UploadedFile],
    *,
    author_perms: int | None,
    extra_flags: int = 0,
    message_type: int | None = None,
    message_id: int | None = None,
    **fields: Any,
) -> Message:
    """Validate ``body`` and build a stored-ready message (``author_perms=None``: webhooks, no checks)."""
    errors = FormErrors()
    validate_body(errors, body, files)
    reference, replied = _check_reference(errors, world, channel, body.get("message_reference"))
    errors.raise_if_any()
    if is_empty(body, files):
        raise err.empty_message()
    check_file_sizes(files)
    flags = (int(body.get("flags") or 0) & _CREATE_FLAGS) | extra_flags
    embeds = normalize_embeds(body.get("embeds"))
    if author_perms is not None and not has(author_perms, P.EMBED_LINKS):
        embeds = []  # Discord silently drops embeds without Embed Links
    content = body.get("content") or ""
    can_everyone = author_perms is None or has(author_perms, P.MENTION_EVERYONE)
    mentions, mention_roles, mention_everyone = resolve_mentions(
        channel.guild, content, body.get("allowed_mentions"), can_mention_everyone=can_everyone, replied_user=replied
    )
    message = Message(
        id=message_id or world.ids.next(),
        channel_id=channel.id,
        guild_id=channel.guild.id,
        author=author,
        content=content,
        embeds=embeds,
        components=assign_component_ids(body.get("components")),
        flags=flags,
        type=message_type if message_type is not None else (19 if reference else 0),
        tts=bool(body.get("tts")),
        nonce=str(body["nonce"]) if body.get("nonce") is not None else None,
        mentions=mentions,
        mention_roles=mention_roles,
        mention_everyone=mention_everyone,
        allowed_mentions=body.get("allowed_mentions"),
        message_reference=reference,
        **fields,
    )
    message.attachments = build_attachments(
        world, channel.id, body.get("attachments"), files, ephemeral=bool(flags & (1 << 6))
    )
    return message


def _check_reference(
    errors: FormErrors, world: World, channel: Channel, ref: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, User | None]:
    if not ref:
        return None, None
    message_id = ref.get("message_id")
    target = world.messages.get(int(message_id)) if message_id else None
    if target is None or target.deleted or target.channel_id != int(ref.get("channel_id", channel.id)):
        if ref.get("fail_if_not_exists", True):
            errors.add(["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
        return None, None
    reference = {
        "type": ref.get("type", 0),
        "message_id": str(target.id),
        "channel_id": str(target.channel_id),
        "guild_id": str(target.guild_id) if target.guild_id else None,
    }
    return reference, target.author


def edit_message(
    world: World,
    message: Message,
    body: dict[str, Any],
    files: Sequence[UploadedFile],
    *,
    author_perms: int | None,
) -> None:
    """Apply a PATCH body (only the fields present change), keeping the previous state in ``history``."""
    errors = FormErrors()
    validate_body(errors, body, files)
    errors.raise_if_any()
    check_file_sizes(files)
    snapshot = message.snapshot()
    content = body.get("content") if "content" in body else message.content
    embeds = normalize_embeds(body.get("embeds")) if "embeds" in body else message.embeds
    if "embeds" in body and author_perms is not None and not has(author_perms, P.EMBED_LINKS):
        embeds = []
    components = assign_component_ids(body.get("components")) if "components" in body else message.components
    if "attachments" in body:
        attachments = build_attachments(world, message.channel_id, body["attachments"], files, message.attachments)
    else:
        attachments = message.attachments + build_attachments(world, message.channel_id, None, files)
    if not (content or embeds or components or attachments):
        raise err.empty_message()
    changed_text = content != message.content or embeds != message.embeds or attachments != message.attachments
    message.history.append(snapshot)
    message.content = content or ""
    message.embeds = embeds
    message.components = components
    message.attachments = attachments
    if "flags" in body and body["flags"] is not None:
        keep = message.flags & ~((1 << 2) | IS_COMPONENTS_V2)
        message.flags = keep | (int(body["flags"]) & ((1 << 2) | IS_COMPONENTS_V2))
    if "allowed_mentions" in body:
        message.allowed_mentions = body["allowed_mentions"]
    if changed_text:
        message.edited_timestamp = utcnow()
