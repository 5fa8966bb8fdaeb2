"""Subscription spend: a flat plan's fee spread per day, and what the plan's usage would have cost at API prices.

**Spreading (exact).** A plan's monthly fee ``F`` (integer pico-USD) is spread over the ``D`` days of each calendar
month by cumulative floors: day ``k`` (1-based) of the month gets ``floor(F*k/D) - floor(F*(k-1)/D)``. The shares
are whole pico-USD, differ by at most one pico, and the days of a full month sum to exactly ``F`` (the remainder
``F mod D`` is spread one pico at a time over the days where the cumulative floor steps up, never lost or
doubled). A partial first or last month counts only the plan's days (``start``..``end`` inclusive). Days are
local calendar dates; spend after ``today`` has not happened yet and is never counted.

**API-equivalent value** of a plan in a period: the estimated cost (``usage.cost_pusd``, priced from the agent's
logs) of the usage the plan covers on its days: a plan covering an agent (``claude_code``, ``codex``) counts that
agent's usage; a plan covering a provider counts the agents priced at that provider's models (Claude Code for
``anthropic``, Codex for ``openai``) plus that provider's billed reported cost. Unpriced records are counted apart,
never as $0. Set against the fee charged for the same days, it says whether the plan paid for itself.

**Fee is spend, covered usage is not** (:func:`plan_spend`, docs/outcomes.md, decision 16). On each active plan
day, the usage of the covered agents is *covered*: its estimated cost leaves estimated spend (shown apart as the
API-equivalent value). Each plan's fee share of the day is spend, allocated to projects in proportion to the
covered cost of its agents' usage that day (largest remainder, exact), then within a project to the instants of
that usage; with no covered cost the share goes to no project at local midnight. Reported spend is never
excluded. ``report value``, attribution, budgets and client reports all read :func:`plan_spend`.

Qt-free; money stays in integers, Decimal only for ratios.
"""

from __future__ import annotations

import calendar
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from tracker.analytics.attribution import Rules, Spend, load_rules, project_for_path, spend_by_project_day
from tracker.analytics.periods import local_midnight_ms
from tracker.plans import SOURCE_PROVIDER, SOURCES, Subscription, list_subscriptions

_DAY_MS = 86_400_000
_SLOT_MS = 900_000  # every zone offset in use is a multiple of 15 minutes: a slot never straddles local midnight
_EPOCH = date(1970, 1, 1)


def day_share(fee_pusd: int, day: date) -> int:
    """The part of a monthly fee that falls on ``day`` (cumulative floors: a full month sums to the fee)."""
    days = calendar.monthrange(day.year, day.month)[1]
    k = day.day
    return fee_pusd * k // days - fee_pusd * (k - 1) // days


def _days(first: date, last: date) -> Iterator[date]:
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def active_span(sub: Subscription, first: date, last: date, today: date) -> tuple[date, date] | None:
    """The plan's days within ``first``..``last`` and not after ``today``, or None."""
    lo = max(first, sub.start)
    hi = min(last, today, sub.end) if sub.end is not None else min(last, today)
    return (lo, hi) if lo <= hi else None


def fee_between(sub: Subscription, first: date, last: date, today: date) -> int:
    """The fee charged for the plan's days in ``first``..``last`` (inclusive), pico-USD."""
    span = active_span(sub, first, last, today)
    if span is None:
        return 0
    return sum(day_share(sub.fee_pusd, d) for d in _days(*span))


def subscription_by_day(conn: sqlite3.Connection, first: date | None, last: date | None, today: date,
                        subs: list[Subscription] | None = None) -> dict[date, dict[str, int]]:
    """Subscription spend per local day and covered source: ``{day: {covers: pico}}``. None bounds: every plan day
    up to ``today``."""
    subs = list_subscriptions(conn) if subs is None else subs
    out: dict[date, dict[str, int]] = {}
    for sub in subs:
        span = active_span(sub, first or sub.start, last or today, today)
        if span is None:
            continue
        for d in _days(*span):
            share = day_share(sub.fee_pusd, d)
            if share:
                per = out.setdefault(d, {})
                per[sub.covers] = per.get(sub.covers, 0) + share
    return out


