"""Fault injection: make matching requests fail with a chosen Discord error."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import Any

from .recorder import RecordedRequest

_counter = itertools.count(1)


@dataclasses.dataclass(eq=False)
class Fault:
    """Answer ``status``/``body`` to matching requests ``times`` times (``None`` = until cleared)."""

    method: str | None
    route: str | None
    params: dict[str, str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int | None
    predicate: Callable[[RecordedRequest], bool] | None = None
    hits: int = 0
    active: bool = True
    name: str = dataclasses.field(default_factory=lambda: f"fault-{next(_counter)}")

    def matches(self, request: RecordedRequest) -> bool:
        if not self.active:
            return False
        if self.method is not None and request.method != self.method.upper():
            return False
        if self.route is not None and request.route != self.route:
            return False
        if any(request.params.get(k) != v for k, v in self.params.items()):
            return False
        return self.predicate is None or self.predicate(request)

    def consume(self) -> None:
        self.hits += 1
        if self.times is not None and self.hits >= self.times:
            self.active = False

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else max(self.times - self.hits, 0)

    def clear(self) -> None:
        self.active = False


class FaultInjector:
    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def match(self, request: RecordedRequest) -> Fault | None:
        for fault in self.faults:
            if fault.matches(request):
                fault.consume()
                return fault
        return None

    def clear(self) -> None:
        for fault in self.faults:
            fault.active = False
        self.faults.clear()
