"""Registered application commands: bulk overwrite (what ``tree.sync()`` does), lookup."""

from __future__ import annotations

import copy
import dataclasses
import re
import time
from collections import Counter
from typing import Any

from .errors import FormErrors
from .snowflake import SnowflakeGenerator

NAME_RE = re.compile(r"^[-_'\w\u0900-\u097F\u0E00-\u0E7F]{1,32}$")
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
_DEFINITION_KEYS = (
    "type",
    "name",
    "name_localizations",
    "description",
    "description_localizations",
    "options",
    "default_member_permissions",
    "nsfw",
    "contexts",
    "integration_types",
)


@dataclasses.dataclass
class SyncCall:
    guild_id: int | None
    names: list[str]
    at: float


class CommandRegistry:
    """Per-scope command lists (``None`` = global), with stable ids per (name, type)."""

    def __init__(self, ids: SnowflakeGenerator, application_id: int) -> None:
        self._ids = ids
        self.application_id = application_id
        self._scopes: dict[int | None, list[dict[str, Any]]] = {None: []}
        self.sync_counts: Counter[int | None] = Counter()
        self.syncs: list[SyncCall] = []

    def get_all(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        return copy.deepcopy(self._scopes.get(guild_id, []))

    def bulk_overwrite(self, guild_id: int | None, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        validate_commands(commands)
        previous = {(c["name"], c.get("type", 1)): c for c in self._scopes.get(guild_id, [])}
        stored = [self._store(guild_id, cmd, previous) for cmd in commands]
        self._scopes[guild_id] = stored
        self.sync_counts[guild_id] += 1
        self.syncs.append(SyncCall(guild_id, [c["name"] for c in stored], time.time()))
        return copy.deepcopy(stored)

    def add(self, guild_id: int | None, command: dict[str, Any]) -> dict[str, Any]:
        """POST a single command (upsert by name and type)."""
        validate_commands([command])
        scope = self._scopes.setdefault(guild_id, [])
        previous = {(c["name"], c.get("type", 1)): c for c in scope}
        stored = self._store(guild_id, command, previous)
        scope[:] = [c for c in scope if (c["name"], c["type"]) != (stored["name"], stored["type"])] + [stored]
        return copy.deepcopy(stored)

    def delete(self, guild_id: int | None, command_id: int) -> bool:
        scope = self._scopes.get(guild_id, [])
        kept = [c for c in scope if int(c["id"]) != command_id]
        self._scopes[guild_id] = kept
        return len(kept) != len(scope)

    def get(self, guild_id: int | None, command_id: int) -> dict[str, Any] | None:
        for cmd in self._scopes.get(guild_id, []):
            if int(cmd["id"]) == command_id:
                return copy.deepcopy(cmd)
        return None

    def find(self, guild_id: int | None, name: str, type: int = 1) -> dict[str, Any] | None:
        """The command a user in ``guild_id`` would invoke: guild commands shadow globals."""
        for scope in (guild_id, None) if guild_id is not None else (None,):
            for cmd in self._scopes.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == type:
                    return cmd
        return None

    def names(self, guild_id: int | None = None) -> list[str]:
        scopes = (guild_id, None) if guild_id is not None else (None,)
        return [c["name"] for s in scopes for c in self._scopes.get(s, [])]

    def _store(
        self, guild_id: int | None, cmd: dict[str, Any], previous: dict[tuple[str, int], dict[str, Any]]
    ) -> dict[str, Any]:
        cmd_type = cmd.get("type", 1)
        old = previous.get((cmd["name"], cmd_type))
        definition = _definition(cmd)
        if old is not None and _definition(old) == definition:
            return old
        stored: dict[str, Any] = {
            "id": old["id"] if old else str(self._ids.next()),
            "application_id": str(self.application_id),
            "version": str(self._ids.next()),
            "type": cmd_type,
            "name": cmd["name"],
            "description": cmd.get("description", ""),
            "default_member_permissions": _perm_string(cmd.get("default_member_permissions")),
            "dm_permission": cmd.get("dm_permission", True),
            "nsfw": bool(cmd.get("nsfw", False)),
            "integration_types": cmd.get("integration_types") or [0],
            "contexts": cmd.get("contexts"),
        }
        for key in ("name_localizations", "description_localizations"):
            if cmd.get(key):
                stored[key] = cmd[key]
        if cmd.get("options"):
            stored["options"] = [_clean_option(o) for o in cmd["options"]]
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        return stored


def _definition(cmd: dict[str, Any]) -> dict[str, Any]:
    out = {k: cmd.get(k) for k in _DEFINITION_KEYS}
    out["type"] = out["type"] or 1
    out["options"] = [_clean_option(o) for o in cmd.get("options") or []]
    out["default_member_permissions"] = _perm_string(out["default_member_permissions"])
    out["nsfw"] = bool(out["nsfw"])
    out["integration_types"] = out["integration_types"] or [0]
    for key in ("name_localizations", "description_localizations"):
        out[key] = out[key] or None
    return out


def _perm_string(value: Any) -> str | None:
    return None if value is None else str(value)


def _clean_option(option: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: v for k, v in option.items() if v is not None and not (k == "required" and v is False)}
    if "options" in cleaned:
        cleaned["options"] = [_clean_option(o) for o in cleaned["options"]]
    for key in ("name_localizations", "description_localizations"):
        if not cleaned.get(key):
            cleaned.pop(key, None)
    return cleaned


def validate_commands(commands: list[dict[str, Any]]) -> None:
    """Server-side checks Discord applies on bulk overwrite (the common ones)."""
    errors = FormErrors()
    if len(commands) > 100:
        errors.max_length([], 100)
    seen: set[tuple[str, int]] = set()
    for index, cmd in enumerate(commands):
        key = (cmd.get("name", ""), cmd.get("type", 1))
        if key in seen:
            errors.add(
                [index, "name"],
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                f"Application command names must be unique: {key[0]}",
            )
        seen.add(key)
        _validate_entry(errors, [index], cmd, chat_input=cmd.get("type", 1) == 1)
    errors.raise_if_any()


def _validate_entry(errors: FormErrors, path: list[Any], entry: dict[str, Any], *, chat_input: bool) -> None:
    name = entry.get("name", "")
    if chat_input and (not NAME_RE.match(name) or name != name.lower()):
        errors.add([*path, "name"], "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
    description = entry.get("description", "")
    if chat_input and not 1 <= len(description) <= 100:
        errors.bad_length([*path, "description"], 1, 100)
    options = entry.get("options") or []
    if len(options) > 25:
        errors.max_length([*path, "options"], 25)
    seen_optional = False
    for opt_index, option in enumerate(options):
        opt_path = [*path, "options", opt_index]
        if option.get("type") not in (SUB_COMMAND, SUB_COMMAND_GROUP):
            if option.get("required"):
                if seen_optional:
                    errors.add(
                        opt_path,
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
        if len(option.get("choices") or []) > 25:
            errors.max_length([*opt_path, "choices"], 25)
        _validate_entry(errors, opt_path, option, chat_input=True)
