"""What every CLI command shares: the ledger's paths and how to open its parts.

Errors that a user can fix are raised as :class:`UserError` (one line, exit code 1 unless stated); the
entry point prints them. Library errors with a message for people (StoreError, PriceOverridesError) are
converted here so commands do not repeat the same ``try``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.paths import AppPaths

if TYPE_CHECKING:
    from tracker.ledger.costing import Costing
    from tracker.store import Store


class UserError(Exception):
    """An error with a message for the user; printed as one line."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class CliContext:
    paths: AppPaths

    @property
    def prices_path(self) -> Path:
        return self.paths.prices

    @contextlib.contextmanager
    def store(self, *, create: bool = True) -> Iterator[Store]:
        from tracker.store import StoreError, open_store

        try:
            store = open_store(self.paths.db, create=create)
        except StoreError as e:
            raise UserError(str(e), exit_code=2) from None
        try:
            yield store
        finally:
            store.close()

    def costing(self) -> Costing:
        from tracker.ledger.costing import Costing
        from tracker.pricing.catalog import PriceCatalog, PriceOverridesError

        path = self.prices_path
        try:
            return Costing(PriceCatalog(path if path.exists() else None))
        except PriceOverridesError as e:
            raise UserError(str(e)) from None
