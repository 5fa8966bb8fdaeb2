"""``token-ledger report reconcile``: what Anthropic and OpenAI billed next to the Claude Code and Codex CLI
estimates, per UTC day (``tracker.analytics.reconcile``; decision 14). Shapes in docs/cli.md.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tracker.cli.context import CliContext, UserError
from tracker.cli.output import dumps
from tracker.cli.report import money, natural_width, reported_money

if TYPE_CHECKING:
    from datetime import date

    from tracker.analytics.reconcile import Reconciliation, ReconRow


def check_reconcile_options(tz_name: str | None, sources: tuple[str, ...], breakdown: bool, cost: str | None
                             ) -> None:
    given = [name for name, used in (("--tz", tz_name is not None), ("--source", bool(sources)),
                                     ("--breakdown", breakdown), ("--cost", cost is not None)) if used]
    if given:
        raise UserError(
            f"report reconcile takes --since, --until and --format only (not {', '.join(given)}): "
            "it compares UTC days, Anthropic with Claude Code and OpenAI with Codex CLI"
        )


def reconcile(ctx: CliContext, since: date | None, until: date | None, fmt: str) -> None:
    import contextlib
    import sqlite3

    from tracker.analytics.reconcile import REASONS, build_reconciliation
    from tracker.cli.output import reconcile_csv, reconcile_json
    from tracker.ledger.rollup import refresh as refresh_rollup

    if not ctx.paths.db.exists():
        raise UserError(f"No ledger at {ctx.paths.db} yet. Run `token-ledger sync` first.")
    with ctx.store(create=False) as store:
        with contextlib.suppress(sqlite3.OperationalError):
            refresh_rollup(store.conn)
        rec = build_reconciliation(store.conn, since, until)
    if fmt == "json":
        sys.stdout.write(dumps(reconcile_json(rec, list(REASONS), reconcile_hint(rec))) + "\n")
    elif fmt == "csv":
        sys.stdout.write(reconcile_csv(rec))
    else:
        print_reconcile(rec)


def reconcile_hint(rec: Reconciliation) -> str | None:
    """What to do when there is nothing (or only half) to compare; None when every pair has an account."""
    from tracker.analytics.reconcile import PAIRS, SOURCE_LABELS

    if not rec.accounts:
        return ("No provider accounts yet, so there is nothing to compare. Add one: `token-ledger account add "
                "anthropic --name work` (an Admin key; compared with Claude Code) or `token-ledger account add "
                "openai --name work` (an Admin key; compared with Codex CLI), then run `token-ledger sync`.")
    have = {p.provider for p in rec.pairs}
    missing = [f"`token-ledger account add {p} --name NAME` to compare with {SOURCE_LABELS[s]}"
               for p, s in PAIRS if p not in have]
    if not rec.pairs:
        return ("Your accounts have no local logs to compare with (reconcile pairs Anthropic with Claude Code and "
                "OpenAI with Codex CLI). Add one: " + "; ".join(missing) + ".")
    if not rec.has_reported:
        return "No billed costs reported yet: run `token-ledger sync` to poll your accounts."
    return ("Also possible: " + "; ".join(missing) + ".") if missing else None


_STATUS_NOTES = {"reported_only": "no log usage", "estimated_only": "not fetched"}


def print_reconcile(rec: Reconciliation) -> None:
    from rich.console import Console
    from rich.table import Table

    from tracker.analytics.reconcile import REASONS

    console = Console()
    hint = reconcile_hint(rec)
    if rec.rows:
        table = Table(title="Reported (billed) vs estimated (logs), per UTC day", title_justify="left",
                      header_style="bold")
        for name in ("Day (UTC)", "Provider / logs", "Reported", "Estimated", "Difference", "Ratio", "Note"):
            table.add_column(name, justify="right" if name in ("Reported", "Estimated", "Difference", "Ratio")
                             else "left", no_wrap=name != "Note")
        for r in rec.rows:
            table.add_row(*_recon_cells(r))
        if not console.is_terminal:
            console = Console(width=max(console.width, natural_width(table)))
        console.print(table)
    elif rec.pairs and rec.has_reported:
        span = f" from {rec.since or 'the start'} to {rec.until or 'now'}" if rec.since or rec.until else ""
        console.print(f"Nothing to compare{span}: no billed costs and no log usage on the same days.")
    lines = _pair_lines(rec) + ([hint] if hint else [])
    if rec.rows:
        lines += ["Why the two differ:", *(f"  • {reason}" for reason in REASONS)]
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True, markup=False)


def _recon_cells(r: ReconRow) -> list[str]:
    from tracker.analytics.reconcile import SOURCE_LABELS
    from tracker.analytics.reported import PROVIDER_LABELS

    est = r.estimated
    diff = r.difference_pico
    note = _STATUS_NOTES.get(r.status, "")
    if r.status == "both" and r.reported_pico == 0:
        note = "nothing billed"
    if est is not None and est.cost_kind != "estimated":
        note = ", ".join(x for x in (note, "some unpriced" if est.cost_known else "unpriced") if x)
    return [
        r.day.isoformat(), f"{PROVIDER_LABELS[r.provider]} / {SOURCE_LABELS[r.source]}",
        reported_money(r.reported_pico), "—" if est is None else money(est),
        "—" if diff is None else ("+" if diff > 0 else "") + reported_money(diff),
        "—" if r.ratio is None else f"{r.ratio}×", note,
    ]


def _pair_lines(rec: Reconciliation) -> list[str]:
    from tracker.analytics.reconcile import SOURCE_LABELS, ratio
    from tracker.analytics.reported import PROVIDER_LABELS

    out = []
    for p in rec.pairs:
        name = f"{PROVIDER_LABELS[p.provider]} vs {SOURCE_LABELS[p.source]}"
        fetched = ", ".join(_span(lo, hi) for lo, hi in p.covered)
        fetched = f"reports fetched for UTC days {fetched}" if fetched else "no completed sync recorded"
        out.append(f"{name} (account{'s' if len(p.account_labels) > 1 else ''} "
                   f"{', '.join(p.account_labels)}; {fetched}):")
        reported, estimated = p.compared()
        days = sum(1 for r in p.rows if r.status == "both")
        if days:
            diff = reported - estimated.cost_pusd
            r = ratio(reported, estimated)
            out.append(
                f"  {days} day{'s' if days != 1 else ''} compared: reported {reported_money(reported)}, estimated "
                f"{money(estimated)}, difference {'+' if diff > 0 else ''}{reported_money(diff)}"
                + (f" (ratio {r}×)" if r is not None else "") + "."
            )
        for status, what in (("reported_only", "billed with no log usage"),
                             ("estimated_only", "with log usage but not fetched from the provider")):
            n = sum(1 for x in p.rows if x.status == status)
            if n:
                out.append(f"  {n} day{'s' if n != 1 else ''} {what} (listed above).")
        if p.outside_days:
            out.append(
                f"  {p.outside_days} more day{'s' if p.outside_days != 1 else ''} of {SOURCE_LABELS[p.source]} usage "
                f"({_span(p.outside_first, p.outside_last)}, estimated {money(p.outside_estimated)}) "
                f"outside the days {PROVIDER_LABELS[p.provider]} reports cover: not compared."
            )
    return out


def _span(lo: date | None, hi: date | None) -> str:
    return f"{lo}" if lo == hi else f"{lo} to {hi}"


# --- report value ----------------------------------------------------------------------------------------
