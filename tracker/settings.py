"""The app's behaviour settings: one typed schema, stored as JSON in ``<data dir>/settings.json``.

Qt-free, so the CLI and tests read the same file. A missing file gives the defaults; a corrupt one too, after
keeping a ``settings.json.bad`` copy so nothing the user set is silently lost. Writes are atomic (a temporary
file renamed over the old one), so a crash mid-write never leaves half a file. UI state (window geometry) is not
kept here.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

SETTINGS_FILENAME = "settings.json"


@dataclass
class Settings:
    sync_interval_min: int = 15  # provider polling interval
    backfill_days: int = 90  # default for new accounts
    time_zone: str | None = None  # None = the system zone; day boundaries for figures
    monthly_budget_usd: Decimal | None = None
    launch_at_login: bool = False
    paused_until_ms: int | None = None
    hourly_rate_usd: Decimal | None = None  # values an outcome's hours saved (issue 5); None = hours not valued
    annual_compensation_usd: Decimal | None = None  # local only: token run-rate as a share of pay (issue 5)
    suggest_from_git: bool = False  # opt-in: suggest outcomes from local git history (tracker/suggestions.py)


def settings_path(data_dir: Path) -> Path:
    return data_dir / SETTINGS_FILENAME


def _to_json(s: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(s):
        value = getattr(s, f.name)
        out[f.name] = str(value) if isinstance(value, Decimal) else value
    return out


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number ≥ {minimum}")
    return value


def _budget(value: object, name: str = "monthly_budget_usd") -> Decimal | None:
    if value is None:
        return None
    try:
        budget = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} must be a number of dollars") from None
    if not budget.is_finite() or budget < 0:
        raise ValueError(f"{name} must be a number of dollars ≥ 0")
    return budget


def _from_json(data: object) -> Settings:
    """Settings from parsed JSON; unknown keys are ignored (a newer version's), bad values raise ValueError."""
    if not isinstance(data, dict):
        raise ValueError("settings must be a JSON object")
    s = Settings()
    if "sync_interval_min" in data:
        s.sync_interval_min = _check_int("sync_interval_min", data["sync_interval_min"], 1)
    if "backfill_days" in data:
        s.backfill_days = _check_int("backfill_days", data["backfill_days"], 1)
    tz = data.get("time_zone")
    if tz is not None and not isinstance(tz, str):
        raise ValueError("time_zone must be a string")
    s.time_zone = tz or None
    s.monthly_budget_usd = _budget(data.get("monthly_budget_usd"))
    s.launch_at_login = bool(data.get("launch_at_login", False))
    paused = data.get("paused_until_ms")
    s.paused_until_ms = None if paused is None else _check_int("paused_until_ms", paused, 0)
    s.hourly_rate_usd = _budget(data.get("hourly_rate_usd"), "hourly_rate_usd")
    s.annual_compensation_usd = _budget(data.get("annual_compensation_usd"), "annual_compensation_usd")
    s.suggest_from_git = data.get("suggest_from_git") is True
    return s


def load_settings(data_dir: Path) -> Settings:
    """The saved settings; defaults when the file is missing, or corrupt (then kept as ``settings.json.bad``)."""
    path = settings_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:  # missing or unreadable: defaults, and the next save writes a good file
        return Settings()
    try:
        return _from_json(json.loads(text))
    except (ValueError, TypeError):
        with contextlib.suppress(OSError):
            os.replace(path, path.with_name(SETTINGS_FILENAME + ".bad"))
        return Settings()


def save_settings(data_dir: Path, s: Settings) -> None:
    """Write ``s`` atomically (temporary file, fsync, rename), private to the user."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = json.dumps(_to_json(s), indent=2, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=data_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, settings_path(data_dir))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
