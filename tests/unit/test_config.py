"""Settings errors: one line naming the key, exit code 2, no traceback; the token never printed."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings, sqlite_path
from bot.logs import RedactSecrets

ROOT = Path(__file__).resolve().parents[2]


def run_bot(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_", "LOG_", "DEV_"))}
    clean["PYTHONPATH"] = str(ROOT)
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=clean,
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_token_says_what_to_set(tmp_path: Path) -> None:
    result = run_bot({}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "DISCORD_TOKEN" in lines[0] and ".env.example" in lines[0]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DATABASE_URL", "mysql://localhost/club"),
        ("LOG_LEVEL", "chatty"),
        ("DEV_GUILD_ID", "not-a-number"),
        ("DISCORD_API_BASE", "discord.com/api"),
        ("DISCORD_GATEWAY_URL", "http://gateway"),
    ],
)
def test_bad_setting_names_the_key(tmp_path: Path, key: str, value: str) -> None:
    result = run_bot({"DISCORD_TOKEN": "x" * 30, key: value}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(key)
    assert "Traceback" not in result.stderr


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for key in ("DISCORD_TOKEN", "LOG_LEVEL", "DEV_GUILD_ID"):
        monkeypatch.delenv(key, raising=False)
    (tmp_path / ".env").write_text("DISCORD_TOKEN=abc.def\nLOG_LEVEL=debug\nDEV_GUILD_ID=\n")
    settings = load_settings()
    assert settings.token() == "abc.def"
    assert settings.log_level == "DEBUG"
    assert settings.dev_guild_id is None


def test_database_url_spellings_pick_async_drivers() -> None:
    assert load_settings(database_url="postgres://u@h/db").database_url == "postgresql+asyncpg://u@h/db"
    assert load_settings(database_url="sqlite:///x.db").database_url == "sqlite+aiosqlite:///x.db"
    assert sqlite_path("sqlite+aiosqlite:///data/x.db") == Path("data/x.db")
    assert sqlite_path("postgresql+asyncpg://u@h/db") is None


def test_empty_token_is_missing() -> None:
    with pytest.raises(SettingsError, match="DISCORD_TOKEN"):
        load_settings(discord_token="  ").token()


def test_migrate_creates_the_sqlite_file(tmp_path: Path) -> None:
    result = run_bot({"DATABASE_URL": "sqlite:///data/club.db"}, "migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "club.db").exists()


def test_token_is_redacted_from_logs(caplog: pytest.LogCaptureFixture) -> None:
    token = "MTIzNDU2Nzg5.secret.token-value"
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactSecrets([token]))
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("connecting with %s", token)
        try:
            raise RuntimeError(f"bad {token}")
        except RuntimeError:
            logger.exception("failed")
    assert token not in caplog.text
    assert "[redacted]" in caplog.text
