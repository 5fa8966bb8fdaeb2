"""``token-ledger budget add|list|remove``: monthly and weekly budgets for the total, a provider or a project.

Spend against a budget is estimated + reported + subscription (labelled so), counted over the current local
period (calendar month, or ISO week Monday to Sunday) up to today; see :mod:`tracker.analytics.budgets`. The tray
notifies at 50%, 80% and 100% (:mod:`tracker.sync.budget`).
"""

from __future__ import annotations

from typing import Any

import click

from tracker.cli.context import CliContext, UserError
from tracker.cli.outcome import FORMATS, local_tz, print_rows, read_conn, usd_cell, usd_json, write_conn


@click.group()
def budget() -> None:
    """Monthly and weekly budgets for the total spend, a provider's or a project's."""


@budget.command()
@click.option("--monthly", metavar="USD", help="A budget per calendar month, in dollars.")
@click.option("--weekly", metavar="USD", help="A budget per week (Monday to Sunday), in dollars.")
@click.option("--provider", metavar="P", help="Only this provider's spend (anthropic, openai, ...; or an agent).")
@click.option("--project", metavar="P", help="Only this project's spend.")
@click.pass_obj
def add(ctx: CliContext, /, *, monthly: str | None, weekly: str | None, provider: str | None,
        project: str | None) -> None:
    """Add a budget: --monthly AMOUNT or --weekly AMOUNT, for the total, --provider P or --project P."""
    from tracker.plans import add_budget, list_budgets

    if (monthly is None) == (weekly is None):
        raise UserError("give one of --monthly AMOUNT or --weekly AMOUNT")
    period, amount = ("monthly", monthly) if monthly is not None else ("weekly", weekly)
    assert amount is not None
    with write_conn(ctx) as conn:
        bid = add_budget(conn, period, amount, provider=provider, project=project)
        b = next(x for x in list_budgets(conn) if x.id == bid)
    click.echo(f"Added budget #{bid}: {usd_cell(b.amount_pusd)} {b.label()}. "
               "Spend counts estimated + reported + subscription.")


@budget.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.pass_obj
def list_(ctx: CliContext, fmt: str) -> None:
    """Budgets, with spend so far this period (estimated + reported + subscription) and the share used."""
    from tracker import plans
    from tracker.analytics.budgets import budget_statuses

    tz = local_tz()
    with read_conn(ctx) as conn:
        statuses = [] if conn is None else budget_statuses(conn, tz, plans.now_ms())
        with_plans = conn is not None and plans.has_subscriptions(conn)
    if not statuses and fmt == "table":
        click.echo("No budgets. Add one with `token-ledger budget add --monthly 100` "
                   "(or --weekly, with --provider P or --project P).")
        return
    records: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    for st in statuses:
        b = st.budget
        records.append({
            "id": b.id, "period": b.period, "scope": b.scope, "target": b.target or None,
            "amount_usd": usd_json(b.amount_pusd), "period_key": st.period_key, "first": st.first.isoformat(),
            "last": st.last.isoformat(), "spend_usd": usd_json(st.spend_pusd),
            "estimated_usd": usd_json(st.estimated_pusd), "reported_usd": usd_json(st.reported_pusd),
            "subscription_usd": usd_json(st.subscription_pusd), "unpriced_records": st.unpriced_records,
            "percent_used": st.percent,
        })
        if with_plans:  # the API-equivalent cost of plan-covered usage: shown, never counted
            records[-1]["covered_usd"] = usd_json(st.covered_pusd)
        rows.append([str(b.id), b.period, b.scope if not b.target else f"{b.scope} {b.target}", usd_cell(b.amount_pusd),
                     f"{st.period_key} ({st.first:%m-%d}–{st.last:%m-%d})", usd_cell(st.estimated_pusd),
                     usd_cell(st.reported_pusd), usd_cell(st.subscription_pusd), usd_cell(st.spend_pusd)
                     + (f" + {st.unpriced_records} unpriced" if st.unpriced_records else ""), f"{st.percent}%"])
    print_rows(fmt, "Budgets (this period so far)",
               ["Id", "Period", "For", "Budget $", "Period", "Estimated $", "Reported $", "Subscription $",
                "Spend $", "Used"], rows, records=records, fields=tuple(records[0]) if records else ("id",))
    if fmt == "table":
        click.echo("Spend = estimated + reported + subscription; unpriced records are not counted as $0.")
        if with_plans:
            click.echo("Usage a flat plan covered counts as its fee (subscription), not at API prices.")


@budget.command()
@click.argument("budget_id", type=int)
@click.pass_obj
def remove(ctx: CliContext, budget_id: int) -> None:
    """Remove budget BUDGET_ID (see `budget list`)."""
    from tracker.plans import remove_budget

    with write_conn(ctx) as conn:
        b = remove_budget(conn, budget_id)
    click.echo(f"Removed budget #{b.id} ({usd_cell(b.amount_pusd)} {b.label()}).")
