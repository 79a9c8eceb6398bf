"""The log of every REST request the bot made, with query helpers."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from .models import UploadedFile


@dataclasses.dataclass(eq=False)
class RecordedRequest:
    method: str
    route: str | None  # template without the /api/v10 prefix, e.g. "/channels/{channel_id}/messages"
    path: str
    params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    files: list[UploadedFile]
    at: float  # loop time
    wall_time: float
    status: int | None = None
    response: Any = None
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def error_code(self) -> int | None:
        if isinstance(self.response, dict):
            code = self.response.get("code")
            return code if isinstance(code, int) else None
        return None

    def __repr__(self) -> str:
        body = json.dumps(self.json)[:200] if self.json is not None else ""
        return f"<{self.method} {self.path} -> {self.status} {body}>"


class RequestLog:
    def __init__(self) -> None:
        self.entries: list[RecordedRequest] = []

    def append(self, entry: RecordedRequest) -> None:
        self.entries.append(entry)

    def find(
        self,
        method: str | None = None,
        route: str | None = None,
        *,
        status: int | None = None,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        **params: Any,
    ) -> list[RecordedRequest]:
        """Requests matching method, route template, status, path params (``channel_id=...``)."""
        out = []
        for entry in self.entries:
            if method is not None and entry.method != method.upper():
                continue
            if route is not None and entry.route != route:
                continue
            if status is not None and entry.status != status:
                continue
            if any(entry.params.get(k) != str(v) for k, v in params.items()):
                continue
            if predicate is not None and not predicate(entry):
                continue
            out.append(entry)
        return out

    def unhandled(self) -> list[RecordedRequest]:
        """Requests to routes the fake does not implement (answered 404 ``code 0``)."""
        return [e for e in self.entries if e.route is None]

    def clear(self) -> None:
        self.entries.clear()
