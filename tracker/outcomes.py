"""Outcomes (what the spend bought), projects, clients and project rules: create, read, update, delete.

Qt-free and click-free: the CLI (``tracker.cli.outcome``, ``project``, ``rule``) and later the GUI call these with
an open connection inside a transaction. Every user mistake raises ``ValueError`` with a one-line message for
people. Money is parsed exactly (Decimal) and stored as integer pico-USD; hours saved stay a decimal string.
Which project a piece of spend belongs to is :mod:`tracker.analytics.attribution`'s job (read time, never stored).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from datetime import time as dtime
from decimal import Decimal, InvalidOperation
from typing import Any

from tracker.analytics.attribution import (
    PATH_KINDS,
    RULE_KINDS,
    Project,
    Rules,
    Spend,
    all_projects,
    default_project,
    default_root,
    load_rules,
    path_rule_for,
    spend_by_project,
)
from tracker.domain import PICO_PER_USD

KINDS = ("shipped_feature", "bug_fix", "pr_merged", "decision", "automation", "document", "research",
         "client_deliverable", "other")
STATUSES = ("kept", "redone", "abandoned")
_MAX_NAME = 100
_MONEY_RE = re.compile(r"\$?\s*([0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)")


@dataclass
class Outcome:
    id: int
    title: str
    kind: str
    at_ms: int
    project: str | None
    client: str | None
    value_pusd: int | None
    hours_saved: str | None
    status: str
    link: str | None
    notes: str | None
    tags: list[str]
    created_ms: int
    updated_ms: int


@dataclass
class OutcomeFields:
    """Fields given for an add or an edit; ``None`` = not given. For an edit, ``clear`` names fields to empty."""

    title: str | None = None
    kind: str | None = None
    at_ms: int | None = None
    project: str | None = None
    value_pusd: int | None = None
    hours_saved: str | None = None
    status: str | None = None
    link: str | None = None
    notes: str | None = None
    tags: list[str] | None = None
    clear: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class RuleRow:
    id: int
    project: str
    kind: str
    pattern: str
    created_ms: int


@dataclass(frozen=True)
class ProjectSummary:
    name: str
    stored: bool
    client: str | None
    spend: Spend
    outcomes: int
    rules: int


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# ---- parsing -------------------------------------------------------------------------------------------------


def parse_kind(text: str) -> str:
    k = text.strip().lower().replace("-", "_").replace(" ", "_")
    if k not in KINDS:
        raise ValueError(f"unknown kind {text!r}; use one of: {', '.join(KINDS)}")
    return k


def parse_status(text: str) -> str:
    s = text.strip().lower()
    if s not in STATUSES:
        raise ValueError(f"unknown status {text!r}; use one of: {', '.join(STATUSES)}")
    return s


def parse_usd(text: str, option: str = "--value") -> int:
    """Dollars (``12.50``, ``$1,200``) as exact pico-USD; negative, non-numbers and sub-pico digits raise."""
    cleaned = text.strip()
    if cleaned.startswith("-"):
        raise ValueError(f"{option} {text!r} is negative; give a value of 0 or more dollars")
    m = _MONEY_RE.fullmatch(cleaned)
    if m is None:
        raise ValueError(f"{option} {text!r} is not an amount of dollars; e.g. {option} 250 or {option} 99.50")
    amount = Decimal(m.group(1).replace(",", ""))
    pico = amount * PICO_PER_USD
    if pico != pico.to_integral_value():
        raise ValueError(f"{option} {text!r} has more than 12 decimals")
    return int(pico)


def parse_hours(text: str) -> str:
    """Hours saved as a normalised decimal string (``1.5``); negative or non-numbers raise."""
    try:
        hours = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"--hours {text!r} is not a number of hours; e.g. --hours 1.5") from None
    if not hours.is_finite():
        raise ValueError(f"--hours {text!r} is not a number of hours; e.g. --hours 1.5")
    if hours < 0:
        raise ValueError(f"--hours {text!r} is negative; give 0 or more hours")
    normal = format(hours.normalize(), "f")
    return normal if normal != "-0" else "0"


def parse_when(text: str, tz: tzinfo, option: str = "--at") -> int:
    """An instant from YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS] or ISO 8601; times without an offset are in ``tz``.

    A date alone means the **end** of that local day, so the day's spend counts toward the outcome.
    """
    value = text.strip()
    try:
        d = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        d = None
    if d is not None:
        return _local_ms(datetime.combine(d + timedelta(days=1), dtime(0)), tz) - 1
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{option} {text!r} is not a date or time; use YYYY-MM-DD, 'YYYY-MM-DD HH:MM' or ISO 8601"
        ) from None
    if dt.tzinfo is None:
        return _local_ms(dt, tz)
    return int(dt.timestamp() * 1000)


def _local_ms(naive: datetime, tz: tzinfo) -> int:
    return int(naive.replace(tzinfo=tz).timestamp() * 1000)


def parse_day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{option} {text!r} is not a date; use YYYY-MM-DD, e.g. {option} 2026-11-01") from None


def _name(text: str, what: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise ValueError(f"the {what} name is empty")
    if len(name) > _MAX_NAME:
        raise ValueError(f"the {what} name is longer than {_MAX_NAME} characters")
    return name


def _title(text: str) -> str:
    title = " ".join(text.split())
    if not title:
        raise ValueError("the title is empty; say what was done, e.g. 'Shipped CSV export'")
    return title


def _tags(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        for t in v.split(","):
            tag = t.strip()
            if tag and tag not in out:
                out.append(tag)
    return out


# ---- projects and clients ------------------------------------------------------------------------------------


def _project_id(conn: sqlite3.Connection, name: str) -> int | None:
    row = conn.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
    return None if row is None else int(row[0])


def _store_project(conn: sqlite3.Connection, name: str) -> int:
    pid = _project_id(conn, name)
    if pid is not None:
        return pid
    cur = conn.execute("INSERT INTO projects (name, client_id, created_ms) VALUES (?, NULL, ?)", (name, now_ms()))
    return int(cur.lastrowid or 0)


def _unknown_project(name: str, known: list[str]) -> ValueError:
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
    return ValueError(
        f"unknown project {name!r}: {hint}see `token-ledger project list`, or define it with "
        f"`token-ledger rule add {name} --path-prefix DIR`"
    )


def require_project(conn: sqlite3.Connection, name: str, rules: Rules | None = None) -> int:
    """The id of project ``name``, storing it first when it is a default project seen in usage."""
    name = _name(name, "project")
    pid = _project_id(conn, name)
    if pid is not None:
        return pid
    known = all_projects(conn, rules)
    if name not in known:
        raise _unknown_project(name, sorted(known))
    return _store_project(conn, name)


def set_client(conn: sqlite3.Connection, project: str, client: str | None) -> None:
    """Give ``project`` a client (created when new), or none."""
    pid = require_project(conn, project)
    cid = None
    if client is not None:
        cname = _name(client, "client")
        row = conn.execute("SELECT id FROM clients WHERE name = ?", (cname,)).fetchone()
        if row is None:
            cur = conn.execute("INSERT INTO clients (name, created_ms) VALUES (?, ?)", (cname, now_ms()))
            cid = int(cur.lastrowid or 0)
        else:
            cid = int(row[0])
    conn.execute("UPDATE projects SET client_id = ? WHERE id = ?", (cid, pid))


def rename_project(conn: sqlite3.Connection, old: str, new: str) -> int:
    """Rename project ``old`` to ``new``; returns how many path rules were added.

    Usage attributed to ``old`` by default (its repository folder name) would keep that name, so each such
    repository (or gone folder) gets a ``path_prefix`` rule to ``new``; rules and outcomes follow the stored row.
    """
    old, new = _name(old, "project"), _name(new, "project")
    if old == new:
        return 0
    rules = load_rules(conn)
    known = all_projects(conn, rules)
    if old not in known:
        raise _unknown_project(old, sorted(known))
    if new in known:
        raise ValueError(f"project {new!r} already exists; pick another name")
    roots = sorted({
        root for (path,) in conn.execute("SELECT DISTINCT project_path FROM usage WHERE project_path IS NOT NULL")
        if path_rule_for(str(path), rules) is None and default_project(str(path)) == old
        for root in (default_root(str(path)),)
    })
    pid = _project_id(conn, old)
    if pid is None:
        pid = _store_project(conn, old)
    conn.execute("UPDATE projects SET name = ? WHERE id = ?", (new, pid))
    added = 0
    for root in roots:
        if conn.execute("SELECT 1 FROM project_rules WHERE kind = 'path_prefix' AND pattern = ?",
                        (root,)).fetchone() is None:
            conn.execute("INSERT INTO project_rules (project_id, kind, pattern, created_ms) VALUES (?, ?, ?, ?)",
                         (pid, "path_prefix", root, now_ms()))
            added += 1
    return added


def project_summaries(conn: sqlite3.Connection, tz: tzinfo) -> list[ProjectSummary]:
    """Every project (stored, or a default one seen in usage) with its all-time spend and outcome count."""
    rules = load_rules(conn)
    projects = all_projects(conn, rules)
    spend = spend_by_project(conn, tz, rules=rules)
    counts = {
        str(name): int(n) for name, n in conn.execute(
            "SELECT p.name, count(*) FROM outcomes o JOIN projects p ON p.id = o.project_id GROUP BY p.name")
    }
    rule_counts: dict[str, int] = {}
    for r in rules.rules:
        rule_counts[r.project] = rule_counts.get(r.project, 0) + 1
    names = sorted(set(projects) | {p for p in spend if p is not None}, key=str.casefold)
    out = [
        ProjectSummary(n, n in rules.projects, rules.client_of(n), spend.get(n, Spend()), counts.get(n, 0),
                       rule_counts.get(n, 0))
        for n in names
    ]
    if None in spend:
        n_none = conn.execute("SELECT count(*) FROM outcomes WHERE project_id IS NULL").fetchone()[0]
        out.append(ProjectSummary("(unattributed)", False, None, spend[None], int(n_none), 0))
    return out


def list_projects(conn: sqlite3.Connection) -> dict[str, Project]:
    return all_projects(conn)


# ---- rules ---------------------------------------------------------------------------------------------------


def normalise_pattern(kind: str, pattern: str) -> str:
    if kind not in RULE_KINDS:
        raise ValueError(f"unknown rule kind {kind!r}; use one of: {', '.join(RULE_KINDS)}")
    value = pattern.strip()
    if not value:
        raise ValueError("the rule's pattern is empty")
    if kind in PATH_KINDS:
        value = os.path.expanduser(value)
        if kind == "path_prefix":
            if not os.path.isabs(value):
                raise ValueError(f"--path-prefix {pattern!r} is not an absolute path (agent folders are absolute)")
            value = value.rstrip("/\\") or value[:1]
    return value


def add_rule(conn: sqlite3.Connection, project: str, kind: str, pattern: str) -> int:
    """Add a rule sending matching spend to ``project`` (created if new); returns the rule's id."""
    name = _name(project, "project")
    value = normalise_pattern(kind, pattern)
    row = conn.execute(
        "SELECT r.id, p.name FROM project_rules r JOIN projects p ON p.id = r.project_id "
        "WHERE r.kind = ? AND r.pattern = ?", (kind, value)).fetchone()
    if row is not None:
        raise ValueError(f"a rule for {kind} {value!r} already exists (#{row[0]}, project {row[1]!r}); "
                         f"remove it first with `token-ledger rule remove {row[0]}`")
    pid = _store_project(conn, name)
    cur = conn.execute("INSERT INTO project_rules (project_id, kind, pattern, created_ms) VALUES (?, ?, ?, ?)",
                       (pid, kind, value, now_ms()))
    return int(cur.lastrowid or 0)