def covered_sources(covers: str) -> tuple[str, ...]:
    """The agents whose estimated usage a plan (or a provider budget) on ``covers`` counts."""
    if covers in SOURCES:
        return (covers,)
    return tuple(s for s in SOURCES if SOURCE_PROVIDER[s] == covers)


def estimated_between(conn: sqlite3.Connection, sources: tuple[str, ...], tz: tzinfo, first: date, last: date
                      ) -> tuple[int, int]:
    """(priced pico, unpriced records) of ``sources``' usage on local dates ``first``..``last``."""
    if not sources:
        return 0, 0
    marks = ", ".join("?" for _ in sources)
    row = conn.execute(
        f"""SELECT coalesce(sum(CASE WHEN cost_kind != 'unpriced' THEN cost_pusd END), 0),
                   coalesce(sum(cost_kind = 'unpriced'), 0)
            FROM usage WHERE source IN ({marks}) AND ts_ms >= ? AND ts_ms < ?""",
        (*sources, local_midnight_ms(first, tz), local_midnight_ms(last + timedelta(days=1), tz)),
    ).fetchone()
    return int(row[0]), int(row[1])


def reported_between(conn: sqlite3.Connection, provider: str, first: date, last: date) -> int:
    """Billed USD (pico) of ``provider`` for buckets on UTC dates ``first``..``last`` (as every report places them)."""
    try:
        row = conn.execute(
            """SELECT coalesce(sum(cost_pico), 0) FROM provider_usage
               WHERE provider = ? AND billed = 1 AND cost_pico IS NOT NULL
                 AND upper(coalesce(currency, 'USD')) = 'USD' AND bucket_start_ms >= ? AND bucket_start_ms < ?""",
            (provider, (first - _EPOCH).days * _DAY_MS, (last + timedelta(days=1) - _EPOCH).days * _DAY_MS),
        ).fetchone()
    except sqlite3.OperationalError:  # a ledger without provider tables
        return 0
    return int(row[0])


@dataclass(frozen=True)
class PlanMonth:
    """One calendar month of a plan: the fee charged for its days and the API-equivalent value of its usage."""

    plan: str
    covers: str
    month: str  # YYYY-MM
    first: date
    last: date  # the plan's last counted day in this month (today for the current month)
    to_date: bool  # the month is not over yet
    fee_pusd: int
    value_pusd: int
    unpriced_records: int

    def times(self) -> Decimal | None:
        """Value / fee to one decimal (half-even); None for a free plan."""
        if self.fee_pusd <= 0:
            return None
        with localcontext() as ctx:
            ctx.prec = 60
            return (Decimal(self.value_pusd) / Decimal(self.fee_pusd)).quantize(Decimal("0.1"), ROUND_HALF_EVEN)

    def verdict(self) -> str:
        """``paid for itself 3.2× over``, ``break-even`` or ``below break-even (40% of the fee)``."""
        ratio = self.times()
        if ratio is None:
            return "free plan"
        if self.value_pusd < self.fee_pusd:
            return f"below break-even ({self.value_pusd * 100 // self.fee_pusd}% of the fee)"
        if ratio <= 1:
            return "break-even"
        return f"paid for itself {ratio}× over"


def plan_value(conn: sqlite3.Connection, sub: Subscription, tz: tzinfo, span: tuple[date, date], today: date
               ) -> tuple[int, int]:
    """(API-equivalent value pico, unpriced records) of the usage ``sub`` covers on its days in first..last."""
    active = active_span(sub, span[0], span[1], today)
    if active is None:
        return 0, 0
    value, unpriced = estimated_between(conn, covered_sources(sub.covers), tz, *active)
    if sub.covers not in SOURCES:
        value += reported_between(conn, sub.covers, *active)
    return value, unpriced


