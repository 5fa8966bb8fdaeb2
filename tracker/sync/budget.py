"""Budget notices: which of 50%, 80% and 100% were crossed, each sent once per period; and value alerts.

* Settings' ``monthly_budget_usd``: once per threshold per month (:func:`notices`, :func:`load_sent`,
  :func:`mark_sent`).
* Every stored budget (``token-ledger budget add``, migration m007): once per threshold per budget per period
  (month or ISO week) — :func:`check_stored`.
* The value alert "project P spent $X this week with no outcome logged": once per project per week.

What was sent is remembered in ``<data dir>/app-state.json`` (app state, apart from the user's settings), so a
restart does not repeat a notice. Qt-free: the tray shows the messages this module decides on.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

from tracker.analytics.spend import SpendSummary

THRESHOLDS = (50, 80, 100)
STATE_FILENAME = "app-state.json"


@dataclass(frozen=True)
class BudgetNotice:
    percent: int  # 0 for a value alert
    title: str
    text: str
    key: str = ""  # stored budgets and value alerts: what was notified ("budget:3:2026-W47:80", "value:app:...")


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
    _write_state(data_dir, data)


def _write_state(data_dir: Path, data: dict[str, Any]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".app-state-", suffix=".tmp", dir=data_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
    os.replace(tmp, data_dir / STATE_FILENAME)


def _read_state(data_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((data_dir / STATE_FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# ---- stored budgets and the value alert ------------------------------------------------------------------------

_STORED_KEY = "stored_alerts_sent"  # app-state.json: {period key: [notice keys]}, current periods only
_stored_lock = threading.Lock()  # two figure reads may finish together: decide one at a time


def stored_notices(statuses: list[Any], alerts: list[Any], already_sent: set[str]) -> list[BudgetNotice]:
    """Notices still to send for stored budgets (``BudgetStatus``) and value alerts (``ValueAlert``).

    Per budget and period only the highest newly crossed threshold speaks; a value alert speaks once per project
    per week. Keys of what speaks (and of lower thresholds, implied) are in each notice's ``key``.
    """
    out: list[BudgetNotice] = []
    for st in statuses:
        b = st.budget
        new = [t for t in st.crossed() if f"budget:{b.id}:{st.period_key}:{t}" not in already_sent]
        if not new:
            continue
        top = max(new)
        word = "month" if b.period == "monthly" else "week"
        what = _what(b)
        title = f"{what[0].upper()}{what[1:]} reached" if top >= 100 else f"{top}% of the {what} spent"
        text = (f"This {word}: {_usd(st.spend_pusd)} of {_usd(b.amount_pusd)} "
                f"({_spend_label(st)}).")
        out.append(BudgetNotice(top, title, text, f"budget:{b.id}:{st.period_key}:{top}"))
    for a in alerts:
        key = f"value:{a.week_key}:{a.project}"
        if key in already_sent:
            continue
        out.append(BudgetNotice(0, "Spend with no outcome",
                                f"Project {a.project} spent {_usd(a.without_outcome_pusd)} this week with no outcome "
                                "logged.", key))
    return out


def _what(b: Any) -> str:
    """'monthly budget', 'weekly anthropic budget', 'monthly budget of project P'."""
    return {"total": f"{b.period} budget", "provider": f"{b.period} {b.target} budget",
            "project": f"{b.period} budget of project {b.target}"}[b.scope]


def _spend_label(st: Any) -> str:
    parts = "estimated + reported + subscription" if st.subscription_pusd else "estimated + reported"
    return parts + (f", {st.unpriced_records} unpriced not counted" if st.unpriced_records else "")


def _implied(key: str) -> list[str]:
    """A budget notice at 80% also settles 50% of the same budget and period."""
    if not key.startswith("budget:"):
        return [key]
    stem, top = key.rsplit(":", 1)
    return [f"{stem}:{t}" for t in THRESHOLDS if t <= int(top)]


def _period_of(key: str) -> str:
    parts = key.split(":")
    return parts[2] if parts[0] == "budget" else parts[1]


def load_stored_sent(data_dir: Path) -> set[str]:
    sent = _read_state(data_dir).get(_STORED_KEY, {})
    if not isinstance(sent, dict):
        return set()
    return {str(k) for keys in sent.values() if isinstance(keys, list) for k in keys}


def mark_stored_sent(data_dir: Path, keys: list[str], current_periods: set[str]) -> None:
    """Remember ``keys`` (and implied lower thresholds); forget periods no longer current."""
    data = _read_state(data_dir)
    old = data.get(_STORED_KEY, {})
    kept: dict[str, set[str]] = {}
    if isinstance(old, dict):
        for period, ks in old.items():
            if str(period) in current_periods and isinstance(ks, list):
                kept.setdefault(str(period), set()).update(str(k) for k in ks)
    for key in keys:
        for k in _implied(key):
            kept.setdefault(_period_of(k), set()).add(k)
    data[_STORED_KEY] = {p: sorted(ks) for p, ks in sorted(kept.items())}
    _write_state(data_dir, data)


def check_stored(conn: sqlite3.Connection, tz: tzinfo, now_ms: int, data_dir: Path) -> list[BudgetNotice]:
    """Measure every stored budget and the value alert; return (and remember) the notices to show now.

    Runs on a worker with a read connection (the tray calls it after each figure read).
    """
    return _check(conn, tz, now_ms, data_dir)[0]


def _check(conn: sqlite3.Connection, tz: tzinfo, now_ms: int, data_dir: Path) -> tuple[list[BudgetNotice], list[str]]:
    """The notices to show now, and every stored budget at or over 100 % in its current period (for the icon)."""
    from tracker.analytics.budgets import budget_statuses, local_today, period_bounds, value_alerts

    statuses = budget_statuses(conn, tz, now_ms)
    alerts = value_alerts(conn, tz, now_ms)
    today = local_today(now_ms, tz)
    current = {period_bounds(p, today)[0] for p in ("monthly", "weekly")}
    with _stored_lock:
        todo = stored_notices(statuses, alerts, load_stored_sent(data_dir))
        if todo:
            mark_stored_sent(data_dir, [n.key for n in todo], current)
    reached = [f"{_what(st.budget)}: {_usd(st.spend_pusd)} of {_usd(st.budget.amount_pusd)}"
               for st in statuses if 100 in st.crossed()]
    return todo, reached


def check_stored_async(services: Any, on_notices: Callable[[list[BudgetNotice]], None],
                       on_reached: Callable[[list[str]], None] | None = None) -> None:
    """The tray's hook: :func:`check_stored` on a read worker of ``services`` (``AppServices``), its notices to
    ``on_notices`` on the GUI thread, and (if given) to ``on_reached`` one line per stored budget reached this period.
    No ledger yet: nothing to say."""
    tz, now, data_dir = services.tz(), services.now_ms(), services.paths.data_dir

    def done(result: tuple[list[BudgetNotice], list[str]]) -> None:
        on_notices(result[0])
        if on_reached is not None:
            on_reached(result[1])

    services.read(lambda conn: _check(conn, tz, now, data_dir), done, lambda _message: None)