def list_rules(conn: sqlite3.Connection) -> list[RuleRow]:
    return [
        RuleRow(int(i), str(p), str(k), str(pat), int(c)) for i, p, k, pat, c in conn.execute(
            "SELECT r.id, p.name, r.kind, r.pattern, r.created_ms FROM project_rules r "
            "JOIN projects p ON p.id = r.project_id ORDER BY r.id")
    ]


def remove_rule(conn: sqlite3.Connection, rule_id: int) -> RuleRow:
    for r in list_rules(conn):
        if r.id == rule_id:
            conn.execute("DELETE FROM project_rules WHERE id = ?", (rule_id,))
            return r
    raise ValueError(f"no rule #{rule_id}; see `token-ledger rule list`")


# ---- outcomes ------------------------------------------------------------------------------------------------

_SELECT = """
    SELECT o.id, o.title, o.kind, o.at_ms, p.name, c.name, o.value_pusd, o.hours_saved, o.status, o.link,
           o.notes, o.tags, o.created_ms, o.updated_ms
    FROM outcomes o LEFT JOIN projects p ON p.id = o.project_id LEFT JOIN clients c ON c.id = p.client_id"""


def _outcome(row: tuple[Any, ...]) -> Outcome:
    (oid, title, kind, at, project, client, value, hours, status, link, notes, tags, created, updated) = row
    try:
        tag_list = [str(t) for t in json.loads(tags)]
    except (ValueError, TypeError):
        tag_list = []
    return Outcome(int(oid), str(title), str(kind), int(at), project, client,
                   None if value is None else int(value), hours, str(status), link, notes, tag_list,
                   int(created), int(updated))


