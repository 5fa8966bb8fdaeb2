"""What providers billed, per report period: the *reported* side of ``report --cost reported|both``.

Reported money comes from ``provider_usage`` rows with ``billed = 1`` (OpenAI costs, Anthropic cost_report,
OpenRouter activity; see docs/schema.md). Usage rows carry no money and Claude Code analytics costs are
Anthropic's own estimates, so both are left out: adding them would count the cost report twice. Balances are
snapshots, not spend per period, and are not read here.

Providers bucket by UTC day, and a UTC day cannot be split into local hours after the fact. A bucket is
therefore placed in the report period that holds its **UTC date** (the 2026-11-20 UTC bucket counts for the
local day, week or month containing 2026-11-20), and ``--since``/``--until`` select buckets by that date too.
Callers say so whenever the report's zone is not UTC.

Only USD is summed. Billed rows in another currency are returned apart (``other_currencies``), never converted
or added to dollars. Amounts stay integer 1e-12 units of their currency.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta

# Providers whose bills are polled (billed rows), in the order their columns appear.
BILLED_PROVIDERS = ("anthropic", "openai", "openrouter")
PROVIDER_LABELS = {
    "anthropic": "Anthropic",
    "openai": "OpenAI",
    "openrouter": "OpenRouter",
    "deepseek": "DeepSeek",
    "moonshot": "Moonshot",
}
_DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class BilledLine:
    """Billed spend of one provider on one UTC day for one model / line item, in 1e-12 units of ``currency``."""

    day: date
    provider: str
    model: str
    line_item: str
    currency: str
    amount_pico: int


@dataclass
class ReportedRow:
    """Reported USD for one report period: per provider and per (provider, model, line item)."""

    key: str
    by_provider: dict[str, int] = field(default_factory=dict)
    lines: dict[tuple[str, str, str], int] = field(default_factory=dict)

    @property
    def total_pico(self) -> int:
        return sum(self.by_provider.values())

    def add(self, line: BilledLine) -> None:
        self.by_provider[line.provider] = self.by_provider.get(line.provider, 0) + line.amount_pico
        k = (line.provider, line.model, line.line_item)
        self.lines[k] = self.lines.get(k, 0) + line.amount_pico


@dataclass
class ReportedReport:
    kind: str
    rows: list[ReportedRow]
    totals: ReportedRow
    other_currencies: list[BilledLine]  # billed, not USD: shown apart, never added to dollars
    accounts: list[tuple[str, str]]  # (label, provider) of every account, reported data or not

    @property
    def providers(self) -> list[str]:
        """Providers with USD figures, billed providers first in their usual order."""
        seen = set(self.totals.by_provider)
        return [p for p in BILLED_PROVIDERS if p in seen] + sorted(seen - set(BILLED_PROVIDERS))


def utc_day(ms: int) -> date:
    return _EPOCH + timedelta(days=ms // _DAY_MS)


def day_ms(d: date) -> int:
    return (d - _EPOCH).days * _DAY_MS


def period_label(kind: str, d: date) -> str:
    """The label of the ``kind`` period holding date ``d``, as ``tracker.analytics.periods`` labels them."""
    if kind == "daily":
        return d.isoformat()
    if kind == "weekly":
        return (d - timedelta(days=d.weekday())).isoformat()
    if kind == "monthly":
        return d.strftime("%Y-%m")
    raise ValueError(f"reported costs have no {kind} report")


def accounts(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT label, provider FROM accounts ORDER BY label").fetchall()
    return [(str(label), str(provider)) for label, provider in rows]


def billed_lines(conn: sqlite3.Connection, since: date | None, until: date | None) -> list[BilledLine]:
    """Billed amounts per UTC day, provider, model, line item and currency (summed over accounts, projects and
    other dimensions), for UTC dates ``since``..``until`` inclusive."""
    clauses, params = ["billed = 1", "cost_pico IS NOT NULL"], []
    if since is not None:
        clauses.append("bucket_start_ms >= ?")
        params.append(day_ms(since))
    if until is not None:
        clauses.append("bucket_start_ms < ?")
        params.append(day_ms(until + timedelta(days=1)))
    sql = f"""
        SELECT bucket_start_ms / {_DAY_MS} AS d, provider, model, line_item, upper(coalesce(currency, 'USD')),
               sum(cost_pico)
        FROM provider_usage WHERE {" AND ".join(clauses)}
        GROUP BY d, provider, model, line_item, upper(coalesce(currency, 'USD'))
        ORDER BY d, provider, model, line_item"""
    return [
        BilledLine(_EPOCH + timedelta(days=int(d)), str(p), str(m), str(li), str(cur), int(amount))
        for d, p, m, li, cur, amount in conn.execute(sql, params).fetchall()
    ]


def build_reported(conn: sqlite3.Connection, kind: str, since: date | None, until: date | None) -> ReportedReport:
    """Reported USD per ``kind`` period (daily, weekly, monthly) for UTC dates ``since``..``until``."""
    rows: dict[str, ReportedRow] = {}
    totals = ReportedRow("total")
    other: list[BilledLine] = []
    for line in billed_lines(conn, since, until):
        if line.currency != "USD":
            other.append(line)
            continue
        key = period_label(kind, line.day)
        rows.setdefault(key, ReportedRow(key)).add(line)
        totals.add(line)
    return ReportedReport(kind, [rows[k] for k in sorted(rows)], totals, other, accounts(conn))


def usd_cell(pico: int | None) -> str:
    """Exact pico-dollars for people, rounded half-even to cents: "$1,234.57", "<$0.01", "-$3.00"; "—" for none.

    The one money cell of the CLI's tables and the client report (JSON and CSV keep :func:`usd_text`).
    """
    from decimal import Decimal

    from tracker.domain import PICO_PER_USD

    if pico is None:
        return "—"
    dollars = Decimal(abs(pico)) / PICO_PER_USD
    text = "<$0.01" if 0 < dollars < Decimal("0.01") else f"${dollars:,.2f}"
    return ("-" if pico < 0 else "") + text


def usd_text(pico: int) -> str:
    """An exact decimal string of dollars: at least two decimals, no trailing zeros past them ("1.2345", "3.50")."""
    sign = "-" if pico < 0 else ""
    whole, frac = divmod(abs(pico), 10**12)
    digits = f"{frac:012d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"
