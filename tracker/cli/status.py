"""``token-ledger status``: where the ledger is, what it holds, and what was found on this machine."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime

import click

from tracker.cli.context import CliContext


def ledger_facts(ctx: CliContext) -> list[tuple[str, str]]:
    """(label, value) lines describing the ledger; read-only."""
    from tracker.store.schema import SCHEMA_VERSION

    db = ctx.paths.db
    facts = [("Data folder", str(ctx.paths.data_dir))]
    if not db.exists():
        facts.append(("Ledger", "not created yet (run `token-ledger sync`)"))
        return facts
    facts.append(("Ledger", f"{db} ({os.path.getsize(db) / 1e6:.1f} MB, schema {SCHEMA_VERSION})"))
    with ctx.store(create=False) as store:
        conn = store.conn
        for source, n, lo, hi in conn.execute(
            "SELECT source, count(*), min(ts_ms), max(ts_ms) FROM usage GROUP BY source ORDER BY source"
        ):
            facts.append((f"  {source}", f"{n:,} records, {_day(lo)} to {_day(hi)}"))
        unpriced = conn.execute("SELECT count(DISTINCT model) FROM usage WHERE cost_kind = 'unpriced'").fetchone()[0]
        if unpriced:
            models = [r[0] for r in conn.execute(
                "SELECT DISTINCT coalesce(model, '(none)') FROM usage WHERE cost_kind = 'unpriced' LIMIT 8")]
            facts.append(("Unpriced models", ", ".join(models)))
        last = conn.execute(
            "SELECT finished_ms, status, new_records FROM sync_runs WHERE finished_ms IS NOT NULL "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if last:
            facts.append(("Last sync", f"{_when(last[0])} ({last[1]}, {last[2]} new records)"))
        files = conn.execute("SELECT count(*), sum(missing) FROM files").fetchone()
        if files[0]:
            gone = files[1] or 0
            facts.append(("Log files tracked", f"{files[0]:,} ({gone:,} since deleted by their agent; rows kept)"))
        facts += account_facts(conn)
    return facts


def account_facts(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Provider accounts (never a key) and the network log, for ``status``."""
    from tracker.cli.accounts_db import has_accounts_table, list_accounts, removed_count, when

    if not has_accounts_table(conn):
        return []
    accounts = list_accounts(conn)  # active ones: removed accounts are not synced
    facts = [("Provider accounts", f"{len(accounts)}" if accounts else "none (`token-ledger account add`)")]
    for a in accounts:
        last = "never synced" if a.last_sync_ms is None else f"last sync {when(a.last_sync_ms)}, {a.state()}"
        facts.append((f"  {a.label}", f"{a.provider}, {a.base_url or 'default address'}; {last}"))
    removed = removed_count(conn)
    if removed:
        facts.append(("Removed accounts", f"{removed}, their reported history kept (`token-ledger account list "
                      "--all`)"))
    n, last_ms = conn.execute("SELECT count(*), max(ts_ms) FROM network_log").fetchone()
    facts.append(("Network requests", f"{n:,}, the last {when(last_ms)} (`token-ledger network-log`)" if n
                  else "none: nothing has been contacted"))
    return facts


def _day(ms: int | None) -> str:
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d")


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def source_facts() -> list[tuple[str, str]]:
    from pathlib import Path

    from tracker.sources import all_sources

    out = []
    for s in all_sources():
        roots = s.roots(os.environ, Path.home())
        found = [str(r) for r in roots if r.is_dir()]
        looked = "no logs found (looked in " + ", ".join(map(str, roots)) + ")"
        out.append((s.label, ", ".join(found) if found else looked))
    return out


@click.command()
@click.pass_obj
def status(ctx: CliContext) -> None:
    """Show where the ledger lives, what it holds and which agent logs were found."""
    for label, value in ledger_facts(ctx) + source_facts():
        click.echo(f"{label + ':':<20} {value}")
