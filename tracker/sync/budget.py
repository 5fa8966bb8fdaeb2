"""Monthly budget notices: which of 50%, 80% and 100% were crossed, each sent once per month.

What was sent is remembered in ``<data dir>/app-state.json`` (app state, apart from the user's settings), so a
restart does not repeat a notice. Qt-free: the tray shows the messages this module decides on.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tracker.analytics.spend import SpendSummary

THRESHOLDS = (50, 80, 100)
STATE_FILENAME = "app-state.json"


@dataclass(frozen=True)
class BudgetNotice:
    percent: int
    title: str
    text: str


def crossed(summary: SpendSummary) -> list[int]:
    """The thresholds (percent) the month's spend (estimated + reported) has reached."""
    budget = summary.budget_pico
    if not budget:
        return []
    total = summary.month_total_pico
    return [t for t in THRESHOLDS if total * 100 >= budget * t]


def _usd(pico: int) -> str:
    cents = (pico + 5 * 10**9) // 10**10  # round half up to cents, in integers
    return f"${cents // 100:,}.{cents % 100:02d}"


def notices(summary: SpendSummary, already_sent: list[int]) -> list[BudgetNotice]:
    """The notices still to send: only the highest newly crossed threshold speaks (no burst of three)."""
    new = [t for t in crossed(summary) if t not in already_sent]
    if not new or summary.budget_pico is None:
        return []
    top = max(new)
    spent, budget = _usd(summary.month_total_pico), _usd(summary.budget_pico)
    title = "Monthly budget reached" if top >= 100 else f"{top}% of the monthly budget spent"
    text = f"This month: {spent} of {budget} (estimated + reported)."
    return [BudgetNotice(top, title, text)]


def load_sent(data_dir: Path, month: str) -> list[int]:
    """Thresholds already notified for ``month`` ('YYYY-MM'); an unreadable file counts as none."""
    try:
        data = json.loads((data_dir / STATE_FILENAME).read_text(encoding="utf-8"))
        sent = data.get("budget_alerts_sent", {}).get(month, [])
        return [int(x) for x in sent]
    except (OSError, ValueError, AttributeError, TypeError):
        return []


def mark_sent(data_dir: Path, month: str, thresholds: list[int]) -> None:
    """Record ``thresholds`` (and every lower one: crossing 80% implies 50%) as sent for ``month``."""
    path = data_dir / STATE_FILENAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    top = max(thresholds)
    done = sorted({*load_sent(data_dir, month), *(t for t in THRESHOLDS if t <= top)})
    data["budget_alerts_sent"] = {month: done}  # older months are no longer needed
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".app-state-", suffix=".tmp", dir=data_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
    os.replace(tmp, path)
