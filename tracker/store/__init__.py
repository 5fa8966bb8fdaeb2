"""The local SQLite ledger: opening, migrating and writing usage rows."""

from tracker.store.db import (
    MigrationNeededError,
    NewerDatabaseError,
    Store,
    StoreError,
    backup_to,
    open_store,
)

__all__ = ["MigrationNeededError", "NewerDatabaseError", "Store", "StoreError", "backup_to", "open_store"]
