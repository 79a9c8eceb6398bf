"""pytest fixtures: ``fake_discord`` and ``bot_process``.

Use from a conftest with ``from tests.e2e.fakediscord.fixtures import *`` or
``pytest_plugins = ["tests.e2e.fakediscord.fixtures"]``. Override ``fake_discord_options``
to pass options to :class:`FakeDiscord` (e.g. ``{"interaction_deadline": 1.0}``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Generator, Sequence
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from .fake import FakeDiscord
from .process import BotProcess
from .state import Guild

__all__ = ["BotLauncher", "bot_process", "fake_discord", "fake_discord_options", "pytest_runtest_makereport"]

_LAUNCHER_KEY = pytest.StashKey["BotLauncher"]()


class BotLauncher:
    """Creates bot processes bound to the fake; everything it created is killed at teardown."""

    def __init__(self, fake: FakeDiscord, log_dir: Path) -> None:
        self.fake = fake
        self.log_dir = log_dir
        self.processes: list[BotProcess] = []

    def __call__(
        self,
        command: Sequence[str] | None = None,
        *,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        name: str | None = None,
    ) -> BotProcess:
        """A not-yet-started :class:`BotProcess` (default command ``python -m bot`` in the repo root)."""
        name = name or f"bot{len(self.processes) + 1}"
        proc = BotProcess(
            self.fake, command=command, cwd=cwd, env=env, log_path=self.log_dir / f"{name}.log", name=name
        )
        self.processes.append(proc)
        return proc

    async def start(
        self,
        command: Sequence[str] | None = None,
        *,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        name: str | None = None,
        timeout: float = 30.0,
        commands: Sequence[str] = (),
        guild: Guild | None = None,
    ) -> BotProcess:
        """Create, start and wait until connected (and ``commands`` registered in ``guild``, if given)."""
        proc = self(command, env=env, cwd=cwd, name=name)
        await proc.start_and_wait_ready(timeout, commands=commands, guild=guild)
        return proc

    def logs(self) -> str:
        return "\n".join(p.describe() for p in self.processes)

    async def cleanup(self) -> None:
        # Newest first: an older process that was killed would otherwise wait for a disconnect
        # while the newer one is still connected.
        for proc in reversed(self.processes):
            try:
                await proc.terminate(timeout=5.0)
            finally:
                proc.kill_now()


@pytest.fixture
def fake_discord_options() -> dict[str, Any]:
    return {}


@pytest_asyncio.fixture
async def fake_discord(fake_discord_options: dict[str, Any]) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(**fake_discord_options) as fake:
        yield fake


@pytest_asyncio.fixture
async def bot_process(
    fake_discord: FakeDiscord, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[BotLauncher]:
    launcher = BotLauncher(fake_discord, tmp_path)
    request.node.stash[_LAUNCHER_KEY] = launcher
    try:
        yield launcher
    finally:
        await launcher.cleanup()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the bot logs to failed test reports."""
    report = yield
    launcher = item.stash.get(_LAUNCHER_KEY, None)
    if launcher is not None and report.failed and launcher.processes:
        report.sections.append((f"bot logs ({report.when})", launcher.logs()))
    return report
