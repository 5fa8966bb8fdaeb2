"""The app's log files: rotating files in the platform log folder, with API keys redacted from every line.

:func:`setup_logging` installs a size-rotated file (1 MB x 5, UTF-8, created 0600 in a 0700 folder) and a
stderr handler for warnings. Both carry a :class:`RedactingFilter`: known key shapes (``sk-...``, Bearer tokens,
``x-api-key``/``Authorization`` values, long tokens after ``key=``) and every exact value handed to
:func:`register_secret` (keys read from the keychain) are replaced before a line is written, including the
arguments of a message and exception tracebacks. The crash dialog uses :func:`redact` for the same reason.

If the log folder cannot be created, logging goes on to stderr with one warning: start-up never fails for it.
Qt-free, and light to import (platformdirs is imported only when the folder is first asked for).
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

LOG_DIR_ENV = "TOKEN_LEDGER_LOG_DIR"
LOG_LEVEL_ENV = "TOKEN_LEDGER_LOG"
LOG_FILENAME = "token-ledger.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
REDACTED = "[REDACTED]"
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"

_MIN_SECRET_LENGTH = 8  # shorter "secrets" would redact ordinary words


def log_dir(env: Mapping[str, str] | None = None) -> Path:
    """The folder of the log files: ``$TOKEN_LEDGER_LOG_DIR``, else the platform's per-user log folder."""
    env = os.environ if env is None else env
    override = env.get(LOG_DIR_ENV, "").strip()
    if override:
        return Path(os.path.expanduser(override))
    import platformdirs

    return Path(platformdirs.user_log_dir("token-ledger", appauthor=False))


def log_file(env: Mapping[str, str] | None = None) -> Path:
    """The current log file (older ones are ``token-ledger.log.1`` ... ``.5`` beside it)."""
    return log_dir(env) / LOG_FILENAME


# --- redaction ----------------------------------------------------------------------------------------------

# Provider key shapes: Anthropic sk-ant-api03-/sk-ant-admin01-, OpenAI sk-/sk-proj-/sk-svcacct-/sk-admin-,
# OpenRouter sk-or-v1-, DeepSeek and Moonshot sk-. All start "sk-" and run on in [A-Za-z0-9_-].
_KEY_SHAPE = re.compile(r"\bsk-[A-Za-z0-9][A-Za-z0-9_\-]{11,}")
# A header or field name, a separator as it appears in headers, dict reprs, JSON or query strings, then a value.
_NAMED = re.compile(
    r"(?i)(\b(?:authorization|proxy-authorization|x-api-key|api[-_]?key|x-goog-api-key)['\"]?\s*[:=]\s*['\"]?)"
    r"(?:(bearer|basic|token)\s+)?([^\s'\",;&)}\]]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{8,}")
# key=..., token=..., secret=... with a long token: the value is likely a credential even in an unknown shape.
_ASSIGNED = re.compile(r"(?i)\b((?:[a-z_]*_)?(?:key|token|secret|password)=)([A-Za-z0-9._~+/\-]{16,})")


class SecretRegistry:
    """Exact values to redact (API keys read from the keychain). Thread-safe; values are never logged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: frozenset[str] = frozenset()

    def add(self, value: str | None) -> None:
        if not value or len(value.strip()) < _MIN_SECRET_LENGTH:
            return
        with self._lock:
            self._values = self._values | {value, value.strip()}

    def values(self) -> list[str]:
        """Longest first, so a key that contains another registered value is replaced whole."""
        return sorted(self._values, key=len, reverse=True)

    def clear(self) -> None:
        with self._lock:
            self._values = frozenset()


SECRETS = SecretRegistry()  # one per process, like the logging tree it protects


def register_secret(value: str | None) -> None:
    """Redact this exact value from every log line and crash report from now on."""
    SECRETS.add(value)


def redact(text: str, registry: SecretRegistry | None = None) -> str:
    """``text`` with known key shapes and registered secrets replaced by ``[REDACTED]``."""
    for value in (registry or SECRETS).values():
        if value in text:
            text = text.replace(value, REDACTED)
    text = _NAMED.sub(_named_value, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _ASSIGNED.sub(lambda m: m.group(1) + REDACTED, text)
    return _KEY_SHAPE.sub(REDACTED, text)


def _named_value(m: re.Match[str]) -> str:
    scheme = f"{m.group(2)} " if m.group(2) else ""
    return f"{m.group(1)}{scheme}{REDACTED}"


class RedactingFilter(logging.Filter):
    """Redacts a record in place: the formatted message (with its arguments), the traceback and stack.

    The record is shared by every handler, so redacting it once protects them all; doing it again is harmless.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None  # the exception object itself may carry the key; exc_text stands in for it
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# --- handlers -----------------------------------------------------------------------------------------------


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler whose files are created 0600 (the first one and each one after a rotation)."""

    def _open(self) -> io.TextIOWrapper:
        stream = open(  # noqa: SIM115 - the handler owns the stream and closes it
            self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=_private_opener
        )
        assert isinstance(stream, io.TextIOWrapper)  # a text mode ("a"), so always
        return stream


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


_OURS = "_token_ledger_handler"


def log_level(env: Mapping[str, str] | None = None, default: int = logging.INFO) -> int:
    """The level named by ``$TOKEN_LEDGER_LOG`` (debug, info, warning, error), else ``default``."""
    env = os.environ if env is None else env
    name = env.get(LOG_LEVEL_ENV, "").strip().upper()
    level = logging.getLevelName(name) if name else default
    return level if isinstance(level, int) else default


def setup_logging(level: int | None = None, *, to_file: bool = True) -> Path | None:
    """Log to the rotating file (at ``level``, default ``$TOKEN_LEDGER_LOG`` or INFO) and warnings to stderr.

    Returns the log file, or None when logging only to stderr. Calling it again replaces the handlers it
    installed before. ``$TOKEN_LEDGER_LOG`` set explicitly also lowers the stderr level (for a developer in a
    terminal); otherwise stderr shows warnings and errors only.
    """
    close_logging()
    file_level = level if level is not None else log_level()
    stderr_level = min(logging.WARNING, log_level(default=logging.WARNING))
    root = logging.getLogger()
    _add(root, logging.StreamHandler(sys.stderr), stderr_level)
    path = _add_file_handler(root, file_level) if to_file else None
    root.setLevel(min(file_level, stderr_level) if path else stderr_level)
    return path


def _add(root: logging.Logger, handler: logging.Handler, level: int) -> None:
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    setattr(handler, _OURS, True)
    root.addHandler(handler)


def _add_file_handler(root: logging.Logger, level: int) -> Path | None:
    try:
        folder = log_dir()
        _make_private_dir(folder)
        path = folder / LOG_FILENAME
        handler = PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8")
    except OSError as e:
        logging.getLogger("tracker.logs").warning(
            "Cannot write log files (%s); logging to the terminal only. Set %s to another folder to fix it.",
            e, LOG_DIR_ENV,
        )
        return None
    _add(root, handler, level)
    return path


def _make_private_dir(folder: Path) -> None:
    existed = folder.is_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not existed and os.name == "posix":
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask


def close_logging() -> None:
    """Remove and close the handlers :func:`setup_logging` installed (tests; a second set-up)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
        handler.close()
