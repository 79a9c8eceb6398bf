"""Errors a user can fix. Services raise them; one handler shows them, ephemerally."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can put right; the message says what to do, in one or two lines."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFoundError(UserError):
    """The thing the user named does not exist in this server."""
