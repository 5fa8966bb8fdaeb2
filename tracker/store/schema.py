"""Names and numbers of the schema, importable without sqlite-utils."""

from __future__ import annotations

MIGRATION_SET = "token_ledger"
MIGRATION_NAMES: tuple[str, ...] = (
    "m001_initial",
    "m002_usage_rollup",
    "m003_fewer_usage_indexes",
    "m004_usage_check_without_in_list",
    "m005_provider_accounts",
    "m006_outcomes",
    "m007_subscriptions_budgets",
)
SCHEMA_VERSION = len(MIGRATION_NAMES)  # also written to PRAGMA user_version