def plan_months(conn: sqlite3.Connection, sub: Subscription, tz: tzinfo, today: date) -> list[PlanMonth]:
    """Every month of ``sub`` from its start to its end (or to this month), oldest first."""
    out: list[PlanMonth] = []
    month = sub.start.replace(day=1)
    stop = min(sub.end, today) if sub.end is not None else today
    while month <= stop:
        last_day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        span = active_span(sub, month, last_day, today)
        if span is not None:
            value, unpriced = plan_value(conn, sub, tz, span, today)
            out.append(PlanMonth(sub.name, sub.covers, month.strftime("%Y-%m"), span[0], span[1],
                                 span[1] == today and today < last_day and (sub.end is None or sub.end > today),
                                 fee_between(sub, *span, today), value, unpriced))
        month = last_day + timedelta(days=1)
    return out


# ---- covered usage and fee shares (what a plan changes in every spend figure) --------------------------------


@dataclass(frozen=True)
class CoveredUse:
    """Usage a plan covered at one instant in one project: its API-equivalent cost is **not** spend."""

    project: str | None
    source: str
    day: date
    at_ms: int
    cost_pusd: int


@dataclass(frozen=True)
class FeeShare:
    """Part of a plan's fee for one day, placed in a project at an instant: this **is** spend."""

    plan: str
    covers: str
    project: str | None
    day: date
    at_ms: int
    pusd: int


@dataclass
class PlanSpend:
    covered: list[CoveredUse]
    fees: list[FeeShare]


