"""The usage rollup: sums of usage rows per UTC slot, source and model, kept in step with the rows.

Every IANA zone's offset in use since the 1970s is a whole number of quarter hours (Asia/Kathmandu +05:45,
Australia/Eucla +08:45), so a local day, week or month is an exact union of 15-minute UTC slots. Time
reports add up rollup rows instead of every usage row, with identical results. The same sums are also
kept per UTC hour and per UTC day: a report picks the widest slot that all its period edges fall on (days
for UTC, hours for Europe/Paris, quarter hours for Asia/Kathmandu), so it reads as few rows as it can.

Freshness: whoever changes usage rows marks the changed time range in ``meta`` in the same transaction
(``usage_dirty_lo_ms``/``usage_dirty_hi_ms``: the importer and re-pricing do it, and triggers from migration
m002 catch a row moved in time or deleted). :func:`refresh` rebuilds the slots in that range from the rows
and clears the marks in one transaction. A database without marks is never touched (the warm path), and a
reader that finds marks it cannot clear falls back to the rows (see ``tracker.analytics.reports``).
"""

from __future__ import annotations

import sqlite3

QUARTER_MS, HOUR_MS, DAY_MS = 900_000, 3_600_000, 86_400_000
WIDTHS = (QUARTER_MS, HOUR_MS, DAY_MS)  # finest first: each width is built from the finest one
DIRTY_LO, DIRTY_HI = "usage_dirty_lo_ms", "usage_dirty_hi_ms"  # the same keys as tracker.ledger.importer

_COLUMNS = (
    "width_ms, slot_ms, source, model, records, input_tokens, cache_creation_tokens, cache_read_tokens, "
    "output_tokens, reasoning_tokens, cost_pusd, unpriced_tokens, unpriced_records, first_ms, last_ms"
)


def floor_sql(column: str, width: int) -> str:
    """SQL for ``column`` rounded down to a multiple of ``width`` (SQLite's ``%`` keeps the sign)."""
    return f"({column} - (({column} % {width}) + {width}) % {width})"


_FROM_ROWS_TEMPLATE = f"""
    INSERT INTO usage_rollup ({_COLUMNS})
    SELECT {QUARTER_MS}, {floor_sql("ts_ms", QUARTER_MS)}, source, model, count(*),
           sum(input_tokens), sum(cache_creation_tokens), sum(cache_read_tokens), sum(output_tokens),
           sum(reasoning_tokens),
           coalesce(sum(cost_pusd), 0),
           sum(CASE WHEN cost_kind = 'unpriced'
                    THEN input_tokens + cache_creation_tokens + cache_read_tokens + output_tokens ELSE 0 END),
           sum(CASE WHEN cost_kind = 'unpriced' THEN 1 ELSE 0 END),
           min(ts_ms), max(ts_ms)
    FROM usage {{how}} WHERE ts_ms >= ? AND ts_ms < ?
    GROUP BY 2, source, model"""
# Through the ts_ms index, each row in the range costs a lookup in the table; past a share of the table, one
# sequential scan of it is cheaper (a cold import: 0.85 s through the index, 0.35 s scanning, 160k rows).
_SCAN_SHARE = 4  # scan when the range holds more than a quarter of the rows


def _from_quarters(width: int) -> str:
    return f"""
    INSERT INTO usage_rollup ({_COLUMNS})
    SELECT {width}, {floor_sql("slot_ms", width)}, source, model, sum(records),
           sum(input_tokens), sum(cache_creation_tokens), sum(cache_read_tokens), sum(output_tokens),
           sum(reasoning_tokens), sum(cost_pusd), sum(unpriced_tokens), sum(unpriced_records),
           min(first_ms), max(last_ms)
    FROM usage_rollup WHERE width_ms = {QUARTER_MS} AND slot_ms >= ? AND slot_ms < ?
    GROUP BY 2, source, model"""


def _from_rows(conn: sqlite3.Connection, first: int, end: int) -> str:
    """The quarter-slot query for rows in [first, end): through the ts_ms index, or by scanning the table."""
    in_range = conn.execute("SELECT count(*) FROM usage WHERE ts_ms >= ? AND ts_ms < ?", (first, end)).fetchone()[0]
    rows = conn.execute("SELECT coalesce(max(id), 0) FROM usage").fetchone()[0]  # at least the row count
    return _FROM_ROWS_TEMPLATE.format(how="NOT INDEXED" if in_range * _SCAN_SHARE > rows else "")


def dirty_range(conn: sqlite3.Connection) -> tuple[int, int] | None:
    """The marked (lo, hi) millisecond range of changed usage rows, or None when the rollup is current."""
    rows = dict(
        conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", (DIRTY_LO, DIRTY_HI)).fetchall()
    )
    if not rows:
        return None
    lo, hi = rows.get(DIRTY_LO), rows.get(DIRTY_HI)
    # a lone mark (never written that way, but cheap to survive) means "unknown extent": rebuild everything
    return (int(lo) if lo is not None else -(2**62), int(hi) if hi is not None else 2**62)


def rebuild(conn: sqlite3.Connection, lo_ms: int, hi_ms: int) -> None:
    """Recompute every slot (of every width) touching [lo_ms, hi_ms]. Runs in the caller's transaction."""
    for width in WIDTHS:
        first, end = lo_ms - lo_ms % width, hi_ms - hi_ms % width + width  # Python's % floors: exact slots
        conn.execute(
            "DELETE FROM usage_rollup WHERE width_ms = ? AND slot_ms >= ? AND slot_ms < ?", (width, first, end)
        )
        # wider slots are sums of quarter slots, which are current by now (the finest width goes first)
        if width == QUARTER_MS:
            conn.execute(_from_rows(conn, first, end), (first, end))
        else:
            conn.execute(_from_quarters(width), (first, end))


def refresh(conn: sqlite3.Connection) -> bool:
    """Bring the rollup up to date with the usage rows; True if anything was rebuilt.

    Costs one small read when nothing changed. ``conn`` must be in autocommit mode with no open transaction.
    """
    if dirty_range(conn) is None:
        return False
    conn.execute("BEGIN IMMEDIATE")
    try:
        rng = dirty_range(conn)  # again, under the write lock: another process may have refreshed meanwhile
        if rng is not None:
            rebuild(conn, *rng)
            conn.execute("DELETE FROM meta WHERE key IN (?, ?)", (DIRTY_LO, DIRTY_HI))
    except BaseException:
        conn.rollback()
        raise
    conn.execute("COMMIT")
    return rng is not None