def get_outcome(conn: sqlite3.Connection, outcome_id: int) -> Outcome:
    row = conn.execute(f"{_SELECT} WHERE o.id = ?", (outcome_id,)).fetchone()
    if row is None:
        raise ValueError(f"no outcome #{outcome_id}; see `token-ledger outcome list`")
    return _outcome(row)


def list_outcomes(
    conn: sqlite3.Connection, *, project: str | None = None, since_ms: int | None = None,
    until_ms: int | None = None, status: str | None = None,
) -> list[Outcome]:
    """Outcomes with ``since_ms <= at_ms < until_ms``, oldest first, optionally of one project and status."""
    clauses: list[str] = []
    params: list[object] = []
    if project is not None:
        clauses.append("p.name = ?")
        params.append(project)
    if since_ms is not None:
        clauses.append("o.at_ms >= ?")
        params.append(since_ms)
    if until_ms is not None:
        clauses.append("o.at_ms < ?")
        params.append(until_ms)
    if status is not None:
        clauses.append("o.status = ?")
        params.append(parse_status(status))
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return [_outcome(r) for r in conn.execute(f"{_SELECT}{where} ORDER BY o.at_ms, o.id", params)]


def add_outcome(conn: sqlite3.Connection, f: OutcomeFields) -> int:
    """Insert an outcome; ``title`` and ``at_ms`` are required, the rest default (kind other, status kept)."""
    if f.title is None or f.at_ms is None:
        raise ValueError("an outcome needs a title and a time")
    pid = None if f.project is None else require_project(conn, f.project)
    stamp = now_ms()
    cur = conn.execute(
        "INSERT INTO outcomes (title, kind, at_ms, project_id, value_pusd, hours_saved, status, link, notes, tags, "
        "created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (_title(f.title), parse_kind(f.kind or "other"), f.at_ms, pid, _value(f.value_pusd), f.hours_saved,
         parse_status(f.status or "kept"), _text(f.link), _text(f.notes), json.dumps(_tags(f.tags or [])),
         stamp, stamp),
    )
    return int(cur.lastrowid or 0)