def largest_remainder(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (not all 0), in whole units summing exactly to ``total``.

    Each part is ``floor(total * w / W)``; the units left over go one each to the largest fractional remainders
    (``total * w mod W``), ties to the larger weight, then to the earlier position.
    """
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), -weights[i], i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def plan_days(subs: list[Subscription], first: date | None, last: date | None, today: date
              ) -> tuple[dict[date, set[str]], dict[date, list[tuple[Subscription, int]]]]:
    """Per local day: the agents covered by an active plan, and each active plan with its fee share."""
    covered: dict[date, set[str]] = {}
    fees: dict[date, list[tuple[Subscription, int]]] = {}
    for sub in subs:
        span = active_span(sub, first or sub.start, last or today, today)
        if span is None:
            continue
        for d in _days(*span):
            covered.setdefault(d, set()).update(covered_sources(sub.covers))
            fees.setdefault(d, []).append((sub, day_share(sub.fee_pusd, d)))
    return covered, fees


def _covered_rows(conn: sqlite3.Connection, tz: tzinfo, rules: Rules, covered: dict[date, set[str]]
                  ) -> list[CoveredUse]:
    """Usage of each day's covered agents, per (project, agent, instant), its cost as ``report value`` sums it."""
    sources = sorted(set().union(*covered.values())) if covered else []
    if not sources:
        return []
    marks = ", ".join("?" for _ in sources)
    lo = local_midnight_ms(min(covered), tz)
    hi = local_midnight_ms(max(covered) + timedelta(days=1), tz)
    sql = f"""SELECT project_path, source, ts_ms, coalesce(sum(cost_pusd), 0) FROM usage
              WHERE source IN ({marks}) AND ts_ms >= ? AND ts_ms < ? GROUP BY project_path, source, ts_ms"""
    names: dict[str | None, str | None] = {}
    days: dict[int, date] = {}
    merged: dict[tuple[str | None, str, int], tuple[date, int]] = {}
    for path, source, ts_raw, cost in conn.execute(sql, (*sources, lo, hi)):
        ts = int(ts_raw)
        slot = ts - ts % _SLOT_MS
        day = days.get(slot)
        if day is None:
            day = days[slot] = datetime.fromtimestamp(slot / 1000, tz).date()
        if str(source) not in covered.get(day, ()):
            continue
        if path not in names:
            names[path] = project_for_path(path, rules)
        key = (names[path], str(source), ts)
        prev = merged.get(key, (day, 0))
        merged[key] = (day, prev[1] + int(cost))
    return [CoveredUse(p, s, day, ts, cost) for (p, s, ts), (day, cost) in merged.items()]


def _allocate(sub: Subscription, day: date, share: int, uses: list[CoveredUse], tz: tzinfo) -> list[FeeShare]:
    """One plan's fee share of one day: to projects in proportion to their covered cost (largest remainder),
    then within a project to its covered instants the same way; no covered cost: to no project, at midnight."""
    if share == 0:
        return []
    mine = [u for u in uses if u.source in covered_sources(sub.covers) and u.cost_pusd > 0]
    if not mine:
        return [FeeShare(sub.name, sub.covers, None, day, local_midnight_ms(day, tz), share)]
    per_project: dict[str | None, list[CoveredUse]] = {}
    for u in mine:
        per_project.setdefault(u.project, []).append(u)
    projects = sorted(per_project, key=lambda p: (p is None, p or ""))
    weights = [sum(u.cost_pusd for u in per_project[p]) for p in projects]
    out: list[FeeShare] = []
    for project, part in zip(projects, largest_remainder(share, weights), strict=True):
        if part == 0:
            continue
        instants = sorted(per_project[project], key=lambda u: (u.at_ms, u.source))
        for u, piece in zip(instants, largest_remainder(part, [u.cost_pusd for u in instants]), strict=True):
            if piece:
                out.append(FeeShare(sub.name, sub.covers, project, day, u.at_ms, piece))
    return out


def plan_spend(conn: sqlite3.Connection, tz: tzinfo, today: date, first: date | None = None,
               last: date | None = None, *, rules: Rules | None = None, subs: list[Subscription] | None = None
               ) -> PlanSpend:
    """What the stored plans change on local days ``first``..``last`` (None: every plan day) up to ``today``.

    ``covered``: the usage of each day's covered agents (its estimated cost is the plans' API-equivalent value,
    not spend); ``fees``: each plan's daily fee share, allocated to projects in proportion to the API-equivalent
    cost of the usage it covered that day (largest remainder: a day's shares sum exactly to its fee), placed at
    the instants of that usage (so outcome windows split it the way they split the usage); a day with no covered
    cost puts its share in no project, at the day's local midnight.
    """
    subs = list_subscriptions(conn) if subs is None else subs
    if not subs:
        return PlanSpend([], [])
    rules = load_rules(conn) if rules is None else rules
    covered, fees = plan_days(subs, first, last, today)
    uses = _covered_rows(conn, tz, rules, covered)
    by_day: dict[date, list[CoveredUse]] = {}
    for u in uses:
        by_day.setdefault(u.day, []).append(u)
    shares: list[FeeShare] = []
    for day in sorted(fees):
        for sub, share in fees[day]:
            shares.extend(_allocate(sub, day, share, by_day.get(day, []), tz))
    return PlanSpend(sorted(uses, key=lambda u: (u.at_ms, u.source, u.project or "")), shares)


def spend_by_project_day_with_plans(conn: sqlite3.Connection, tz: tzinfo, span: tuple[date | None, date | None],
                                    today: date, rules: Rules | None = None) -> dict[tuple[str | None, date], Spend]:
    """``attribution.spend_by_project_day`` with the plans applied: covered usage moves from ``estimated_pusd``
    to ``covered_pusd`` and each project's fee shares are its ``subscription_pusd`` (unchanged without plans)."""
    rules = load_rules(conn) if rules is None else rules
    out = spend_by_project_day(conn, tz, span[0], span[1], rules)
    ps = plan_spend(conn, tz, today, span[0], span[1], rules=rules)
    for u in ps.covered:
        s = out.setdefault((u.project, u.day), Spend())
        s.estimated_pusd -= u.cost_pusd
        s.covered_pusd += u.cost_pusd
    for f in ps.fees:
        out.setdefault((f.project, f.day), Spend()).subscription_pusd += f.pusd
    return out
