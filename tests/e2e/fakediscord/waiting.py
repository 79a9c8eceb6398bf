"""Waiting for conditions without blind sleeps.

Every state change (request recorded, message stored, event sent, callback received)
calls :meth:`ChangeNotifier.notify`; waiters re-check their predicate on each change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A wait for the fake (or the bot) to do something ran out of time."""


class ChangeNotifier:
    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self.context_providers: list[Callable[[], str]] = []

    def notify(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    def _current(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float,
        description: str = "condition",
        poll_interval: float = 0.2,
    ) -> T:
        """Return the first truthy value of ``predicate()``; raise :class:`WaitTimeout` after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._current()
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WaitTimeout(self.describe_timeout(f"timed out after {timeout:.1f}s waiting for {description}"))
            try:
                await asyncio.wait_for(event.wait(), min(remaining, poll_interval))
            except TimeoutError:
                pass

    def describe_timeout(self, headline: str) -> str:
        """The headline plus whatever context providers know (e.g. the bot's log tail)."""
        parts = [headline]
        for provider in self.context_providers:
            try:
                text = provider()
            except Exception as exc:  # a broken provider must not hide the real failure
                text = f"<context provider failed: {exc!r}>"
            if text:
                parts.append(text)
        return "\n".join(parts)
