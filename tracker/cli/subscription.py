"""``token-ledger subscription add|list|remove``: flat plans, their fee spread per day, and whether they paid off.

The work is in :mod:`tracker.plans` and :mod:`tracker.analytics.subscriptions` (Qt-free); this module parses
options and prints. ``list`` shows, per plan and month, the fee charged for the plan's days against the
API-equivalent value of the usage it covered (the estimated cost of that usage at API prices).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click

from tracker.cli.context import CliContext, UserError
from tracker.cli.outcome import FORMATS, local_tz, print_rows, read_conn, usd_cell, usd_json, write_conn


def _day(text: str | None, option: str) -> date | None:
    from tracker.outcomes import parse_day

    try:
        return parse_day(text, option)
    except ValueError as e:
        raise UserError(str(e)) from None


def _today() -> date:
    from tracker import plans

    return datetime.fromtimestamp(plans.now_ms() / 1000, local_tz()).date()


@click.group()
def subscription() -> None:
    """Flat plans (e.g. a $200/month coding plan): their fee counts as `subscription` spend, spread per day."""


@subscription.command()
@click.argument("name")
@click.option("--covers", required=True, metavar="SOURCE",
              help="What the plan pays for: claude_code, codex, or a provider (anthropic, openai, ...).")
@click.option("--fee", required=True, metavar="USD", help="The monthly fee in dollars, e.g. 200 or 19.99.")
@click.option("--since", "since", required=True, metavar="YYYY-MM-DD", help="The plan's first day.")
@click.option("--until", "until", metavar="YYYY-MM-DD", help="The plan's last day (inclusive); default: still running.")
@click.pass_obj
def add(ctx: CliContext, /, *, name: str, covers: str, fee: str, since: str, until: str | None) -> None:
    """Add the plan NAME."""
    from tracker.plans import add_subscription, list_subscriptions

    start, end = _day(since, "--since"), _day(until, "--until")
    assert start is not None  # required option
    with write_conn(ctx) as conn:
        sid = add_subscription(conn, name, covers, fee, start, end=end)
        sub = next(s for s in list_subscriptions(conn) if s.id == sid)
    span = f"from {sub.start.isoformat()}" + (f" to {sub.end.isoformat()}" if sub.end else "")
    click.echo(f"Added subscription #{sid} {sub.name!r}: {usd_cell(sub.fee_pusd)} a month covering "
               f"{sub.covers}, {span}. Its fee counts as subscription spend, spread per day.")


@subscription.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.pass_obj
def list_(ctx: CliContext, fmt: str) -> None:
    """Plans, and per month: the fee for the plan's days against the API-equivalent value of what it covered."""
    from tracker.analytics.subscriptions import plan_months
    from tracker.plans import list_subscriptions

    tz, today = local_tz(), _today()
    with read_conn(ctx) as conn:
        subs = [] if conn is None else list_subscriptions(conn)
        months = {s.id: plan_months(conn, s, tz, today) for s in subs} if conn is not None else {}
    if not subs and fmt == "table":
        click.echo("No subscriptions. Add one with "
                   "`token-ledger subscription add NAME --covers claude_code --fee 200 --since YYYY-MM-DD`.")
        return
    records: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    for s in subs:
        for m in months[s.id]:
            ratio = m.times()
            records.append({
                "plan": s.name, "covers": s.covers, "month": m.month, "first": m.first.isoformat(),
                "last": m.last.isoformat(), "to_date": m.to_date, "fee_usd": usd_json(m.fee_pusd),
                "api_value_usd": usd_json(m.value_pusd), "unpriced_records": m.unpriced_records,
                "times": None if ratio is None else float(ratio), "verdict": m.verdict(),
            })
            days = (m.last - m.first).days + 1
            rows.append([s.name, s.covers, m.month + (" (to date)" if m.to_date else ""), str(days),
                         usd_cell(m.fee_pusd), usd_cell(m.value_pusd)
                         + (f" + {m.unpriced_records} unpriced" if m.unpriced_records else ""), m.verdict()])
    if fmt == "json":
        from tracker.cli.output import dumps

        plans = [{"id": s.id, "name": s.name, "covers": s.covers, "fee_usd": usd_json(s.fee_pusd),
                  "since": s.start.isoformat(), "until": None if s.end is None else s.end.isoformat(),
                  "months": [r for r in records if r["plan"] == s.name]} for s in subs]
        click.echo(dumps(plans))
        return
    print_rows(fmt, f"Subscriptions (to {today.isoformat()})",
               ["Plan", "Covers", "Month", "Days", "Fee $", "API-equivalent $", "Verdict"], rows, records=records,
               fields=("plan", "covers", "month", "first", "last", "to_date", "fee_usd", "api_value_usd",
                       "unpriced_records", "times", "verdict"))
    if fmt == "table":
        click.echo("API-equivalent: the estimated cost of the covered usage at API prices, on the plan's days. "
                   "Fee: the monthly fee spread per day over the plan's days.")


@subscription.command()
@click.argument("name")
@click.pass_obj
def remove(ctx: CliContext, name: str) -> None:
    """Remove the plan NAME (its fee no longer counts as spend, past months included)."""
    from tracker.plans import remove_subscription

    with write_conn(ctx) as conn:
        s = remove_subscription(conn, name)
    click.echo(f"Removed subscription #{s.id} {s.name!r} ({s.covers}).")
