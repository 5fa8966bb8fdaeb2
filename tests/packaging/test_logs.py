"""Log files: where they live, private modes, rotation, and keys redacted from every line and traceback."""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracker import logs
from tracker.logs import REDACTED, close_logging, log_dir, redact, register_secret, setup_logging

ANTHROPIC = "sk-ant-api03-" + "A1b2C3d4E5f6G7h8I9j0" * 4 + "-xyzAA"
ADMIN = "sk-ant-admin01-" + "Zz9Yy8Xx7Ww6Vv5Uu4" * 3
OPENAI = "sk-proj-" + "abcDEF0123456789ghiJKL" * 3
OPENAI_ADMIN = "sk-admin-" + "q1W2e3R4t5Y6u7I8o9P0" * 2
OPENROUTER = "sk-or-v1-" + "0123456789abcdef" * 4
ODD_SHAPE = "Zq8-nW4x_Lm2-Rt6y-Pv0s-Kd3f-Hj7g"  # no known prefix: only redacted once registered


@pytest.fixture
def clean_logging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Logs into tmp_path/logs; the root logger and the secret registry are restored afterwards."""
    folder = tmp_path / "logs"
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(folder))
    monkeypatch.delenv(logs.LOG_LEVEL_ENV, raising=False)
    root = logging.getLogger()
    level = root.level
    yield folder
    close_logging()
    root.setLevel(level)
    logs.SECRETS.clear()


@pytest.mark.parametrize("key", [ANTHROPIC, ADMIN, OPENAI, OPENAI_ADMIN, OPENROUTER, "sk-" + "a" * 40])
def test_known_key_shapes_are_redacted(key: str) -> None:
    text = redact(f"request failed with key {key} (401)")
    assert key not in text and key[8:20] not in text
    assert text == f"request failed with key {REDACTED} (401)"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345", "Authorization: Bearer "),
        ("headers={'authorization': 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig'}", "'authorization': 'Bearer "),
        ("{'x-api-key': 'plainvalue-without-prefix-123'}", "'x-api-key': '"),
        ('{"api_key": "anything-at-all"}', '"api_key": "'),
        ("GET https://example.test/v1?key=AIzaSyD3adb33fC0ffee0123456789abc HTTP/1.1", "?key="),
        ("token=0123456789abcdef0123456789abcdef", "token="),
    ],
)
def test_header_and_field_values_are_redacted(line: str, kept: str) -> None:
    text = redact(line)
    assert REDACTED in text and kept in text
    assert not any(secret in text for secret in ("abcdefghijklmnop", "eyJhbG", "plainvalue", "anything-at-all",
                                                 "AIzaSy", "0123456789abcdef0123"))


@pytest.mark.parametrize(
    "line",
    ["synced 1,234 records from sk-learn notes", "key=short", "account:work (openai), model gpt-5",
     "/home/me/.claude/projects/-home-me-src-token-ledger/abc.jsonl", "skip-list sk- prefix"],
)
def test_ordinary_text_is_left_alone(line: str) -> None:
    assert redact(line) == line


def test_registered_secrets_are_redacted_exactly(clean_logging: Path) -> None:
    assert redact(f"value {ODD_SHAPE}.") == f"value {ODD_SHAPE}."
    register_secret(ODD_SHAPE)
    register_secret("short")  # too short to redact safely: ignored
    assert redact(f"value {ODD_SHAPE}. short") == f"value {REDACTED}. short"


def test_default_log_folder_is_the_platform_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import platformdirs

    monkeypatch.delenv(logs.LOG_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert log_dir() == Path(platformdirs.user_log_dir("token-ledger", appauthor=False))
    if sys.platform == "linux":
        assert log_dir() == tmp_path / "state" / "token-ledger" / "log"
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(tmp_path / "elsewhere"))
    assert log_dir() == tmp_path / "elsewhere"


def test_log_file_is_private_and_keys_never_reach_it(
    clean_logging: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = setup_logging()
    assert path == clean_logging / "token-ledger.log"
    register_secret(ODD_SHAPE)
    log = logging.getLogger("tracker.test")
    log.info("polling with %s and %r", OPENAI, {"x-api-key": ODD_SHAPE})
    try:
        raise RuntimeError(f"provider rejected {ANTHROPIC}")
    except RuntimeError:
        log.exception("sync failed for key %s", OPENROUTER)
    text = path.read_text(encoding="utf-8")
    err = capsys.readouterr().err
    for secret in (OPENAI, ODD_SHAPE, ANTHROPIC, OPENROUTER):
        assert secret not in text and secret not in err
    assert "polling with [REDACTED]" in text
    assert "Traceback (most recent call last)" in text and "RuntimeError: provider rejected [REDACTED]" in text
    assert "sync failed for key [REDACTED]" in err  # errors also reach the terminal, redacted
    assert "polling" not in err  # info goes to the file only
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(clean_logging.stat().st_mode) == 0o700


def test_files_rotate_and_stay_private(clean_logging: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    path = setup_logging()
    assert path is not None
    for i in range(200):
        logging.getLogger("tracker.test").info("line %d %s", i, "x" * 40)
    names = sorted(p.name for p in clean_logging.iterdir())
    assert names == ["token-ledger.log", *(f"token-ledger.log.{n}" for n in range(1, logs.BACKUP_COUNT + 1))]
    if os.name == "posix":
        assert {stat.S_IMODE(p.stat().st_mode) for p in clean_logging.iterdir()} == {0o600}


def test_level_from_the_environment(clean_logging: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(logs.LOG_LEVEL_ENV, "debug")
    path = setup_logging()
    assert path is not None
    logging.getLogger("tracker.test").debug("a debug line")
    assert "a debug line" in path.read_text(encoding="utf-8")
    monkeypatch.setenv(logs.LOG_LEVEL_ENV, "nonsense")
    path = setup_logging()  # replaces the handlers: one file handler, INFO
    assert path is not None
    logging.getLogger("tracker.test").debug("a second debug line")
    logging.getLogger("tracker.test").info("an info line")
    text = path.read_text(encoding="utf-8")
    assert "a second debug line" not in text and "an info line" in text
    assert sum(getattr(h, "_token_ledger_handler", False) for h in logging.getLogger().handlers) == 2


def test_an_unwritable_log_folder_falls_back_to_stderr(
    clean_logging: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = clean_logging.parent / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(blocker / "logs"))  # fails even as root
    assert setup_logging() is None
    logging.getLogger("tracker.test").warning("still logged with %s", OPENAI)
    err = capsys.readouterr().err
    assert err.count("Cannot write log files") == 1
    assert "still logged with [REDACTED]" in err
