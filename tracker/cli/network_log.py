"""``token-ledger network-log``: every request Token Ledger has made, newest first, from the local network log.

The log is written by tracker.providers for each request (time, host, path without the query, status, bytes,
duration, error). It is how a user checks for themselves that nothing else is contacted. Reading it never
creates the ledger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from tracker.cli.context import CliContext

_COLUMNS = (
    "n.ts_ms, n.provider, a.label, n.method, n.host, n.path, n.status, n.bytes_sent, n.bytes_received, "
    "n.duration_ms, n.error, n.account_id"
)
_FIELDS = ("ts_ms", "provider", "account", "method", "host", "path", "status", "bytes_sent", "bytes_received",
           "duration_ms", "error")


@click.command("network-log")
@click.option("--limit", type=click.IntRange(0), default=100, show_default=True,
              help="Show at most this many requests (0: all).")
@click.option("--provider", help="Only requests made for this provider (e.g. openrouter).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def network_log(ctx: CliContext, limit: int, provider: str | None, fmt: str) -> None:
    """Show every network request Token Ledger made, newest first: time, host, path, status, bytes, duration.

    Requests are made only for provider accounts (`token-ledger account ...` and `sync`). Query strings are
    never recorded, and neither are keys.
    """
    rows, total = _read(ctx, limit, provider)
    if fmt == "json":
        from tracker.cli.output import dumps

        click.echo(dumps([_json(r) for r in rows]))
        return
    if not rows:
        click.echo(_empty_message(provider))
        return
    _print_table(rows)
    if total > len(rows):
        click.echo(f"(the newest {len(rows):,} of {total:,} requests; --limit 0 shows all)")


def _read(ctx: CliContext, limit: int, provider: str | None) -> tuple[list[tuple[Any, ...]], int]:
    """The rows to show and how many match in all; nothing when there is no ledger or no log yet."""
    if not ctx.paths.db.exists():
        return [], 0
    with ctx.store(create=False) as store:
        conn = store.conn
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'network_log'").fetchone() is None:
            return [], 0
        where, args = ("WHERE n.provider = ?", [provider]) if provider else ("", [])
        total = conn.execute(f"SELECT count(*) FROM network_log n {where}", args).fetchone()[0]
        sql = (f"SELECT {_COLUMNS} FROM network_log n LEFT JOIN accounts a ON a.id = n.account_id {where} "
               "ORDER BY n.ts_ms DESC, n.id DESC")
        if limit:
            sql += f" LIMIT {int(limit)}"
        return conn.execute(sql, args).fetchall(), total


def _empty_message(provider: str | None) -> str:
    if provider:
        return f"No requests for {provider} are recorded: Token Ledger has not contacted it."
    return (
        "Nothing has been contacted: the network log is empty. Token Ledger makes network requests only for "
        "provider accounts you add (`token-ledger account add`)."
    )


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).astimezone().isoformat(timespec="seconds")


def _json(row: tuple[Any, ...]) -> dict[str, Any]:
    return {"time": _time(row[0]), **dict(zip(_FIELDS, row[: len(_FIELDS)], strict=True))}


def _account(label: str | None, account_id: int | None) -> str:
    """The account's name; ``-`` for a check made before an account existed; ``(purged)`` once it was purged."""
    if label is not None:
        return label
    return "-" if account_id is None else "(purged)"


def _print_table(rows: list[tuple[Any, ...]]) -> None:
    table = [("TIME", "PROVIDER", "ACCOUNT", "REQUEST", "STATUS", "SENT", "RECEIVED", "MS", "ERROR")]
    for ts, prov, label, method, host, path, status, sent, received, ms, error, account_id in rows:
        table.append((
            datetime.fromtimestamp(ts / 1000).strftime("%Y-%m-%d %H:%M:%S"), prov, _account(label, account_id),
            f"{method} {host}{path}", "-" if status is None else str(status), f"{sent:,}", f"{received:,}",
            f"{ms:,}", error or "",
        ))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]) - 1)]
    numeric = {4, 5, 6, 7}
    for r in table:
        cells = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=False))]
        click.echo("  ".join([*cells, r[-1]]).rstrip())
