"""``report reconcile``: what a provider billed next to what the matching local logs estimate, per UTC day.

Two pairs are compared: Anthropic's cost_report with Claude Code logs, and OpenAI's costs with Codex CLI logs.
Both sides are cut at UTC midnights (providers bucket by UTC day, and the logs carry exact instants), so a day
here is the same 24 hours on both sides. Reported money is billed USD only (see ``tracker.analytics.reported``).

A day with no billed rows means two different things: inside the window an account's syncs have fetched
(``provider_sync_state``: from ``covered_from_ms`` to the day of ``last_ok_ms``) the provider billed nothing,
which is a real $0 (typical for Claude Code on a subscription plan); outside it nothing is known. So:

* ``both``: reported (possibly $0 on a fetched day) and estimated usage exist for the day;
* ``reported_only``: the provider billed spend, the logs show no usage that day;
* ``estimated_only``: logs show usage on a day inside the compared span that no sync fetched (a gap).

Log usage on days before or after everything the provider reported or its syncs fetched (over the whole ledger,
not just the asked range, so a day is classed the same whatever the range) is summarised per pair rather than
listed day by day, so two years of logs next to 90 days of reports do not bury the comparison.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from tracker.analytics.reported import accounts, billed_lines, utc_day
from tracker.analytics.reports import ReportQuery, Totals, build_report

# (provider, local log source): whose bill is compared with which logs.
PAIRS = (("anthropic", "claude_code"), ("openai", "codex"))
SOURCE_LABELS = {"claude_code": "Claude Code", "codex": "Codex CLI"}


@dataclass
class ReconRow:
    day: date
    provider: str
    source: str
    status: str  # both | reported_only | estimated_only
    reported_pico: int | None  # billed USD (0 on a fetched day with nothing billed); None: not fetched
    estimated: Totals | None  # None: no log usage that day

    @property
    def difference_pico(self) -> int | None:
        """Reported minus estimated, when both are known (the estimate covers its priced requests only)."""
        if self.reported_pico is None:
            return None
        if self.estimated is None:
            return self.reported_pico
        return self.reported_pico - self.estimated.cost_pusd if self.estimated.cost_known else None

    @property
    def ratio(self) -> Decimal | None:
        return ratio(self.reported_pico, self.estimated)


@dataclass
class PairResult:
    provider: str
    source: str
    account_labels: list[str]
    rows: list[ReconRow] = field(default_factory=list)
    covered: list[tuple[date, date]] = field(default_factory=list)  # UTC days the syncs fetched (inclusive)
    outside_days: int = 0  # days with log usage outside everything reported or fetched
    outside_estimated: Totals = field(default_factory=Totals)
    outside_first: date | None = None
    outside_last: date | None = None

    def compared(self) -> tuple[int, Totals]:
        """Reported and estimated sums over the days where both are known."""
        reported, estimated = 0, Totals()
        for r in self.rows:
            if r.status == "both" and r.reported_pico is not None and r.estimated is not None:
                reported += r.reported_pico
                estimated.add(r.estimated)
        return reported, estimated


@dataclass
class Reconciliation:
    since: date | None
    until: date | None
    accounts: list[tuple[str, str]]
    pairs: list[PairResult]

    @property
    def rows(self) -> list[ReconRow]:
        return sorted((r for p in self.pairs for r in p.rows), key=lambda r: (r.day, r.provider))

    @property
    def has_reported(self) -> bool:
        return any(r.reported_pico for r in self.rows) or any(p.covered for p in self.pairs)


def ratio(reported_pico: int | None, estimated: Totals | None) -> Decimal | None:
    """Reported / estimated to two decimals, when both are known and the estimate is not zero."""
    if reported_pico is None or estimated is None or not estimated.cost_known or estimated.cost_pusd == 0:
        return None
    return (Decimal(reported_pico) / Decimal(estimated.cost_pusd)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def coverage(conn: sqlite3.Connection, provider: str) -> list[tuple[date, date]]:
    """UTC day ranges the provider's accounts have fetched, from the first day covered to the last good sync."""
    sql = """SELECT s.covered_from_ms, s.last_ok_ms FROM provider_sync_state s JOIN accounts a ON a.id = s.account_id
             WHERE a.provider = ? ORDER BY s.covered_from_ms"""
    return [(utc_day(int(lo)), utc_day(int(hi))) for lo, hi in conn.execute(sql, (provider,)).fetchall()]


