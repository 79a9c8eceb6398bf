"""A recording Publisher: the Discord edge, faked for service tests."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import datetime

from bot.services.drops import DropContext, Posted, PublishError


@dataclass
class RecordingPublisher:
    """Records each performed action; dedupes by nonce like Discord's enforce_nonce."""

    fail_with: dict[str, PublishError] = field(default_factory=dict)
    delay: float = 0.0
    performed: list[DropContext] = field(default_factory=list)
    posted_nonces: dict[str, int] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(900_000))

    async def perform(self, context: DropContext) -> Posted:
        if self.delay:
            await asyncio.sleep(self.delay)
        error = self.fail_with.get(context.kind)
        if error is not None:
            raise error
        self.performed.append(context)
        message_id = self.posted_nonces.setdefault(context.nonce, next(self._ids))
        return Posted(channel_id=context.announcement_channel_id, message_id=message_id)

    def kinds(self, only: frozenset[str] = frozenset({"reminder", "announce"})) -> list[tuple[int, str]]:
        """(episode, kind) performed, by default only the heads-ups and announcements."""
        return [(c.episode_number, c.kind) for c in self.performed if c.kind in only]


@dataclass
class RecordingScheduler:
    calls: dict[int, datetime | None] = field(default_factory=dict)

    def __call__(self, show_id: int, when: datetime | None) -> None:
        self.calls[show_id] = when
