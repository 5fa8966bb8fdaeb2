"""Subscriptions (flat plans) and budgets: create, list and remove (migration m007). Qt-free.

A **subscription** is a flat plan (e.g. a $200/month coding plan) covering one source of usage: an agent whose
logs are read (``claude_code``, ``codex``) or a provider (``anthropic``, ``openai``, ...). Its fee is spread per
day as ``subscription`` spend (:mod:`tracker.analytics.subscriptions`).

A **budget** is a monthly or weekly amount for the total spend, one provider's or one project's
(:mod:`tracker.analytics.budgets` measures spend against it).

Functions raise ``ValueError`` with a one-line message for people; the CLI shows it as is.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import date

from tracker.outcomes import parse_usd

SOURCES = ("claude_code", "codex")
# The provider whose models an agent's estimated usage is priced at (for --provider budgets).
SOURCE_PROVIDER = {"claude_code": "anthropic", "codex": "openai"}
PERIODS = ("monthly", "weekly")
SCOPES = ("total", "provider", "project")
_MAX_NAME = 200


@dataclass(frozen=True)
class Subscription:
    id: int
    name: str
    covers: str
    fee_pusd: int  # per month
    start: date
    end: date | None  # last day, inclusive; None: still running
    created_ms: int


@dataclass(frozen=True)
class Budget:
    id: int
    period: str  # monthly | weekly
    scope: str  # total | provider | project
    target: str  # '' for total
    amount_pusd: int
    created_ms: int

    def label(self) -> str:
        """``monthly total``, ``weekly provider anthropic``, ``monthly project app``."""
        return f"{self.period} {self.scope}" + (f" {self.target}" if self.target else "")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def known_covers() -> tuple[str, ...]:
    """What a plan can cover: the agents whose logs are read, then the providers."""
    from tracker.providers.info import PROVIDERS

    return (*SOURCES, *sorted(PROVIDERS))


def parse_covers(text: str) -> str:
    value = text.strip().lower().replace("-", "_")
    names = known_covers()
    if value == "claude":
        value = "claude_code"
    if value not in names:
        raise ValueError(f"unknown source {text!r} for --covers; use one of: {', '.join(names)}")
    return value


def parse_provider(text: str) -> str:
    """A provider (or an agent, whose estimated usage then counts alone) for a --provider budget."""
    return parse_covers(text)


# ---- subscriptions -------------------------------------------------------------------------------------------


def _sub(row: tuple[object, ...]) -> Subscription:
    sid, name, covers, fee, start, end, created = row
    return Subscription(int(str(sid)), str(name), str(covers), int(str(fee)), date.fromisoformat(str(start)),
                        None if end is None else date.fromisoformat(str(end)), int(str(created)))


_SUB_COLUMNS = "id, name, covers, fee_pusd, start_date, end_date, created_ms"


def add_subscription(conn: sqlite3.Connection, name: str, covers: str, fee: str, start: date, *,
                     end: date | None = None) -> int:
    """Store a plan; ``fee`` is dollars per month as typed (``200``, ``$19.99``). Returns its id."""
    clean = " ".join(name.split())
    if not clean:
        raise ValueError("the subscription name is empty")
    if len(clean) > _MAX_NAME:
        raise ValueError(f"the subscription name is longer than {_MAX_NAME} characters")
    fee_pusd = parse_usd(fee, "--fee")
    source = parse_covers(covers)
    if end is not None and end < start:
        raise ValueError(f"--until {end.isoformat()} is before --since {start.isoformat()}")
    if conn.execute("SELECT 1 FROM subscriptions WHERE name = ?", (clean,)).fetchone():
        raise ValueError(f"a subscription named {clean!r} already exists; remove it first with "
                         f"`token-ledger subscription remove {clean!r}`")
    cur = conn.execute(
        "INSERT INTO subscriptions (name, covers, fee_pusd, start_date, end_date, created_ms)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (clean, source, fee_pusd, start.isoformat(), None if end is None else end.isoformat(), now_ms()),
    )
    return int(cur.lastrowid or 0)


def list_subscriptions(conn: sqlite3.Connection) -> list[Subscription]:
    return [_sub(r) for r in conn.execute(f"SELECT {_SUB_COLUMNS} FROM subscriptions ORDER BY start_date, id")]


def has_subscriptions(conn: sqlite3.Connection) -> bool:
    """False also on a ledger older than m007 (no table)."""
    try:
        return conn.execute("SELECT 1 FROM subscriptions LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:
        return False


def remove_subscription(conn: sqlite3.Connection, name: str) -> Subscription:
    clean = " ".join(name.split())
    row = conn.execute(f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE name = ?", (clean,)).fetchone()
    if row is None:
        names = [s.name for s in list_subscriptions(conn)]
        hint = f"; known: {', '.join(names)}" if names else "; there are none (see `token-ledger subscription list`)"
        raise ValueError(f"no subscription named {name!r}{hint}")
    conn.execute("DELETE FROM subscriptions WHERE id = ?", (row[0],))
    return _sub(row)


# ---- budgets -------------------------------------------------------------------------------------------------


def _budget(row: tuple[object, ...]) -> Budget:
    bid, period, scope, target, amount, created = row
    return Budget(int(str(bid)), str(period), str(scope), str(target), int(str(amount)), int(str(created)))


_BUDGET_COLUMNS = "id, period, scope, target, amount_pusd, created_ms"


def add_budget(conn: sqlite3.Connection, period: str, amount: str, *, provider: str | None = None,
               project: str | None = None) -> int:
    """Store a budget of ``amount`` dollars per ``period`` for the total, a provider or a project."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; use --monthly or --weekly")
    if provider is not None and project is not None:
        raise ValueError("give --provider or --project, not both")
    amount_pusd = parse_usd(amount, f"--{period}")
    if amount_pusd <= 0:
        raise ValueError(f"--{period} {amount!r} is zero; give a budget of more than $0")
    scope, target = "total", ""
    if provider is not None:
        scope, target = "provider", parse_provider(provider)
    elif project is not None:
        scope, target = "project", " ".join(project.split())
        if not target:
            raise ValueError("the project name is empty")
    row = conn.execute("SELECT id FROM budgets WHERE period = ? AND scope = ? AND target = ?",
                       (period, scope, target)).fetchone()
    if row is not None:
        what = f"{period} {scope}" + (f" {target!r}" if target else "")
        raise ValueError(f"a {what} budget already exists (#{row[0]}); remove it first with "
                         f"`token-ledger budget remove {row[0]}`")
    cur = conn.execute(
        "INSERT INTO budgets (period, scope, target, amount_pusd, created_ms) VALUES (?, ?, ?, ?, ?)",
        (period, scope, target, amount_pusd, now_ms()),
    )
    return int(cur.lastrowid or 0)


def list_budgets(conn: sqlite3.Connection) -> list[Budget]:
    """Every budget, monthly first; [] on a ledger older than m007."""
    try:
        rows = conn.execute(f"SELECT {_BUDGET_COLUMNS} FROM budgets ORDER BY period, "
                            "CASE scope WHEN 'total' THEN 0 WHEN 'provider' THEN 1 ELSE 2 END, target, id").fetchall()
    except sqlite3.OperationalError:
        return []
    return [_budget(r) for r in rows]


def remove_budget(conn: sqlite3.Connection, budget_id: int) -> Budget:
    row = conn.execute(f"SELECT {_BUDGET_COLUMNS} FROM budgets WHERE id = ?", (budget_id,)).fetchone()
    if row is None:
        raise ValueError(f"no budget #{budget_id}; see `token-ledger budget list`")
    conn.execute("DELETE FROM budgets WHERE id = ?", (budget_id,))
    return _budget(row)