def billed_extent(conn: sqlite3.Connection, provider: str) -> list[date]:
    """The first and last UTC day with billed USD from ``provider`` (empty when there is none)."""
    lo, hi = conn.execute(
        "SELECT min(bucket_start_ms), max(bucket_start_ms) FROM provider_usage"
        " WHERE provider = ? AND billed = 1 AND cost_pico IS NOT NULL AND upper(coalesce(currency, 'USD')) = 'USD'",
        (provider,),
    ).fetchone()
    return [] if lo is None else [utc_day(int(lo)), utc_day(int(hi))]


def _covers(ranges: list[tuple[date, date]], d: date) -> bool:
    return any(lo <= d <= hi for lo, hi in ranges)


def _estimated_by_day(conn: sqlite3.Connection, source: str, since: date | None, until: date | None
                      ) -> dict[date, Totals]:
    rep = build_report(conn, ReportQuery("daily", ZoneInfo("UTC"), since, until, (source,)))
    return {date.fromisoformat(r.key): r.totals for r in rep.rows if r.totals.records}


def _pair(conn: sqlite3.Connection, provider: str, source: str, *, labels: list[str], reported: dict[date, int],
          since: date | None, until: date | None) -> PairResult:
    res = PairResult(provider, source, labels, covered=coverage(conn, provider))
    estimated = _estimated_by_day(conn, source, since, until)
    # the whole ledger's extent, not just --since..--until, so a day is classed the same whatever the range
    edges = [d for rng in res.covered for d in rng] + billed_extent(conn, provider)
    lo, hi = (min(edges), max(edges)) if edges else (None, None)
    for d in sorted(set(reported) | set(estimated)):
        est = estimated.get(d)
        if lo is None or hi is None or not lo <= d <= hi:
            _outside(res, d, est)
            continue
        rep = reported.get(d, 0 if _covers(res.covered, d) else None)
        status = "reported_only" if est is None else ("both" if rep is not None else "estimated_only")
        res.rows.append(ReconRow(d, provider, source, status, rep, est))
    return res


def _outside(res: PairResult, d: date, est: Totals | None) -> None:
    if est is None:
        return
    res.outside_days += 1
    res.outside_estimated.add(est)
    res.outside_first = d if res.outside_first is None else min(res.outside_first, d)
    res.outside_last = d if res.outside_last is None else max(res.outside_last, d)


def build_reconciliation(conn: sqlite3.Connection, since: date | None = None, until: date | None = None
                         ) -> Reconciliation:
    """Reported vs estimated per UTC day for each pair, over UTC dates ``since``..``until`` (inclusive)."""
    accts = accounts(conn)
    reported: dict[str, dict[date, int]] = {}
    for line in billed_lines(conn, since, until):
        if line.currency == "USD":
            days = reported.setdefault(line.provider, {})
            days[line.day] = days.get(line.day, 0) + line.amount_pico
    pairs = []
    for provider, source in PAIRS:
        labels = [label for label, p in accts if p == provider]
        if labels:
            pairs.append(_pair(conn, provider, source, labels=labels, reported=reported.get(provider, {}),
                               since=since, until=until))
    return Reconciliation(since, until, accts, pairs)


def covered_span(p: PairResult) -> tuple[date, date] | None:
    if not p.covered:
        return None
    return min(lo for lo, _ in p.covered), max(hi for _, hi in p.covered)


# Why the two sides differ, in plain words (printed under the comparison and carried in its JSON).
REASONS = (
    "Reported is the provider's bill for the whole API organisation: other apps, scripts, people and machines "
    "using the same organisation are in it; the logs hold only this machine's Claude Code and Codex CLI.",
    "Claude Code on a Pro/Max plan, and Codex CLI signed in with ChatGPT, are paid by subscription, not billed "
    "through the API: their usage is estimated here, while the API bill shows $0 for it.",
    "Estimates use dated price tables: a price change newer than the table, batch or priority pricing, long-context "
    "rates or discounts on the bill move the two apart.",
    "Cache writes are priced by how long the cache lives (5 minutes or 1 hour cost differently); a log that does "
    "not say which (older Claude Code versions) is estimated at the 5-minute rate.",
    "Today is still in progress on both sides, and providers can add late usage to recent days: the last one or "
    "two days settle after the next syncs.",
)
