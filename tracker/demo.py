"""A demo ledger: realistic, clearly labelled, made-up usage for trying the app and for benchmarks.

Everything is written through the real store (so migrations run), estimated rows are priced by the real
pricing code, and the rollup is refreshed, so every figure the app or ``token-ledger report`` shows is
consistent. The database is marked as a demo (``meta`` key ``demo`` = ``1``); :func:`check_target` refuses a
folder that already holds a real ledger, so demo rows are never mixed into real ones. Outcomes (issue 5) have
no table yet and are not generated.

Qt-free and deterministic: the same :class:`DemoSpec` (seed, months, rows, now) gives the same rows.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tracker.paths import AppPaths

if TYPE_CHECKING:
    from tracker.ledger.costing import Costing

DEMO_META_KEY = "demo"
DAY_MS = 86_400_000
BATCH_ROWS = 50_000
DEFAULT_ROWS_PER_DAY = 220  # requests on an ordinary weekday; weekends and holidays are quieter
DEMO_HOME = "/home/demo"  # every path in the demo says it is one

_HOUR_WEIGHTS = (0, 0, 0, 0, 0, 0, 1, 3, 8, 12, 14, 13, 7, 10, 14, 14, 12, 9, 5, 4, 5, 4, 2, 1)
_PROJECTS = (
    ("webshop", 5), ("ledger-api", 4), ("infra", 2), ("data-pipeline", 3), ("blog", 1), ("ml-experiments", 2),
)
_CLAUDE_MODELS = (
    ("claude-sonnet-4-5-20250929", 60), ("claude-opus-4-5-20251101", 25), ("claude-haiku-4-5-20251001", 15),
)
_CODEX_MODELS = (("gpt-5.1-codex", 60), ("gpt-5.1-codex-mini", 25), ("gpt-5-codex", 15))
UNPRICED_MODEL = "gpt-oss:20b"  # a local model run through Codex (--oss): no price exists for it
_UNPRICED_SESSION_SHARE = 0.02

UsageTuple = tuple[Any, ...]


class DemoError(Exception):
    """The demo cannot be written where asked; the message says why and what to do."""


@dataclass(frozen=True)
class DemoSpec:
    months: int = 6
    seed: int = 7
    rows: int | None = None  # total usage rows wanted; None: a realistic volume for the period
    now_ms: int | None = None  # the demo's "now" (tests fix it); None: the clock


@dataclass
class DemoSummary:
    usage_rows: int = 0
    unpriced_rows: int = 0
    sessions: int = 0
    accounts: int = 0
    provider_usage_rows: int = 0
    balance_rows: int = 0
    network_rows: int = 0
    sync_runs: int = 0
    outcomes: int = 0
    first_ms: int = 0
    last_ms: int = 0
    counts_by_source: dict[str, int] = field(default_factory=dict)


# -- where it may be written ------------------------------------------------------------------------------


def is_demo(conn: sqlite3.Connection) -> bool:
    """True when the open ledger is a demo one (for the app's title, and to never sync real data into it)."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (DEMO_META_KEY,)).fetchone()
    except sqlite3.DatabaseError:
        return False
    return row is not None and str(row[0]) == "1"


def check_target(paths: AppPaths) -> bool:
    """Raise DemoError if ``paths`` holds a ledger that is not a demo. True when an old demo is there."""
    db = paths.db
    if not db.exists():
        return False
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            demo = is_demo(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        demo = False
    if not demo:
        raise DemoError(
            f"{paths.data_dir} already holds a ledger that is not a demo; refusing to mix demo data into it. "
            "Choose an empty folder with --data-dir."
        )
    return True


def _remove_old_demo(paths: AppPaths) -> None:
    for suffix in ("", "-wal", "-shm"):
        p = paths.db.with_name(paths.db.name + suffix)
        if p.exists():
            p.unlink()


# -- the whole demo ----------------------------------------------------------------------------------------


def create_demo(paths: AppPaths, spec: DemoSpec, progress: Callable[[int, int], None] | None = None) -> DemoSummary:
    """Write a fresh demo ledger into ``paths`` (an old demo there is replaced). Returns what was written."""
    from tracker.ledger.costing import FINGERPRINT_KEY, Costing
    from tracker.ledger.rollup import refresh
    from tracker.pricing.catalog import PriceCatalog
    from tracker.store import open_store

    if check_target(paths):
        _remove_old_demo(paths)
    now_ms = spec.now_ms if spec.now_ms is not None else int(datetime.now(UTC).timestamp() * 1000)
    rng = random.Random(spec.seed)
    costing = Costing(PriceCatalog(None))  # list prices only: a user's overrides are not demo data
    summary = DemoSummary()
    with open_store(paths.db) as store:
        with store.transaction():
            store.set_meta(DEMO_META_KEY, "1")  # first, so even an interrupted demo is recognised as one
            store.set_meta(FINGERPRINT_KEY, costing.catalog.fingerprint())
        plan = plan_days(rng, spec, now_ms)
        _write_usage(store.conn, costing, UsageGenerator(rng, now_ms), plan, summary=summary, progress=progress)
        refresh(store.conn)
        with store.transaction() as conn:
            _write_sync_runs(conn, rng, plan, summary)
            _write_accounts(conn, rng, plan, now_ms, summary)
        with store.transaction() as conn:
            summary.outcomes = _write_outcomes(conn, spec, now_ms)
            _write_clients(conn)
    return summary


# -- outcomes ---------------------------------------------------------------------------------------------------

# (days before now, hour, title, kind, project, value $, hours saved, status): what a freelancer might log.
_OUTCOMES = (
    (170, 16, "Checkout flow rewrite", "shipped_feature", "webshop", "1800", None, "kept"),
    (150, 11, "Nightly ETL to Parquet", "automation", "data-pipeline", None, "6", "kept"),
    (128, 15, "Fix double-charged refunds", "bug_fix", "webshop", "650", None, "kept"),
    (104, 10, "Invoice PDF export", "client_deliverable", "ledger-api", "1200", None, "kept"),
    (90, 17, "Terraform module for staging", "automation", "infra", None, "4", "kept"),
    (75, 14, "Churn model, first try", "research", "ml-experiments", None, None, "abandoned"),
    (61, 12, "Rate limiter for public API", "pr_merged", "ledger-api", "400", "2", "kept"),
    (47, 16, "Post: what agents cost us", "document", "blog", "150", None, "kept"),
    (33, 11, "Backfill job for old orders", "automation", "data-pipeline", "300", "3", "kept"),
    (24, 15, "Search with typo tolerance", "shipped_feature", "webshop", "900", None, "kept"),
    (17, 10, "Pick a queue: SQS over Kafka", "decision", "infra", None, "1.5", "kept"),
    (11, 17, "Webhooks for payments", "pr_merged", "ledger-api", "500", None, "redone"),
    (6, 14, "Webhooks, with retries", "pr_merged", "ledger-api", "500", None, "kept"),
    (2, 16, "Cart page 40% faster", "shipped_feature", "webshop", "700", None, "kept"),
)


def _write_outcomes(conn: sqlite3.Connection, spec: DemoSpec, now_ms: int) -> int:
    """A handful of outcomes across the demo's projects (within the demo's period), so the Outcomes page, the
    value figures and the chart's markers have something to show. Written with ``tracker.outcomes``."""
    from tracker.analytics.attribution import all_projects
    from tracker.outcomes import OutcomeFields, add_outcome, parse_hours, parse_usd

    known = all_projects(conn)  # a tiny demo may not reach every project: its outcomes then have none
    span_days = spec.months * 30
    written = 0
    for days, hour, title, kind, project, value, hours, status in _OUTCOMES:
        if days >= span_days:
            continue
        day_ms = (now_ms // DAY_MS - days) * DAY_MS
        add_outcome(conn, OutcomeFields(
            title=title, kind=kind, at_ms=day_ms + hour * 3_600_000, project=project if project in known else None,
            status=status,
            value_pusd=None if value is None else parse_usd(value), hours_saved=None if hours is None else
            parse_hours(hours), tags=["demo"]))
        written += 1
    return written


DEMO_CLIENT = "Northwind (demo)"
_CLIENT_PROJECTS = ("ledger-api",)  # a freelancer's client: the Reports page and `report client` have one


def _write_clients(conn: sqlite3.Connection) -> None:
    """Give the demo's client projects their client (only those the demo's usage reached)."""
    from tracker.analytics.attribution import all_projects
    from tracker.outcomes import set_client

    known = all_projects(conn)
    for project in _CLIENT_PROJECTS:
        if project in known:
            set_client(conn, project, DEMO_CLIENT)


# -- usage rows ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayPlan:
    day_ms: int  # UTC midnight
    requests: int
    end_ms: int  # rows of this day stay before this (now, for today)


def plan_days(rng: random.Random, spec: DemoSpec, now_ms: int) -> list[DayPlan]:
    """How many requests each day gets: weekdays busy, weekends quiet, a holiday week, slow growth."""
    today = now_ms - now_ms % DAY_MS
    n_days = max(1, round(spec.months * 30.44))
    days = [today - (n_days - 1 - i) * DAY_MS for i in range(n_days)]
    holiday = rng.randrange(n_days // 3, max(n_days // 3 + 1, 2 * n_days // 3)) if n_days > 20 else -100
    weights = [_day_weight(rng, i, n_days, d, holiday) for i, d in enumerate(days)]
    weights[-1] *= (now_ms - today) / DAY_MS  # today is not over
    total = spec.rows if spec.rows is not None else round(DEFAULT_ROWS_PER_DAY * sum(weights))
    counts = _apportion(total, weights)
    return [DayPlan(d, c, min(d + DAY_MS, now_ms)) for d, c in zip(days, counts, strict=True)]


def _day_weight(rng: random.Random, i: int, n_days: int, day_ms: int, holiday: int) -> float:
    weekday = datetime.fromtimestamp(day_ms / 1000, UTC).weekday()
    base = (1.0, 1.0, 1.0, 1.0, 0.9, 0.3, 0.15)[weekday]
    growth = 0.6 + 0.6 * i / max(1, n_days - 1)  # more agent use as the months go by
    off = 0.03 if holiday <= i < holiday + 7 else 1.0
    return base * growth * off * math.exp(rng.gauss(0.0, 0.3))


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights``, exactly (largest remainders get the leftovers)."""
    whole = sum(weights) or 1.0
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    order = sorted(range(len(shares)), key=lambda k: counts[k] - shares[k])
    for k in order[: total - sum(counts)]:
        counts[k] += 1
    return counts


@dataclass
class _Session:
    file_id: int
    source: str
    model: str
    session_id: str
    project: str
    start_ms: int
    size: int
    sidechain: int


class UsageGenerator:
    """Sessions of requests, with a context that grows (cache reads) and is compacted now and then."""

    def __init__(self, rng: random.Random, now_ms: int) -> None:
        self.rng = rng
        self.now_ms = now_ms
        self.next_row = 0
        self.next_file = 0

    def day_sessions(self, day: DayPlan) -> Iterator[_Session]:
        remaining = day.requests
        while remaining > 0:
            size = min(remaining, self.rng.randint(8, 160))
            remaining -= size
            yield self._session(day, size)

    def _session(self, day: DayPlan, size: int) -> _Session:
        rng = self.rng
        source = "claude_code" if rng.random() < 0.62 else "codex"
        models = _CLAUDE_MODELS if source == "claude_code" else _CODEX_MODELS
        model = _pick(rng, models)
        if source == "codex" and rng.random() < _UNPRICED_SESSION_SHARE:
            model = UNPRICED_MODEL
        latest_hour = max(1, (day.end_ms - day.day_ms) // 3_600_000)
        hour = _pick(rng, tuple((h, w or 0.01) for h, w in enumerate(_HOUR_WEIGHTS[:latest_hour])))
        start = day.day_ms + hour * 3_600_000 + rng.randrange(3_600_000)
        self.next_file += 1
        return _Session(self.next_file, source, model, _uuid(rng), _pick(rng, _PROJECTS), start, size,
                        int(model.startswith("claude-haiku")))

    def rows(self, s: _Session, end_ms: int) -> Iterator[UsageTuple]:
        rng = self.rng
        context = rng.randint(12_000, 25_000)
        ts = s.start_ms
        project = f"{DEMO_HOME}/src/{s.project}"
        for k in range(s.size):
            ts += rng.randint(4_000, 75_000)
            at = min(ts, end_ms - (s.size - k) * 10)  # today's rows stay in the past
            self.next_row += 1
            if s.source == "claude_code":
                tokens = _claude_tokens(rng, context)
                key, version = f"msg_demo_{self.next_row:09d}", "2.0.42"
            else:
                tokens = _codex_tokens(rng, context)
                key, version = f"demo-{self.next_row:09d}", "0.58.0"
            context = context + tokens[1] + rng.randint(200, 3_000)
            if context > 160_000:
                context = rng.randint(25_000, 40_000)  # the agent compacted its context
            yield (s.source, key, at, s.model, s.session_id, project, *tokens, s.sidechain, None, None, version,
                   None, 0, s.file_id)


def _claude_tokens(rng: random.Random, context: int) -> tuple[int, int, int, int, int, int]:
    """(input, cache writes, 1h writes, cache reads, output, reasoning) of a Claude Code request."""
    output = rng.randint(40, 900) if rng.random() < 0.85 else rng.randint(900, 6_000)
    return rng.randint(1, 40), rng.randint(150, 6_000), 0, context, output, 0


def _codex_tokens(rng: random.Random, context: int) -> tuple[int, int, int, int, int, int]:
    output = rng.randint(80, 2_500)
    return rng.randint(300, 8_000), 0, 0, context, output, int(output * rng.uniform(0.2, 0.7))


def _pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_INSERT_USAGE = """
INSERT INTO usage (
    source, dedup_key, ts_ms, model, session_id, project_path,
    input_tokens, cache_creation_tokens, cache_creation_1h_tokens, cache_read_tokens, output_tokens,
    reasoning_tokens, is_sidechain, speed, request_id, agent_version, logged_cost_usd, rank,
    file_id, cost_pusd, cost_kind, price_model)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_INSERT_FILE = """
INSERT INTO files (id, source, path, dev, inode, size, mtime_ns, offset, lines, first_seen_ms, last_read_ms)
VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)"""


def _write_usage(
    conn: sqlite3.Connection, costing: Costing, gen: UsageGenerator, plan: list[DayPlan], *, summary: DemoSummary,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Generate, price and insert the rows, in transactions of about BATCH_ROWS rows (executemany)."""
    total = sum(d.requests for d in plan)
    rows: list[UsageTuple] = []
    files: list[tuple[Any, ...]] = []
    for day in plan:
        for s in gen.day_sessions(day):
            session_rows = [_priced(costing, r) for r in gen.rows(s, gen.now_ms)]
            rows.extend(session_rows)
            files.append(_file_row(s, session_rows))
            summary.sessions += 1
        if len(rows) >= BATCH_ROWS:
            _flush(conn, rows, files, summary)
            rows, files = [], []
            if progress:
                progress(summary.usage_rows, total)
    _flush(conn, rows, files, summary)
    if progress:
        progress(summary.usage_rows, total)


def _priced(costing: Costing, r: UsageTuple) -> UsageTuple:
    cost, kind, price_model = costing.price_parts(r[3], r[2], r[0], None, r[6:11], logged_cost_usd=None)
    return (*r, cost, kind, price_model)


def _file_row(s: _Session, rows: list[UsageTuple]) -> tuple[Any, ...]:
    day = datetime.fromtimestamp(s.start_ms / 1000, UTC)
    if s.source == "claude_code":
        path = f"{DEMO_HOME}/.claude/projects/-home-demo-src-{s.project}/{s.session_id}.jsonl"
    else:
        path = f"{DEMO_HOME}/.codex/sessions/{day:%Y/%m/%d}/rollout-{day:%Y-%m-%dT%H-%M-%S}-{s.session_id}.jsonl"
    last = rows[-1][2] if rows else s.start_ms
    size = 1_400 * len(rows) + 900
    return (s.file_id, s.source, path, s.file_id, size, last * 1_000_000, size, 3 * len(rows), s.start_ms, last)


def _flush(
    conn: sqlite3.Connection, rows: list[UsageTuple], files: list[tuple[Any, ...]], summary: DemoSummary
) -> None:
    if not rows:
        return
    from tracker.ledger.importer import mark_dirty

    lo, hi = min(r[2] for r in rows), max(r[2] for r in rows)
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(_INSERT_FILE, files)
        conn.executemany(_INSERT_USAGE, rows)
        mark_dirty(conn, lo, hi)
    except BaseException:
        conn.rollback()
        raise
    conn.execute("COMMIT")
    summary.usage_rows += len(rows)
    summary.unpriced_rows += sum(1 for r in rows if r[20] == "unpriced")
    for r in rows:
        summary.counts_by_source[r[0]] = summary.counts_by_source.get(r[0], 0) + 1
    summary.first_ms = min(lo, summary.first_ms or lo)
    summary.last_ms = max(hi, summary.last_ms)


# -- sync runs, accounts, what providers report, the network log -------------------------------------------


def _write_sync_runs(conn: sqlite3.Connection, rng: random.Random, plan: list[DayPlan], summary: DemoSummary) -> None:
    """One local-log sync per day (the app syncs more often; one row a day is enough to look real)."""
    runs = []
    for day in plan:
        started = min(day.day_ms + 19 * 3_600_000, day.end_ms - 60_000)
        ok = rng.random() > 0.03
        message = None if ok else "codex: a rollout file could not be read (permission denied); it is retried"
        runs.append((started, started + rng.randint(80, 900), "claude_code,codex", rng.randint(20, 400),
                     rng.randint(1, 30), day.requests * 1_400, day.requests, 0, 0, "ok" if ok else "error", message))
    conn.executemany(
        "INSERT INTO sync_runs (started_ms, finished_ms, sources, files_seen, files_read, bytes_read, new_records, "
        "updated_records, malformed, status, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        runs,
    )
    summary.sync_runs = len(runs)


@dataclass(frozen=True)
class _Account:
    provider: str
    label: str
    host: str
    paths: tuple[str, ...]
    daily_usd: float  # an ordinary weekday's bill
    kind: str  # the provider_usage kind of its bill
    project: str


_ACCOUNTS = (
    _Account("openai", "Demo OpenAI (work org)", "api.openai.com",
             ("/v1/organization/costs", "/v1/organization/usage/completions"), 2.40, "openai.costs",
             "proj_demo_webshop"),
    _Account("anthropic", "Demo Anthropic", "api.anthropic.com",
             ("/v1/organizations/cost_report", "/v1/organizations/usage_report/messages"), 3.10,
             "anthropic.cost_report", "wrkspc_demo"),
    _Account("openrouter", "Demo OpenRouter", "openrouter.ai",
             ("/api/v1/activity", "/api/v1/credits", "/api/v1/key"), 0.85, "openrouter.activity", ""),
)
_LINE_ITEMS = {
    "openai": (("gpt-4.1-mini, input", "gpt-4.1-mini", 0.35), ("gpt-4.1-mini, output", "gpt-4.1-mini", 0.45),
               ("text-embedding-3-small", "text-embedding-3-small", 0.05), ("gpt-5, output", "gpt-5", 0.15)),
    "anthropic": (("Claude Sonnet 4.5 Usage - Input Tokens", "claude-sonnet-4-5-20250929", 0.4),
                  ("Claude Sonnet 4.5 Usage - Output Tokens", "claude-sonnet-4-5-20250929", 0.45),
                  ("Claude Haiku 4.5 Usage - Input Tokens", "claude-haiku-4-5-20251001", 0.15)),
    "openrouter": (("", "deepseek/deepseek-chat-v3.1", 0.5), ("", "moonshotai/kimi-k2", 0.3),
                   ("", "qwen/qwen3-coder", 0.2)),
}
_REPORTED_COLUMNS = (
    "account_id", "provider", "kind", "bucket_start_ms", "bucket_width", "bucket_end_ms", "model", "project",
    "line_item", "requests", "input_tokens", "output_tokens", "cost_pico", "currency", "amount_raw", "amount_unit",
    "billed", "raw", "fetched_ms",
)


def _write_accounts(
    conn: sqlite3.Connection, rng: random.Random, plan: list[DayPlan], now_ms: int, summary: DemoSummary
) -> None:
    for acc in _ACCOUNTS:
        _AccountWriter(conn, rng, plan, now_ms, acc).write(summary)


class _AccountWriter:
    """One demo account: its row, daily bills, a network log, sync state (and balances for OpenRouter)."""

    def __init__(
        self, conn: sqlite3.Connection, rng: random.Random, plan: list[DayPlan], now_ms: int, acc: _Account
    ) -> None:
        self.conn, self.rng, self.plan, self.now_ms, self.acc = conn, rng, plan, now_ms, acc
        self.first_day = plan[0].day_ms
        self.account_id = 0

    def write(self, summary: DemoSummary) -> None:
        self.account_id = self._insert_account()
        summary.accounts += 1
        summary.provider_usage_rows += self._write_reported()
        summary.network_rows += self._write_network()
        if self.acc.provider == "openrouter":
            summary.balance_rows += self._write_balances()
        self.conn.execute(
            "INSERT INTO provider_sync_state (account_id, first_ok_ms, last_ok_ms, covered_from_ms) "
            "VALUES (?, ?, ?, ?)",
            (self.account_id, self.first_day + 9 * 3_600_000, self.now_ms - 4 * 60_000, self.first_day),
        )

    def _insert_account(self) -> int:
        options = json.dumps({"backfill_days": 90, "demo": True}, sort_keys=True)
        cur = self.conn.execute(
            "INSERT INTO accounts (provider, label, base_url, options, created_ms, last_sync_ms, last_status, "
            "last_message) VALUES (?, ?, NULL, ?, ?, ?, 'ok', ?)",
            (self.acc.provider, self.acc.label, options, self.first_day + 9 * 3_600_000, self.now_ms - 4 * 60_000,
             "synced (demo data, no key)"),
        )
        return int(cur.lastrowid or 0)

    def _write_reported(self) -> int:
        """Daily billed rows per line item, scaled like the local usage (busy weekdays, quiet weekends)."""
        mean = sum(d.requests for d in self.plan) / len(self.plan) or 1.0
        rows = []
        for day in self.plan:
            day_usd = self.acc.daily_usd * (day.requests / mean) * self.rng.uniform(0.7, 1.3)
            for line_item, model, share in _LINE_ITEMS[self.acc.provider]:
                rows.append(self._reported_row(day, model, line_item, day_usd * share))
        self.conn.executemany(
            f"INSERT INTO provider_usage ({', '.join(_REPORTED_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_REPORTED_COLUMNS))})",
            rows,
        )
        return len(rows)

    def _reported_row(self, day: DayPlan, model: str, line_item: str, usd: float) -> tuple[Any, ...]:
        amount, pico, unit, raw = _money(self.acc.provider, usd)
        requests = pico // 2_000_000_000  # about 0.2 cents a request
        return (self.account_id, self.acc.provider, self.acc.kind, day.day_ms, "1d", day.day_ms + DAY_MS, model,
                self.acc.project, line_item, requests, requests * 900, requests * 250, pico, "USD", amount, unit, 1,
                raw, min(self.now_ms, day.day_ms + DAY_MS + 3_600_000))

    def _write_balances(self) -> int:
        """OpenRouter credits going down by day over the last 30 days (a top-up in the middle)."""
        rows = []
        total, used = 50_000_000, 21_000_000  # micro-USD
        for k in range(30, -1, -1):
            used += self.rng.randint(300_000, 1_400_000)
            if k == 15:
                total += 25_000_000
            for name, micro in (("credits.total_credits", total), ("credits.total_usage", used),
                                ("credits.balance", total - used)):
                rows.append((self.account_id, "openrouter", self.now_ms - k * DAY_MS, name, "USD", micro * 1_000_000,
                             f"{micro / 1e6:.6f}", json.dumps({"demo": True})))
        self.conn.executemany(
            "INSERT INTO provider_balances (account_id, provider, ts_ms, field, currency, amount_pico, amount_raw, "
            "raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        return len(rows)

    def _write_network(self) -> int:
        """Every 15 minutes over the last two days, hourly for a week before: a few 429s and a timeout."""
        now = self.now_ms
        times = [*range(now - 9 * DAY_MS, now - 2 * DAY_MS, 3_600_000), *range(now - 2 * DAY_MS, now, 900_000)]
        rows = []
        for ts in (t for t in times if t >= self.first_day):
            for path in self.acc.paths:
                rows.extend(self._requests(ts, path))
        self.conn.executemany(
            "INSERT INTO network_log (ts_ms, provider, account_id, method, host, path, status, bytes_sent, "
            "bytes_received, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        return len(rows)

    def _requests(self, ts: int, path: str) -> list[tuple[Any, ...]]:
        roll = self.rng.random()
        if roll < 0.02:  # rate limited, then the retry succeeds
            return [self._request(ts, path, 429, "rate limited; retrying after 2 s"),
                    self._request(ts + 2_300, path, 200, None)]
        if roll < 0.025:
            return [self._request(ts, path, None, "timed out after 10 s")]
        return [self._request(ts, path, 200, None)]

    def _request(self, at: int, path: str, status: int | None, error: str | None) -> tuple[Any, ...]:
        rng = self.rng
        received = rng.randint(800, 24_000) if status == 200 else (0 if status is None else 180)
        return (at, self.acc.provider, self.account_id, "GET", self.acc.host, path, status, rng.randint(280, 420),
                received, rng.randint(90, 900) if status else 10_000, error)


def _money(provider: str, usd: float) -> tuple[str, int, str, str]:
    """(amount as sent, pico-USD, unit, raw JSON): Anthropic reports cents, the others dollars."""
    if provider == "anthropic":
        cents = Decimal(f"{usd * 100:.4f}")
        return str(cents), int(cents * 10**10), "cents", json.dumps({"amount": str(cents), "currency": "USD"})
    dollars = Decimal(f"{usd:.6f}")
    return str(dollars), int(dollars * 10**12), "unit", json.dumps({"amount": {"value": str(dollars)}})
