"""Schema migrations, with sqlite-utils' ``Migrations``.

The first migration is the initial schema, so a new database and an old one take the same path. Add a
migration by appending a function; never edit one that has shipped. ``MIGRATION_NAMES`` must list every
migration in order: the store compares it with the database without importing sqlite-utils (which is slow
to import) on every start. ``tests/test_store.py`` checks the two agree.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tracker.store.schema import MIGRATION_NAMES, MIGRATION_SET

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations


@contextmanager
def _hidden_modules(names: tuple[str, ...]) -> Iterator[None]:
    """Make ``import name`` fail for modules nothing has imported yet, for the duration."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment] # a None entry makes its import raise ImportError
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def _import_sqlite_utils() -> tuple[type[Database], type[Migrations]]:
    """sqlite-utils, imported without numpy and pandas.

    sqlite-utils imports them when installed (numpy is, as a dependency of other packages), only to store
    their types; the ledger never does, and numpy alone is about 0.1 s of the first sync's start.
    """
    with _hidden_modules(("numpy", "pandas")):
        from sqlite_utils import Database
        from sqlite_utils.migrations import Migrations
    return Database, Migrations


_Database, _Migrations = _import_sqlite_utils()
migrations = _Migrations(MIGRATION_SET)


def apply_migrations(conn: sqlite3.Connection) -> None:
    """Apply every pending migration to ``conn`` (see :mod:`tracker.store.db` for the steps around it)."""
    migrations.apply(_Database(conn))


