"""Budgets measured against spend, and the value alert (spend this week with no outcome logged). Qt-free.

**Periods** are local: a monthly budget runs over the calendar month, a weekly one over the ISO week (Monday to
Sunday). Spend so far is counted from the period's first day to today.

**Spend** is ``estimated + reported + subscription``, labelled so wherever shown, with its parts kept (the same
rule as ``report value``):

* total: every piece of spend;
* a provider: the estimated cost of the agents priced at its models (Claude Code for ``anthropic``, Codex for
  ``openai``; an agent's name counts that agent alone), its billed reported cost (on UTC dates, as every report),
  and the fee share of plans covering it or those agents;
* a project: its attributed estimated and reported spend (``tracker.analytics.attribution``) and its share of
  the plans' fees.

Usage a plan covered is counted as the plan's fee, not at API prices: it leaves estimated (``covered_pusd``,
shown apart, never counted; ``tracker.analytics.subscriptions.plan_spend``).

**The value alert**: a project whose spend this week (Monday to today) lies outside every outcome's attribution
window, i.e. ``report value``'s spend with no outcome, at or above a minimum.
"""

from __future__ import annotations

import calendar
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from tracker.analytics.subscriptions import (
    covered_sources,
    estimated_between,
    fee_between,
    plan_spend,
    reported_between,
    spend_by_project_day_with_plans,
)
from tracker.domain import PICO_PER_USD
from tracker.plans import SOURCE_PROVIDER, SOURCES, Budget, list_budgets, list_subscriptions

THRESHOLDS = (50, 80, 100)
VALUE_ALERT_MIN_PUSD = 5 * PICO_PER_USD  # below $5 a week, spend with no outcome is not worth a notice


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    period_key: str  # '2026-11' or '2026-W47'
    first: date
    last: date  # the period's last day (spend is counted up to today)
    estimated_pusd: int
    reported_pusd: int
    subscription_pusd: int
    unpriced_records: int
    covered_pusd: int = 0  # API-equivalent cost of plan-covered usage: shown apart, not spend

    @property
    def spend_pusd(self) -> int:
        """Estimated (not covered by a plan) + reported + subscription."""
        return self.estimated_pusd + self.reported_pusd + self.subscription_pusd

    @property
    def percent(self) -> int:
        """Whole percent of the budget used (floor: 99.9% is not yet 100%)."""
        return self.spend_pusd * 100 // self.budget.amount_pusd

    def crossed(self) -> list[int]:
        return [t for t in THRESHOLDS if self.spend_pusd * 100 >= self.budget.amount_pusd * t]


@dataclass(frozen=True)
class ValueAlert:
    project: str
    week_key: str
    first: date
    without_outcome_pusd: int


def period_bounds(period: str, today: date) -> tuple[str, date, date]:
    """(key, first day, last day) of the ``monthly`` or ``weekly`` period holding ``today``."""
    if period == "monthly":
        first = today.replace(day=1)
        last = today.replace(day=calendar.monthrange(today.year, today.month)[1])
        return today.strftime("%Y-%m"), first, last
    if period == "weekly":
        first = today - timedelta(days=today.weekday())
        year, week, _ = today.isocalendar()
        return f"{year}-W{week:02d}", first, first + timedelta(days=6)
    raise ValueError(f"unknown period {period!r}")


def local_today(now_ms: int, tz: tzinfo) -> date:
    return datetime.fromtimestamp(now_ms / 1000, tz).date()


def _plan_counts_for(covers: str, target: str) -> bool:
    """A plan on ``covers`` counts for a provider budget on ``target``: the same source, or a shared agent."""
    return covers == target or bool(set(covered_sources(covers)) & set(covered_sources(target)))


def _provider_spend(conn: sqlite3.Connection, b: Budget, tz: tzinfo, first: date, today: date
                    ) -> tuple[int, int, int, int, int]:
    target = b.target
    provider = SOURCE_PROVIDER.get(target, target)
    sources = covered_sources(target)
    estimated, unpriced = estimated_between(conn, sources, tz, first, today)
    reported = 0 if target in SOURCES else reported_between(conn, provider, first, today)
    subs = [s for s in list_subscriptions(conn) if _plan_counts_for(s.covers, target)]
    subscription = sum(fee_between(s, first, today, today) for s in subs)
    # usage a plan covered (any plan: it was not paid at API prices) is not spend
    covered = sum(u.cost_pusd for u in plan_spend(conn, tz, today, first, today).covered if u.source in sources)
    return estimated - covered, reported, subscription, unpriced, covered


def _attributed_spend(conn: sqlite3.Connection, b: Budget, tz: tzinfo, first: date, today: date
                      ) -> tuple[int, int, int, int, int]:
    estimated = reported = unpriced = subscription = covered = 0
    for (project, _day), s in spend_by_project_day_with_plans(conn, tz, (first, today), today).items():
        if b.scope == "total" or project == b.target:
            estimated += s.estimated_pusd
            reported += s.reported_pusd
            unpriced += s.unpriced_records
            subscription += s.subscription_pusd
            covered += s.covered_pusd
    return estimated, reported, subscription, unpriced, covered


def budget_status(conn: sqlite3.Connection, b: Budget, tz: tzinfo, now_ms: int) -> BudgetStatus:
    today = local_today(now_ms, tz)
    key, first, last = period_bounds(b.period, today)
    if b.scope == "provider":
        parts = _provider_spend(conn, b, tz, first, today)
    else:
        parts = _attributed_spend(conn, b, tz, first, today)
    return BudgetStatus(b, key, first, last, *parts)


def budget_statuses(conn: sqlite3.Connection, tz: tzinfo, now_ms: int) -> list[BudgetStatus]:
    """Every stored budget with its spend so far this period."""
    return [budget_status(conn, b, tz, now_ms) for b in list_budgets(conn)]


def value_alerts(conn: sqlite3.Connection, tz: tzinfo, now_ms: int, min_pusd: int = VALUE_ALERT_MIN_PUSD
                 ) -> list[ValueAlert]:
    """Projects whose spend this week has no outcome (``report value``'s figure), at least ``min_pusd``, largest
    first."""
    from tracker.analytics.value import NO_PROJECT, ValueQuery, build_value_report

    today = local_today(now_ms, tz)
    key, first, _last = period_bounds("weekly", today)
    rep = build_value_report(conn, ValueQuery("project", tz, first, today, now_ms, run_rates=False))
    alerts = [ValueAlert(r.key, key, first, r.without_outcome_pusd) for r in rep.rows
              if r.key != NO_PROJECT and r.without_outcome_pusd >= max(min_pusd, 1)]
    return sorted(alerts, key=lambda a: (-a.without_outcome_pusd, a.project))
