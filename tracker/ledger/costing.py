"""Turning usage records into costs, and keeping stored costs in step with the price data.

A cost is estimated from a dated price table (or taken from the agent's own log where it wrote one), or the
row is *unpriced*: its tokens are kept and its cost is unknown, never $0. Stored rows remember the price
fingerprint they were computed with; when prices change (a new genai-prices release, an edited
``prices.toml``), every row is priced again on the next sync.
"""

from __future__ import annotations

import threading
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from tracker.domain import PICO_PER_USD, CostKind, RowCost, UsageRow
from tracker.pricing.catalog import PriceCatalog
from tracker.pricing.cost import cost_pico_of

if TYPE_CHECKING:
    from tracker.store import Store

FINGERPRINT_KEY = "pricing_fingerprint"
AGENT_LOGGED = "agent-logged"
REPRICE_BATCH = 50_000
_ESTIMATED, _UNPRICED = CostKind.ESTIMATED.value, CostKind.UNPRICED.value


def _logged_cost_pico(value: str) -> int | None:
    try:
        d = Decimal(value)
    except InvalidOperation:
        return None
    if not d.is_finite() or d < 0:
        return None
    return int((d * PICO_PER_USD).to_integral_value())


def _load_price_tables() -> None:
    import tracker.pricing.genai  # noqa: F401 - imported for its side effect: loading genai-prices


class Costing:
    """Prices records with a :class:`PriceCatalog`."""

    def __init__(self, catalog: PriceCatalog) -> None:
        self.catalog = catalog

    def warm_up(self) -> threading.Thread:
        """Start loading the bundled price tables in a thread (about a quarter of a second of import, once).

        The importer calls this when worker processes parse: this process mostly waits for their first
        results then, and the import runs meanwhile instead of delaying the first batch it stores. Pricing
        needs no change: its own import of the module simply finds it loaded (or waits for it).
        """
        thread = threading.Thread(target=_load_price_tables, name="price-tables", daemon=True)
        thread.start()
        return thread

    def price_row(self, row: UsageRow) -> RowCost:
        """The cost of a row (see :data:`~tracker.domain.UsageRow`), without building objects."""
        return self.price_parts(row[3], row[2], row[0], row[13], row[6:11], logged_cost_usd=row[16])

    def price_parts(
        self, model: str | None, ts_ms: int, source: str, speed: str | None,
        counts: tuple[int, int, int, int, int], *, logged_cost_usd: str | None,
    ) -> RowCost:
        """(cost in pico-USD or None, cost kind, what priced it) of one request.

        ``counts`` are (input, cache writes, of which 1-hour writes, cache reads, output), as in the store.
        """
        if logged_cost_usd is not None:
            logged = _logged_cost_pico(logged_cost_usd)
            if logged is not None:
                return logged, _ESTIMATED, AGENT_LOGGED
        lookup = self.catalog.rates_for(model, ts_ms, source=source, speed=speed)
        if lookup is None:
            return None, _UNPRICED, None
        return cost_pico_of(counts, lookup.rates), _ESTIMATED, lookup.price_model_id

    def reprice_if_needed(self, store: Store) -> int:
        """Re-price every estimated or unpriced row when the price data changed. Returns rows re-priced."""
        fingerprint = self.catalog.fingerprint()
        stored = store.get_meta(FINGERPRINT_KEY)
        if stored == fingerprint:
            return 0
        count = 0
        if stored is not None:
            count = self._reprice_all(store)
        with store.transaction():
            store.set_meta(FINGERPRINT_KEY, fingerprint)
        return count

    def _reprice_all(self, store: Store) -> int:
        rows = store.conn.execute(
            """SELECT id, model, ts_ms, source, speed, input_tokens, cache_creation_tokens,
                      cache_creation_1h_tokens, cache_read_tokens, output_tokens, logged_cost_usd
               FROM usage WHERE cost_kind IN ('estimated', 'unpriced')"""
        ).fetchall()
        updates: list[tuple[int | None, str, str | None, int]] = []
        for rid, model, ts, source, speed, i, cc, cc1h, cr, o, logged in rows:
            cost, kind, pm = self.price_parts(model, ts, source, speed, (i, cc, cc1h, cr, o), logged_cost_usd=logged)
            updates.append((cost, kind, pm, rid))
        from tracker.ledger.importer import mark_dirty

        for start in range(0, len(updates), REPRICE_BATCH):
            with store.transaction() as conn:
                mark_dirty(conn, 0, 2**62)  # every row may have a new cost
                conn.executemany(
                    "UPDATE usage SET cost_pusd = ?, cost_kind = ?, price_model = ? WHERE id = ?",
                    updates[start : start + REPRICE_BATCH],
                )
        return len(updates)
