"""Discord's JSON error shapes, raised by route handlers and turned into responses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PathPart = str | int


class DiscordAPIError(Exception):
    """An error answered the way Discord answers it: ``{"message", "code", "errors"?}``."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def unauthorized() -> DiscordAPIError:
    return DiscordAPIError(401, 0, "401: Unauthorized")


def not_found_route() -> DiscordAPIError:
    return DiscordAPIError(404, 0, "404: Not Found")


def method_not_allowed() -> DiscordAPIError:
    return DiscordAPIError(405, 0, "405: Method Not Allowed")


def unknown_channel() -> DiscordAPIError:
    return DiscordAPIError(404, 10003, "Unknown Channel")


def unknown_guild() -> DiscordAPIError:
    return DiscordAPIError(404, 10004, "Unknown Guild")


def unknown_member() -> DiscordAPIError:
    return DiscordAPIError(404, 10007, "Unknown Member")


def unknown_message() -> DiscordAPIError:
    return DiscordAPIError(404, 10008, "Unknown Message")


def unknown_role() -> DiscordAPIError:
    return DiscordAPIError(404, 10011, "Unknown Role")


def unknown_user() -> DiscordAPIError:
    return DiscordAPIError(404, 10013, "Unknown User")


def unknown_webhook() -> DiscordAPIError:
    return DiscordAPIError(404, 10015, "Unknown Webhook")


def unknown_interaction() -> DiscordAPIError:
    return DiscordAPIError(404, 10062, "Unknown interaction")


def unknown_command() -> DiscordAPIError:
    return DiscordAPIError(404, 10063, "Unknown application command")


def missing_access() -> DiscordAPIError:
    return DiscordAPIError(403, 50001, "Missing Access")


def missing_permissions() -> DiscordAPIError:
    return DiscordAPIError(403, 50013, "Missing Permissions")


def cannot_edit_others() -> DiscordAPIError:
    return DiscordAPIError(403, 50005, "Cannot edit a message authored by another user")


def empty_message() -> DiscordAPIError:
    return DiscordAPIError(400, 50006, "Cannot send an empty message")


def non_text_channel() -> DiscordAPIError:
    return DiscordAPIError(400, 50008, "Cannot send messages in a non-text channel")


def already_acknowledged() -> DiscordAPIError:
    return DiscordAPIError(400, 40060, "Interaction has already been acknowledged.")


def tag_required() -> DiscordAPIError:
    return DiscordAPIError(400, 40067, "A tag is required to create a forum post in this channel")


def thread_archived() -> DiscordAPIError:
    return DiscordAPIError(400, 50083, "Operation cannot be performed on an archived thread.")


def thread_already_created() -> DiscordAPIError:
    return DiscordAPIError(400, 160004, "A thread has already been created for this message")


def payload_too_large() -> DiscordAPIError:
    return DiscordAPIError(413, 40005, "Request entity too large")


class FormErrors:
    """Accumulates field errors into Discord's nested ``errors`` object (code 50035)."""

    def __init__(self) -> None:
        self._errors: dict[str, Any] = {}

    def __bool__(self) -> bool:
        return bool(self._errors)

    def add(self, path: Sequence[PathPart], code: str, message: str) -> None:
        node = self._errors
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: Sequence[PathPart], limit: int) -> None:
        self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def bad_length(self, path: Sequence[PathPart], low: int, high: int) -> None:
        self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def required(self, path: Sequence[PathPart]) -> None:
        self.add(path, "BASE_TYPE_REQUIRED", "This field is required")

    def error(self) -> DiscordAPIError:
        return DiscordAPIError(400, 50035, "Invalid Form Body", errors=self._errors)

    def raise_if_any(self) -> None:
        if self._errors:
            raise self.error()


def form_error(path: Sequence[PathPart], code: str, message: str) -> DiscordAPIError:
    errors = FormErrors()
    errors.add(path, code, message)
    return errors.error()