@migrations(name="m001_initial")
def m001_initial(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            path TEXT NOT NULL UNIQUE,
            dev INTEGER NOT NULL,
            inode INTEGER NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            offset INTEGER NOT NULL DEFAULT 0,
            lines INTEGER NOT NULL DEFAULT 0,
            state TEXT,
            malformed INTEGER NOT NULL DEFAULT 0,
            first_seen_ms INTEGER NOT NULL,
            last_read_ms INTEGER,
            missing INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute("CREATE INDEX files_source ON files(source)")
    db.execute(
        """
        CREATE TABLE usage (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            dedup_key TEXT NOT NULL,
            file_id INTEGER REFERENCES files(id),
            ts_ms INTEGER NOT NULL,
            model TEXT,
            session_id TEXT,
            project_path TEXT,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
            cache_creation_1h_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            reasoning_tokens INTEGER NOT NULL DEFAULT 0,
            is_sidechain INTEGER NOT NULL DEFAULT 0,
            speed TEXT,
            request_id TEXT,
            agent_version TEXT,
            logged_cost_usd TEXT,
            rank INTEGER NOT NULL DEFAULT 0,
            cost_pusd INTEGER,
            cost_kind TEXT NOT NULL CHECK (cost_kind IN ('estimated', 'reported', 'unpriced')),
            price_model TEXT,
            UNIQUE (source, dedup_key)
        )"""
    )
    db.execute("CREATE INDEX usage_ts ON usage(ts_ms)")
    db.execute("CREATE INDEX usage_source_ts ON usage(source, ts_ms)")
    db.execute("CREATE INDEX usage_model ON usage(model)")
    db.execute("CREATE INDEX usage_session ON usage(session_id)")
    db.execute("CREATE INDEX usage_project ON usage(project_path)")
    db.execute(
        "CREATE TABLE seen_keys (source TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (source, key)) WITHOUT ROWID"
    )
    db.execute(
        """
        CREATE TABLE sync_runs (
            id INTEGER PRIMARY KEY,
            started_ms INTEGER NOT NULL,
            finished_ms INTEGER,
            sources TEXT NOT NULL,
            files_seen INTEGER NOT NULL DEFAULT 0,
            files_read INTEGER NOT NULL DEFAULT 0,
            bytes_read INTEGER NOT NULL DEFAULT 0,
            new_records INTEGER NOT NULL DEFAULT 0,
            updated_records INTEGER NOT NULL DEFAULT 0,
            malformed INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'running',
            message TEXT
        )"""
    )
    _create_views(db)


def _create_views(db: Database) -> None:
    """Views for people exploring the file with sqlite-utils, Datasette or the sqlite3 shell (UTC days)."""
    db.execute(
        """
        CREATE VIEW usage_readable AS
        SELECT
            u.id,
            u.source,
            strftime('%Y-%m-%dT%H:%M:%fZ', u.ts_ms / 1000.0, 'unixepoch') AS ts_utc,
            u.model,
            u.session_id,
            u.project_path,
            u.input_tokens,
            u.cache_creation_tokens,
            u.cache_creation_1h_tokens,
            u.cache_read_tokens,
            u.output_tokens,
            u.reasoning_tokens,
            u.input_tokens + u.cache_creation_tokens + u.cache_read_tokens + u.output_tokens AS total_tokens,
            u.cost_pusd / 1e12 AS cost_usd,
            u.cost_kind,
            u.price_model,
            u.is_sidechain,
            u.speed,
            u.dedup_key,
            f.path AS file_path
        FROM usage u LEFT JOIN files f ON f.id = u.file_id"""
    )
    db.execute(
        """
        CREATE VIEW daily_usage_by_model AS
        SELECT
            date(ts_ms / 1000, 'unixepoch') AS day_utc,
            source,
            model,
            count(*) AS records,
            sum(input_tokens) AS input_tokens,
            sum(cache_creation_tokens) AS cache_creation_tokens,
            sum(cache_read_tokens) AS cache_read_tokens,
            sum(output_tokens) AS output_tokens,
            sum(reasoning_tokens) AS reasoning_tokens,
            sum(input_tokens + cache_creation_tokens + cache_read_tokens + output_tokens) AS total_tokens,
            sum(cost_pusd) / 1e12 AS estimated_cost_usd,
            sum(CASE WHEN cost_kind = 'unpriced' THEN 1 ELSE 0 END) AS unpriced_records
        FROM usage
        GROUP BY day_utc, source, model"""
    )
    db.execute(
        """
        CREATE VIEW sessions AS
        SELECT
            source,
            session_id,
            project_path,
            strftime('%Y-%m-%dT%H:%M:%SZ', min(ts_ms) / 1000, 'unixepoch') AS first_utc,
            strftime('%Y-%m-%dT%H:%M:%SZ', max(ts_ms) / 1000, 'unixepoch') AS last_utc,
            count(*) AS records,
            sum(input_tokens + cache_creation_tokens + cache_read_tokens + output_tokens) AS total_tokens,
            sum(cost_pusd) / 1e12 AS estimated_cost_usd,
            group_concat(DISTINCT model) AS models
        FROM usage
        GROUP BY source, session_id"""
    )


@migrations(name="m002_usage_rollup")
def m002_usage_rollup(db: Database) -> None:
    """Sums of usage per UTC slot (15 minutes, 1 hour, 1 day), source and model; see tracker/ledger/rollup.py.

    The SQL is written out here (not imported) so that this migration stays as it shipped.
    """
    db.execute(
        """
        CREATE TABLE usage_rollup (
            width_ms INTEGER NOT NULL,
            slot_ms INTEGER NOT NULL,
            source TEXT NOT NULL,
            model TEXT,
            records INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL,
            cache_creation_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_pusd INTEGER NOT NULL,
            unpriced_tokens INTEGER NOT NULL,
            unpriced_records INTEGER NOT NULL,
            first_ms INTEGER NOT NULL,
            last_ms INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX usage_rollup_slot ON usage_rollup(width_ms, slot_ms)")
    # Rows that move in time or disappear leave a stale slot behind that the writer's own mark (the range of
    # what it wrote) may not cover; these triggers mark both instants. Inserts are marked by the writer.
    for name, event, lo, hi in (
        ("usage_ts_moved", "UPDATE OF ts_ms ON usage WHEN old.ts_ms <> new.ts_ms",
         "min(old.ts_ms, new.ts_ms)", "max(old.ts_ms, new.ts_ms)"),
        ("usage_deleted", "DELETE ON usage", "old.ts_ms", "old.ts_ms"),
    ):
        db.execute(
            f"""
            CREATE TRIGGER {name} AFTER {event}
            BEGIN
                INSERT INTO meta (key, value) VALUES ('usage_dirty_lo_ms', CAST({lo} AS TEXT))
                ON CONFLICT (key) DO UPDATE SET
                    value = CAST(min(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT);
                INSERT INTO meta (key, value) VALUES ('usage_dirty_hi_ms', CAST({hi} AS TEXT))
                ON CONFLICT (key) DO UPDATE SET
                    value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT);
            END"""
        )
    # Fill from the existing rows; the fill covers every row, so earlier dirty marks are settled too.
    db.execute(
        """
        INSERT INTO usage_rollup
        SELECT 900000, ts_ms - ((ts_ms % 900000) + 900000) % 900000, source, model, count(*),
               sum(input_tokens), sum(cache_creation_tokens), sum(cache_read_tokens), sum(output_tokens),
               sum(reasoning_tokens), coalesce(sum(cost_pusd), 0),
               sum(CASE WHEN cost_kind = 'unpriced'
                        THEN input_tokens + cache_creation_tokens + cache_read_tokens + output_tokens ELSE 0 END),
               sum(CASE WHEN cost_kind = 'unpriced' THEN 1 ELSE 0 END),
               min(ts_ms), max(ts_ms)
        FROM usage GROUP BY 2, source, model"""
    )
    for width in (3_600_000, 86_400_000):
        db.execute(
            f"""
            INSERT INTO usage_rollup
            SELECT {width}, slot_ms - ((slot_ms % {width}) + {width}) % {width}, source, model, sum(records),
                   sum(input_tokens), sum(cache_creation_tokens), sum(cache_read_tokens), sum(output_tokens),
                   sum(reasoning_tokens), sum(cost_pusd), sum(unpriced_tokens), sum(unpriced_records),
                   min(first_ms), max(last_ms)
            FROM usage_rollup WHERE width_ms = 900000 GROUP BY 2, source, model"""
        )
    db.execute("DELETE FROM meta WHERE key IN ('usage_dirty_lo_ms', 'usage_dirty_hi_ms')")



@migrations(name="m003_fewer_usage_indexes")
def m003_fewer_usage_indexes(db: Database) -> None:
    """Drop indexes that no query needs: each cost about 8 µs per imported row (docs/benchmarks.md).

    Group-bys on model, session and project scan the table anyway, and ``usage_ts`` serves every time-range
    query, with or without a source filter, so ``usage_source_ts`` only duplicated it.
    """
    for name in ("usage_model", "usage_session", "usage_project", "usage_source_ts"):
        db.execute(f"DROP INDEX IF EXISTS {name}")


@migrations(name="m004_usage_check_without_in_list")
def m004_usage_check_without_in_list(db: Database) -> None:
    """Rebuild ``usage`` with its ``cost_kind`` check written as ``=`` tests instead of ``IN (...)``.

    SQLite builds a small temporary index for an ``IN`` list of constants once per statement *run*, and an
    ``executemany`` runs the insert once per row: the old check cost about 3 µs of every imported row
    (a quarter of the insert). The table is otherwise the same (columns, order, ids, indexes). Views and
    triggers that name ``usage`` are dropped first and created again from their stored SQL, unchanged.
    """
    saved = db.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('view', 'trigger') AND sql IS NOT NULL "
        "ORDER BY CASE type WHEN 'view' THEN 0 ELSE 1 END, rowid"
    ).fetchall()
    for kind, name, _sql in saved:
        db.execute(f'DROP {kind.upper()} "{name}"')
    db.execute(
        """
        CREATE TABLE usage_m004 (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            dedup_key TEXT NOT NULL,
            file_id INTEGER REFERENCES files(id),
            ts_ms INTEGER NOT NULL,
            model TEXT,
            session_id TEXT,
            project_path TEXT,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
            cache_creation_1h_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            reasoning_tokens INTEGER NOT NULL DEFAULT 0,
            is_sidechain INTEGER NOT NULL DEFAULT 0,
            speed TEXT,
            request_id TEXT,
            agent_version TEXT,
            logged_cost_usd TEXT,
            rank INTEGER NOT NULL DEFAULT 0,
            cost_pusd INTEGER,
            cost_kind TEXT NOT NULL
                CHECK (cost_kind = 'estimated' OR cost_kind = 'reported' OR cost_kind = 'unpriced'),
            price_model TEXT,
            UNIQUE (source, dedup_key)
        )"""
    )
    columns = (
        "id, source, dedup_key, file_id, ts_ms, model, session_id, project_path, input_tokens, "
        "cache_creation_tokens, cache_creation_1h_tokens, cache_read_tokens, output_tokens, reasoning_tokens, "
        "is_sidechain, speed, request_id, agent_version, logged_cost_usd, rank, cost_pusd, cost_kind, price_model"
    )
    db.execute(f"INSERT INTO usage_m004 ({columns}) SELECT {columns} FROM usage ORDER BY id")
    db.execute("DROP TABLE usage")
    db.execute("ALTER TABLE usage_m004 RENAME TO usage")
    db.execute("CREATE INDEX usage_ts ON usage(ts_ms)")
    for _kind, _name, sql in saved:
        db.execute(sql)


@migrations(name="m005_provider_accounts")
def m005_provider_accounts(db: Database) -> None:
    """Provider accounts (keys live in the OS keychain, never here), the network log, and what providers report.

    Reported figures have their own tables, apart from ``usage`` (estimated from local logs), so the two kinds
    are never summed by accident. Key columns of ``provider_usage`` are ``NOT NULL DEFAULT ''``: SQLite treats
    NULLs as distinct in a UNIQUE constraint, and the natural key must make a re-fetched bucket an update.
    Money is an exact integer of 1e-12 currency units (pico-USD when ``currency`` is USD) plus the amount
    exactly as received. See docs/schema.md and docs/providers.md.

    Removing an account keeps its history: ``removed_ms`` marks it (NULL while active; its label stays taken, so
    the history stays attributable), and the provider tables reference it without ``ON DELETE CASCADE``, so a
    stray ``DELETE FROM accounts`` fails instead of taking the history with it; only an explicit purge deletes the
    rows, children first. ``AUTOINCREMENT``: a purged account's id is never given to a new one, so network-log
    rows stay with the account they were made for.
    """
    db.execute(
        """
        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            provider TEXT NOT NULL,
            label TEXT NOT NULL UNIQUE,
            base_url TEXT,
            options TEXT NOT NULL DEFAULT '{}',
            created_ms INTEGER NOT NULL,
            last_sync_ms INTEGER,
            last_status TEXT,
            last_message TEXT,
            removed_ms INTEGER
        )"""
    )
    db.execute(
        """
        CREATE TABLE network_log (
            id INTEGER PRIMARY KEY,
            ts_ms INTEGER NOT NULL,
            provider TEXT NOT NULL,
            account_id INTEGER,
            method TEXT NOT NULL,
            host TEXT NOT NULL,
            path TEXT NOT NULL,
            status INTEGER,
            bytes_sent INTEGER NOT NULL DEFAULT 0,
            bytes_received INTEGER NOT NULL DEFAULT 0,
            duration_ms INTEGER NOT NULL,
            error TEXT
        )"""
    )
    db.execute("CREATE INDEX network_log_ts ON network_log(ts_ms)")
    db.execute(
        """
        CREATE TABLE provider_usage (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id),
            provider TEXT NOT NULL,
            kind TEXT NOT NULL,
            bucket_start_ms INTEGER NOT NULL,
            bucket_width TEXT NOT NULL,
            bucket_end_ms INTEGER NOT NULL,
            model TEXT NOT NULL DEFAULT '',
            project TEXT NOT NULL DEFAULT '',
            line_item TEXT NOT NULL DEFAULT '',
            dims TEXT NOT NULL DEFAULT '',
            input_tokens INTEGER NOT NULL DEFAULT 0,
            cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
            cache_creation_1h_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            reasoning_tokens INTEGER NOT NULL DEFAULT 0,
            requests INTEGER NOT NULL DEFAULT 0,
            quantity TEXT,
            quantity_unit TEXT,
            cost_pico INTEGER,
            currency TEXT,
            amount_raw TEXT,
            amount_unit TEXT,
            cost_kind TEXT NOT NULL DEFAULT 'reported' CHECK (cost_kind = 'reported'),
            billed INTEGER NOT NULL DEFAULT 0,
            partial INTEGER NOT NULL DEFAULT 0,
            raw TEXT NOT NULL DEFAULT '{}',
            fetched_ms INTEGER NOT NULL,
            UNIQUE (account_id, kind, bucket_start_ms, bucket_width, model, project, line_item, dims)
        )"""
    )
    db.execute("CREATE INDEX provider_usage_bucket ON provider_usage(bucket_start_ms)")
    db.execute(
        """
        CREATE TABLE provider_balances (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts(id),
            provider TEXT NOT NULL,
            ts_ms INTEGER NOT NULL,
            field TEXT NOT NULL,
            currency TEXT NOT NULL DEFAULT '',
            amount_pico INTEGER,
            amount_raw TEXT,
            raw TEXT NOT NULL DEFAULT '{}',
            UNIQUE (account_id, ts_ms, field, currency)
        )"""
    )
    db.execute("CREATE INDEX provider_balances_account_ts ON provider_balances(account_id, ts_ms)")
    db.execute(
        """
        CREATE TABLE provider_sync_state (
            account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
            first_ok_ms INTEGER NOT NULL,
            last_ok_ms INTEGER NOT NULL,
            covered_from_ms INTEGER NOT NULL
        )"""
    )


@migrations(name="m006_outcomes")
def m006_outcomes(db: Database) -> None:
    """Outcomes (what the spend bought), projects, clients and the rules that map usage to projects.

    Attribution of usage to projects is computed at read time from ``project_rules`` and the usage's own
    fields (cwd, account, provider project), never stored per usage row, so a new rule applies to past usage
    too. Money is pico-USD (exact); hours saved are a decimal string. See docs/outcomes.md and docs/schema.md.
    """
    db.execute(
        """
        CREATE TABLE clients (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            created_ms INTEGER NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE projects (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            client_id INTEGER REFERENCES clients(id),
            created_ms INTEGER NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE project_rules (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            project_id INTEGER NOT NULL REFERENCES projects(id),
            kind TEXT NOT NULL CHECK (kind IN ('path_prefix', 'path_glob', 'account', 'api_key_id',
                                               'openai_project', 'anthropic_workspace')),
            pattern TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            UNIQUE (kind, pattern)
        )"""
    )
    db.execute(
        """
        CREATE TABLE outcomes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('shipped_feature', 'bug_fix', 'pr_merged', 'decision', 'automation',
                                               'document', 'research', 'client_deliverable', 'other')),
            at_ms INTEGER NOT NULL,
            project_id INTEGER REFERENCES projects(id),
            value_pusd INTEGER,
            hours_saved TEXT,
            status TEXT NOT NULL DEFAULT 'kept' CHECK (status IN ('kept', 'redone', 'abandoned')),
            link TEXT,
            notes TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX outcomes_at ON outcomes(at_ms)")


@migrations(name="m007_subscriptions_budgets")
def m007_subscriptions_budgets(db: Database) -> None:
    """Flat subscription plans (their fee is spread per day as ``subscription`` spend) and spend budgets.

    Fees and budget amounts are exact integer pico-USD. Dates are local calendar dates (``YYYY-MM-DD``); a plan's
    ``end_date`` is its last day, inclusive. See docs/outcomes.md (Subscriptions, Budgets) and docs/schema.md.
    """
    db.execute(
        """
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            covers TEXT NOT NULL,
            fee_pusd INTEGER NOT NULL CHECK (fee_pusd >= 0),
            start_date TEXT NOT NULL,
            end_date TEXT,
            created_ms INTEGER NOT NULL,
            CHECK (end_date IS NULL OR end_date >= start_date)
        )"""
    )
    db.execute(
        """
        CREATE TABLE budgets (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            period TEXT NOT NULL CHECK (period IN ('monthly', 'weekly')),
            scope TEXT NOT NULL CHECK (scope IN ('total', 'provider', 'project')),
            target TEXT NOT NULL DEFAULT '',
            amount_pusd INTEGER NOT NULL CHECK (amount_pusd > 0),
            created_ms INTEGER NOT NULL,
            UNIQUE (period, scope, target)
        )"""
    )


assert [m.name for m in migrations._migrations] == list(MIGRATION_NAMES), "schema.MIGRATION_NAMES is out of date"
