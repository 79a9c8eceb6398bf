"""Run the bot as a real subprocess pointed at a FakeDiscord, and never leak it.

The child gets its own process group (so grandchildren die with it) and, on Linux,
``PR_SET_PDEATHSIG`` so it is SIGKILLed even if the test runner itself is killed.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .waiting import WaitTimeout

if TYPE_CHECKING:
    from .fake import FakeDiscord
    from .state import Guild

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_COMMAND: tuple[str, ...] = (sys.executable, "-m", "bot")
_LIVE: weakref.WeakSet[BotProcess] = weakref.WeakSet()


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_LIVE):
        proc.kill_now()


class BotExited(AssertionError):
    """The bot process exited while the test was waiting for it."""


class BotProcess:
    def __init__(
        self,
        fake: FakeDiscord | None = None,
        *,
        command: Sequence[str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
        inherit_env: bool = True,
        log_path: str | os.PathLike[str] | None = None,
        name: str = "bot",
    ) -> None:
        self.fake = fake
        self.command = list(command or DEFAULT_COMMAND)
        self.cwd = Path(cwd) if cwd is not None else REPO_ROOT
        self.extra_env = dict(env or {})
        self.inherit_env = inherit_env
        self.name = name
        if log_path is None:
            log_path = Path(tempfile.mkdtemp(prefix="fakediscord-")) / f"{name}.log"
        self.log_path = Path(log_path)
        self.starts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._ready_mark = 0
        if fake is not None:
            fake.add_context_provider(self.describe)

    def __repr__(self) -> str:
        return f"<BotProcess {self.name} pid={self.pid} returncode={self.returncode}>"

    # -- state ---------------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def environment(self) -> dict[str, str]:
        env = dict(os.environ) if self.inherit_env else {"PATH": os.environ.get("PATH", "")}
        env["PYTHONUNBUFFERED"] = "1"
        if self.fake is not None:
            env.update(self.fake.env())
        env.update(self.extra_env)
        return env

    # -- life cycle ------------------------------------------------------------------------------------
    def start(self) -> BotProcess:
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        self.starts += 1
        self._ready_mark = self.fake.ready_count if self.fake is not None else 0
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._close_log()
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self._log_file.write(f"\n===== start #{self.starts}: {' '.join(self.command)} =====\n".encode())
        self._log_file.flush()
        self._proc = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        _LIVE.add(self)
        return self

    async def wait_ready(
        self, timeout: float = 30.0, *, commands: Sequence[str] = (), guild: Guild | None = None
    ) -> None:
        """Wait for this start's IDENTIFY to complete (and optionally for commands to be registered).

        Fails at once, with the log tail, if the process exits meanwhile.
        """
        if self.fake is None:
            raise RuntimeError("wait_ready needs the FakeDiscord")
        fake = self.fake
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        def ready() -> bool:
            self._raise_if_exited("while waiting for it to connect")
            return fake.connected and fake.ready_count > self._ready_mark

        await fake.wait_for(ready, timeout, f"{self.name} to connect to the fake gateway")
        if commands:
            remaining = max(deadline - loop.time(), 0.1)
            gid = guild.id if guild is not None else None

            def registered() -> bool:
                self._raise_if_exited("while waiting for its commands")
                return all(fake.world.commands.find(gid, c) for c in commands)

            await fake.wait_for(registered, remaining, f"{self.name} to register commands {list(commands)}")

    async def start_and_wait_ready(
        self, timeout: float = 30.0, *, commands: Sequence[str] = (), guild: Guild | None = None
    ) -> BotProcess:
        self.start()
        await self.wait_ready(timeout, commands=commands, guild=guild)
        return self

    async def terminate(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the process group, wait for exit (SIGKILL after ``timeout``); returns the exit code."""
        if self._proc is None:
            return None
        if self.running:
            self._signal(signal.SIGTERM)
            if not await self._wait_exit(timeout):
                self._signal(signal.SIGKILL)
                await self._wait_exit(5.0)
        await self._after_exit()
        return self.returncode

    async def kill(self) -> int | None:
        """SIGKILL the process group (a crash), wait for exit; returns the exit code (-9)."""
        if self._proc is None:
            return None
        if self.running:
            self._signal(signal.SIGKILL)
            await self._wait_exit(5.0)
        await self._after_exit()
        return self.returncode

    async def restart(self, timeout: float = 30.0, *, hard: bool = False) -> BotProcess:
        await (self.kill() if hard else self.terminate())
        return await self.start_and_wait_ready(timeout)

    def kill_now(self) -> None:
        """Synchronous last-resort kill (finalizers, atexit)."""
        if self.running:
            self._signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)  # type: ignore[union-attr]
        self._close_log()

    def _signal(self, sig: int) -> None:
        """Signal the whole process group once (a second SIGTERM could hit the bot mid-shutdown)."""
        assert self._proc is not None
        try:
            os.killpg(self._proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(sig)

    async def _wait_exit(self, timeout: float) -> bool:
        # Poll without blocking: the fake runs on this same event loop.
        end = time.monotonic() + timeout
        while self.running:
            if time.monotonic() > end:
                return False
            await asyncio.sleep(0.02)
        return True

    async def _after_exit(self) -> None:
        assert self._proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)  # stray grandchildren
        self._close_log()
        _LIVE.discard(self)
        if self.fake is not None and self.fake.connected:
            # The kernel closed the socket; give the fake a moment to notice.
            with contextlib.suppress(WaitTimeout):
                await self.fake.wait_for_disconnect(2.0)

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _raise_if_exited(self, doing: str) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise BotExited(f"{self.name} exited with code {self._proc.returncode} {doing}\n{self.describe()}")

    # -- logs ----------------------------------------------------------------------------------------------
    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def describe(self) -> str:
        state = "running" if self.running else f"exited {self.returncode}"
        return f"--- {self.name} ({state}) log tail, {self.log_path} ---\n{self.log_tail()}"

    async def wait_for_log(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """Wait until the log matches the regex ``pattern`` (for this start) and return the match."""
        regex = re.compile(pattern)
        marker = f"===== start #{self.starts}:"

        def found() -> re.Match[str] | None:
            text = self.log_text()
            return regex.search(text, text.rfind(marker) if marker in text else 0)

        if self.fake is not None:
            return await self.fake.wait_for(found, timeout, f"log line /{pattern}/")
        end = time.monotonic() + timeout
        while (match := found()) is None:
            if time.monotonic() > end:
                raise WaitTimeout(f"timed out waiting for /{pattern}/ in {self.log_path}\n{self.log_tail()}")
            await asyncio.sleep(0.05)
        return match
