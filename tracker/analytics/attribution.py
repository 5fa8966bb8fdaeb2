"""Which project each piece of spend belongs to, and how much spend each outcome is attributed.

Attribution is computed at read time from ``project_rules`` (migration m006) and the spend's own fields; nothing
is stored per usage row, so a rule added today applies to past usage too.

* Local usage (``usage``, estimated from agent logs) is matched by its cwd (``project_path``): ``path_prefix``
  rules (longest prefix wins, matched at a path-component boundary), then ``path_glob`` rules (fnmatch, in the
  order they were added), then the **default project**: the repository folder name (walk up to the folder
  holding ``.git``; a git worktree counts as its main repository), or the last path component when the path is
  not in a repository or no longer exists. A usage row without a cwd is unattributed (project ``None``).
* Reported spend (``provider_usage`` rows with ``billed = 1``, USD) is matched by ``api_key_id`` (the row's
  ``dims``), then ``openai_project`` / ``anthropic_workspace`` (the row's ``project``), then ``account`` (the
  account's label). Unmatched rows are unattributed.

The default spend-to-outcome method (docs/outcomes.md): an outcome is attributed its project's spend since the
project's previous outcome, in the half-open window ``[previous outcome's at_ms, this outcome's at_ms)``; the
first outcome of a project takes everything before it. Outcomes without a project take unattributed spend the
same way. A provider bucket counts at its start instant. With a flat plan stored, the usage it covered leaves
estimated spend and the plan's fee shares join the project's spend at that usage's instants
(``tracker.analytics.subscriptions.plan_spend``); ``spend_by_project_day`` stays plan-free (the plan-aware one is
``subscriptions.spend_by_project_day_with_plans``).
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import PurePath

from tracker.analytics.periods import local_midnight_ms

PATH_KINDS = ("path_prefix", "path_glob")
PROVIDER_KINDS = ("account", "api_key_id", "openai_project", "anthropic_workspace")
RULE_KINDS = PATH_KINDS + PROVIDER_KINDS


@dataclass(frozen=True)
class Project:
    id: int | None  # None: a default project (from a folder name) not stored yet
    name: str
    client: str | None


@dataclass(frozen=True)
class Rule:
    id: int
    project: str
    kind: str
    pattern: str


@dataclass(frozen=True)
class Rules:
    """Every rule, in the order they apply, plus the stored projects (for clients)."""

    rules: tuple[Rule, ...] = ()
    projects: dict[str, Project] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Rule]:
        return [r for r in self.rules if r.kind == kind]

    def client_of(self, project: str | None) -> str | None:
        p = self.projects.get(project) if project is not None else None
        return p.client if p is not None else None


@dataclass
class Spend:
    estimated_pusd: int = 0
    reported_pusd: int = 0
    unpriced_records: int = 0
    subscription_pusd: int = 0  # flat plans' fee shares (only where plans are applied; see subscriptions.py)
    covered_pusd: int = 0  # API-equivalent cost of usage a plan covered: not spend, not in estimated_pusd

    @property
    def total_pusd(self) -> int:
        """Estimated plus reported (plus the plans' fee shares), the figure attributed; the parts stay available."""
        return self.estimated_pusd + self.reported_pusd + self.subscription_pusd

    def add(self, other: Spend) -> None:
        self.estimated_pusd += other.estimated_pusd
        self.reported_pusd += other.reported_pusd
        self.unpriced_records += other.unpriced_records
        self.subscription_pusd += other.subscription_pusd
        self.covered_pusd += other.covered_pusd


@dataclass(frozen=True)
class OutcomeSpend:
    outcome_id: int
    project: str | None
    attributed_pusd: int  # estimated_pusd + reported_pusd + subscription_pusd
    estimated_pusd: int
    reported_pusd: int
    unpriced_records: int
    window: tuple[int, int]  # [start_ms, end_ms): previous outcome of the project (or its first spend), this one
    subscription_pusd: int = 0  # the project's fee shares of flat plans in the window
    covered_pusd: int = 0  # API-equivalent cost of plan-covered usage in the window (not in estimated_pusd)


# ---- rules -------------------------------------------------------------------------------------------------


def load_rules(conn: sqlite3.Connection) -> Rules:
    projects = {
        str(name): Project(int(pid), str(name), None if client is None else str(client))
        for pid, name, client in conn.execute(
            "SELECT p.id, p.name, c.name FROM projects p LEFT JOIN clients c ON c.id = p.client_id ORDER BY p.id"
        )
    }
    rules = tuple(
        Rule(int(rid), str(name), str(kind), str(pattern))
        for rid, name, kind, pattern in conn.execute(
            "SELECT r.id, p.name, r.kind, r.pattern FROM project_rules r JOIN projects p ON p.id = r.project_id "
            "ORDER BY r.id"
        )
    )
    return Rules(rules, projects)


def _prefix_matches(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/\\") or prefix
    if path == prefix:
        return True
    return path.startswith(prefix) and (prefix.endswith(("/", "\\")) or path[len(prefix)] in "/\\")


def path_rule_for(path: str, rules: Rules) -> Rule | None:
    """The path rule that decides ``path``: the longest matching prefix, else the first matching glob."""
    best: Rule | None = None
    for rule in rules.of_kind("path_prefix"):
        if _prefix_matches(path, rule.pattern) and (best is None or len(rule.pattern) > len(best.pattern)):
            best = rule
    if best is not None:
        return best
    for rule in rules.of_kind("path_glob"):
        if fnmatch.fnmatchcase(path, rule.pattern):
            return rule
    return None


def project_for_path(path: str | None, rules: Rules) -> str | None:
    """The project NAME of an agent cwd: rules first, then the default project (see the module docstring)."""
    if not path:
        return None
    rule = path_rule_for(path, rules)
    if rule is not None:
        return rule.project
    return default_project(path)


def default_project(path: str) -> str | None:
    """The repository folder name holding ``path``; its last component when not in a repository or gone."""
    return PurePath(default_root(path)).name or None


@lru_cache(maxsize=4096)
def default_root(path: str) -> str:
    """The folder a default project is named after: the repository holding ``path`` (the main repository for
    a worktree), else ``path`` itself (not in a repository, or no longer on disk)."""
    try:
        start = os.path.realpath(path)
        exists = os.path.isdir(start)
    except (OSError, ValueError):
        exists = False
    if exists:
        current = PurePath(start)
        for folder in (current, *current.parents):
            repo = _repo_root(str(folder))
            if repo is not None:
                return repo
    return path.rstrip("/\\") or path


def _repo_root(folder: str) -> str | None:
    """``folder`` if it holds ``.git`` (a directory), the main repository for a worktree's ``.git`` file."""
    dot_git = os.path.join(folder, ".git")
    if os.path.isdir(dot_git):
        return folder
    if not os.path.isfile(dot_git):
        return None
    try:
        with open(dot_git, encoding="utf-8") as f:
            first = f.readline().strip()
    except (OSError, UnicodeDecodeError):
        return folder
    if not first.startswith("gitdir:"):
        return folder
    gitdir = first.removeprefix("gitdir:").strip()
    if not os.path.isabs(gitdir):
        gitdir = os.path.normpath(os.path.join(folder, gitdir))
    parts = PurePath(gitdir).parts
    # <repo>/.git/worktrees/<name>: the worktree belongs to <repo>. Anything else (a submodule's
    # <super>/.git/modules/<name>): the folder holding the .git file is the repository.
    if len(parts) >= 3 and parts[-2] == "worktrees" and parts[-3] == ".git":
        return str(PurePath(*parts[:-3]))
    return folder


def project_for_provider_row(
    rules: Rules, *, account: str | None, provider: str, project: str, dims: str
) -> str | None:
    """The project of a reported (provider) row, or None when no rule matches."""
    key_id = _dims_value(dims, "api_key_id")
    order = (
        ("api_key_id", key_id),
        ("openai_project", project if provider == "openai" else None),
        ("anthropic_workspace", project if provider == "anthropic" else None),
        ("account", account),
    )
    for kind, value in order:
        if not value:
            continue
        for rule in rules.of_kind(kind):
            if rule.pattern == value:
                return rule.project
    return None


def _dims_value(dims: str, key: str) -> str | None:
    if not dims:
        return None
    try:
        value = json.loads(dims).get(key)
    except (ValueError, AttributeError):
        return None
    return None if value is None else str(value)


# ---- spend ---------------------------------------------------------------------------------------------------


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _local_day(slot_ms: int, tz: tzinfo, cache: dict[int, date]) -> date:
    day = cache.get(slot_ms)
    if day is None:
        day = datetime.fromtimestamp(slot_ms / 1000, tz).date()
        cache[slot_ms] = day
    return day


def usage_segments(
    conn: sqlite3.Connection, rules: Rules, edges: list[int]
) -> Iterable[tuple[str | None, int, int, Spend]]:
    """(project, segment, first instant, spend) of local usage cut at the sorted instants ``edges``: segment ``i`` is
    ``[edges[i], edges[i + 1])``; usage before the first edge or at/after the last is left out.

    SQLite sums each (cwd, segment): the segments drive a range scan of the ``usage_ts`` index, so Python only
    sees one row per cwd and segment, whatever the number of requests.
    """
    if len(edges) < 2:
        return
    pairs = json.dumps([[lo, hi] for lo, hi in itertools.pairwise(edges) if lo < hi])
    sql = """
        WITH seg(i, lo, hi) AS MATERIALIZED (
            SELECT CAST(key AS INTEGER), json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)
        )
        SELECT u.project_path, seg.lo, min(u.ts_ms), coalesce(sum(u.cost_pusd), 0),
               sum(CASE WHEN u.cost_kind = 'unpriced' THEN 1 ELSE 0 END)
        FROM seg CROSS JOIN usage u INDEXED BY usage_ts ON u.ts_ms >= seg.lo AND u.ts_ms < seg.hi
        GROUP BY seg.i, u.project_path"""
    index = {lo: i for i, lo in enumerate(edges)}
    names: dict[str | None, str | None] = {}
    for path, lo, first_ms, cost, unpriced in conn.execute(sql, (pairs,)):
        if path not in names:
            names[path] = project_for_path(path, rules)
        yield names[path], index[int(lo)], int(first_ms), Spend(int(cost), 0, int(unpriced))


def _usage_range(conn: sqlite3.Connection) -> tuple[int, int] | None:
    row = conn.execute("SELECT min(ts_ms), max(ts_ms) FROM usage").fetchone()
    return None if row is None or row[0] is None else (int(row[0]), int(row[1]))


def reported_buckets(
    conn: sqlite3.Connection, rules: Rules, lo_ms: int | None, hi_ms: int | None
) -> Iterable[tuple[str | None, int, int]]:
    """(project, bucket start ms, USD pico) of billed provider rows with ``lo_ms <= bucket_start_ms < hi_ms``."""
    if not _has_table(conn, "provider_usage"):
        return
    clauses, params = ["u.billed = 1", "u.cost_pico IS NOT NULL", "upper(coalesce(u.currency, 'USD')) = 'USD'"], []
    if lo_ms is not None:
        clauses.append("u.bucket_start_ms >= ?")
        params.append(lo_ms)
    if hi_ms is not None:
        clauses.append("u.bucket_start_ms < ?")
        params.append(hi_ms)
    sql = f"""
        SELECT a.label, u.provider, u.project, u.dims, u.bucket_start_ms, sum(u.cost_pico)
        FROM provider_usage u LEFT JOIN accounts a ON a.id = u.account_id
        WHERE {" AND ".join(clauses)}
        GROUP BY a.label, u.provider, u.project, u.dims, u.bucket_start_ms"""
    for label, provider, project, dims, start, cost in conn.execute(sql, params):
        name = project_for_provider_row(
            rules, account=None if label is None else str(label), provider=str(provider), project=str(project),
            dims=str(dims),
        )
        yield name, int(start), int(cost)


def spend_by_project_day(
    conn: sqlite3.Connection, tz: tzinfo, first: date | None, last: date | None, rules: Rules | None = None
) -> dict[tuple[str | None, date], Spend]:
    """Spend per (project, day) for local dates ``first``..``last`` inclusive (None: unbounded).

    Local usage is placed on its local date in ``tz``. Provider buckets are UTC days and are placed on their
    **UTC date** (as ``report --cost reported`` does: a UTC day cannot be split into local hours).
    """
    rules = load_rules(conn) if rules is None else rules
    out: dict[tuple[str | None, date], Spend] = {}
    span = _usage_range(conn)
    if span is not None:
        lo_day = first if first is not None else _local_day(span[0], tz, {})
        hi_day = last if last is not None else _local_day(span[1], tz, {})
        days = [lo_day + timedelta(days=n) for n in range((hi_day - lo_day).days + 1)]
        edges = [local_midnight_ms(d, tz) for d in days]
        if days:
            edges.append(local_midnight_ms(days[-1] + timedelta(days=1), tz))
        for project, i, _first_ms, spend in usage_segments(conn, rules, edges):
            out.setdefault((project, days[i]), Spend()).add(spend)
    utc_lo = None if first is None else _utc_midnight_ms(first)
    utc_hi = None if last is None else _utc_midnight_ms(last + timedelta(days=1))
    for project, start, cost in reported_buckets(conn, rules, utc_lo, utc_hi):
        day = date(1970, 1, 1) + timedelta(days=start // 86_400_000)
        out.setdefault((project, day), Spend()).reported_pusd += cost
    return out


def _utc_midnight_ms(d: date) -> int:
    return (d - date(1970, 1, 1)).days * 86_400_000


def spend_by_project(
    conn: sqlite3.Connection, tz: tzinfo, first: date | None = None, last: date | None = None,
    rules: Rules | None = None,
) -> dict[str | None, Spend]:
    """Spend per project over local dates ``first``..``last`` (see :func:`spend_by_project_day`)."""
    out: dict[str | None, Spend] = {}
    for (project, _day), spend in spend_by_project_day(conn, tz, first, last, rules).items():
        out.setdefault(project, Spend()).add(spend)
    return out


# ---- outcomes ------------------------------------------------------------------------------------------------


def attribute_outcomes(conn: sqlite3.Connection, tz: tzinfo, rules: Rules | None = None, *,
                       now_ms: int | None = None) -> list[OutcomeSpend]:
    """Every outcome with the spend attributed to it by the default method (see the module docstring).

    Windows are instants. ``tz`` (the local days) and ``now_ms`` (today; default: the clock) matter only once a
    flat plan is stored: the usage a plan covered on a local day is not spend (``covered_pusd``) and the plan's
    fee shares of the day are the project's spend at that usage's instants (``tracker.analytics.subscriptions``).
    Ordered by outcome time, then id.
    """
    rules = load_rules(conn) if rules is None else rules
    outcomes = [
        (int(oid), int(at), None if name is None else str(name))
        for oid, at, name in conn.execute(
            "SELECT o.id, o.at_ms, p.name FROM outcomes o LEFT JOIN projects p ON p.id = o.project_id "
            "ORDER BY o.at_ms, o.id"
        )
    ]
    if not outcomes:
        return []
    # Per project, the (instant, spend) events, sorted, then swept against the project's outcomes.
    events: dict[str | None, list[tuple[int, Spend]]] = {}
    span = _usage_range(conn)
    if span is not None:
        # Segments between every outcome instant (of any project): each lies inside one window of every
        # project, so its sum can stand for its rows, placed at its first row's instant.
        edges = sorted({span[0], span[1] + 1, *(at for _oid, at, _p in outcomes)})
        for project, _i, first_ms, spend in usage_segments(conn, rules, edges):
            events.setdefault(project, []).append((first_ms, spend))
    for project, start, cost in reported_buckets(conn, rules, None, None):
        events.setdefault(project, []).append((start, Spend(0, cost, 0)))
    for project, at_ms, spend in _plan_events(conn, tz, rules, now_ms):
        events.setdefault(project, []).append((at_ms, spend))
    for evs in events.values():
        evs.sort(key=lambda e: e[0])
    out: list[OutcomeSpend] = []
    previous: dict[str | None, int] = {}
    cursor: dict[str | None, int] = {}
    for oid, at, project in outcomes:
        evs = events.get(project, [])
        i = cursor.get(project, 0)
        start = previous.get(project, evs[0][0] if evs and evs[0][0] < at else at)
        total = Spend()
        while i < len(evs) and evs[i][0] < at:
            total.add(evs[i][1])
            i += 1
        cursor[project] = i
        previous[project] = at
        out.append(OutcomeSpend(oid, project, total.total_pusd, total.estimated_pusd, total.reported_pusd,
                                total.unpriced_records, (start, at), total.subscription_pusd, total.covered_pusd))
    return out


def _plan_events(conn: sqlite3.Connection, tz: tzinfo, rules: Rules, now_ms: int | None
                 ) -> list[tuple[str | None, int, Spend]]:
    """(project, instant, spend) corrections of the stored plans: covered usage leaves ``estimated_pusd`` at its
    own instant (so it falls in the window its usage fell in), fee shares join at theirs. Empty without plans."""
    from tracker.plans import has_subscriptions

    if not has_subscriptions(conn):
        return []
    from tracker.analytics.subscriptions import plan_spend

    now = int(datetime.now().timestamp() * 1000) if now_ms is None else now_ms
    ps = plan_spend(conn, tz, datetime.fromtimestamp(now / 1000, tz).date(), rules=rules)
    out = [(u.project, u.at_ms, Spend(-u.cost_pusd, 0, 0, 0, u.cost_pusd)) for u in ps.covered]
    out += [(f.project, f.at_ms, Spend(0, 0, 0, f.pusd)) for f in ps.fees]
    return out


def latest_usage_project(conn: sqlite3.Connection, rules: Rules | None = None) -> str | None:
    """The project of the most recent usage row (the guess for a new outcome's project), or None."""
    row = conn.execute(
        "SELECT project_path FROM usage WHERE project_path IS NOT NULL ORDER BY ts_ms DESC, id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return project_for_path(row[0], load_rules(conn) if rules is None else rules)


def all_projects(conn: sqlite3.Connection, rules: Rules | None = None) -> dict[str, Project]:
    """Stored projects plus default projects seen in usage (id None), by name."""
    rules = load_rules(conn) if rules is None else rules
    out = dict(rules.projects)
    for (path,) in conn.execute("SELECT DISTINCT project_path FROM usage"):
        name = project_for_path(path, rules)
        if name is not None and name not in out:
            out[name] = Project(None, name, None)
    return out