def update_outcome(conn: sqlite3.Connection, outcome_id: int, f: OutcomeFields) -> Outcome:
    """Change the given fields of an outcome (and clear those named in ``f.clear``); returns it as stored."""
    get_outcome(conn, outcome_id)
    sets: dict[str, object] = {}
    if f.title is not None:
        sets["title"] = _title(f.title)
    if f.kind is not None:
        sets["kind"] = parse_kind(f.kind)
    if f.at_ms is not None:
        sets["at_ms"] = f.at_ms
    if f.project is not None:
        sets["project_id"] = require_project(conn, f.project)
    if f.value_pusd is not None:
        sets["value_pusd"] = _value(f.value_pusd)
    if f.hours_saved is not None:
        sets["hours_saved"] = f.hours_saved
    if f.status is not None:
        sets["status"] = parse_status(f.status)
    for name in ("link", "notes"):
        value = getattr(f, name)
        if value is not None:
            sets[name] = _text(value)
    if f.tags is not None:
        sets["tags"] = json.dumps(_tags(f.tags))
    columns = {"project": "project_id", "value": "value_pusd", "hours": "hours_saved", "link": "link",
               "notes": "notes", "tags": "tags"}
    for name in f.clear:
        if name not in columns:
            raise ValueError(f"{name} cannot be cleared")
        sets[columns[name]] = "[]" if name == "tags" else None
    if sets:
        sets["updated_ms"] = now_ms()
        assignments = ", ".join(f"{c} = ?" for c in sets)
        conn.execute(f"UPDATE outcomes SET {assignments} WHERE id = ?", [*sets.values(), outcome_id])
    return get_outcome(conn, outcome_id)


def delete_outcome(conn: sqlite3.Connection, outcome_id: int) -> Outcome:
    outcome = get_outcome(conn, outcome_id)
    conn.execute("DELETE FROM outcomes WHERE id = ?", (outcome_id,))
    return outcome


def _value(pusd: int | None) -> int | None:
    if pusd is not None and pusd < 0:
        raise ValueError("the value is negative; give a value of 0 or more dollars")
    return pusd


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


def usd_text(pico: int | None) -> str:
    """Exact dollars with at least two decimals ("12.50", "0.000123"), or "" for none."""
    if pico is None:
        return ""
    from tracker.analytics.reported import usd_text as exact

    return exact(pico)
