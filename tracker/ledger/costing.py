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

from tracker.domain import PICO_PER_USD, CostKind, RowCost, TokenCounts, UsageRecord, UsageRow
from tracker.pricing.catalog import PriceCatalog
from tracker.pricing.cost import cost_pico, cost_pico_of

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

    def price(self, r: UsageRecord) -> tuple[int | None, str, str | None]:
        """(cost in pico-USD or None, cost kind, what priced it)."""
        return self.price_parts(r.model, r.ts_ms, r.source, r.speed, r.tokens, logged_cost_usd=r.logged_cost_usd)

    def price_row(self, row: UsageRow) -> RowCost:
        """:meth:`price` of a row (see :data:`~tracker.domain.UsageRow`), without building objects."""
        logged = row[16]
        if logged is None:  # the common case: go straight to the (cached) dated rates
            lookup = self.catalog.rates_for(row[3], row[2], source=row[0], speed=row[13])
            if lookup is None:
                return None, _UNPRICED, None
            return cost_pico_of(row[6:11], lookup.rates), _ESTIMATED, lookup.price_model_id
        return self.price_parts(row[3], row[2], row[0], row[13], TokenCounts(*row[6:12]), logged_cost_usd=logged)

    def price_parts(
        self, model: str | None, ts_ms: int, source: str, speed: str | None, tokens: TokenCounts, *,
        logged_cost_usd: str | None,
    ) -> tuple[int | None, str, str | None]:
        if logged_cost_usd is not None:
            logged = _logged_cost_pico(logged_cost_usd)
            if logged is not None:
                return logged, CostKind.ESTIMATED.value, AGENT_LOGGED
        lookup = self.catalog.rates_for(model, ts_ms, source=source, speed=speed)
        if lookup is None:
            return None, CostKind.UNPRICED.value, None
        return cost_pico(tokens, lookup.rates), CostKind.ESTIMATED.value, lookup.price_model_id

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
                      cache_creation_1h_tokens, cache_read_tokens, output_tokens, reasoning_tokens, logged_cost_usd
               FROM usage WHERE cost_kind IN ('estimated', 'unpriced')"""
        ).fetchall()
        updates: list[tuple[int | None, str, str | None, int]] = []
        for rid, model, ts, source, speed, i, cc, cc1h, cr, o, rs, logged in rows:
            tokens = TokenCounts(i, cc, cc1h, cr, o, rs)
            cost, kind, pm = self.price_parts(model, ts, source, speed, tokens, logged_cost_usd=logged)
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
