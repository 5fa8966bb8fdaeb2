"""Outcome suggestions from the local git history of the projects seen in agent logs (opt-in, local only).

Qt-free and click-free: ``token-ledger outcome suggest`` and the Outcomes page call these. Nothing here runs
unless the ``suggest_from_git`` setting is on (the callers check it). Which repositories are read: the repository
roots that attribution's default-project rule finds for the working folders in ``usage`` (a worktree counts as
its main repository), only those that still exist and hold ``.git``. Each is read with two local commands,
``git log --merges`` and ``git tag --list``, run with a timeout and never anything that talks to a remote.

* A merge commit becomes a ``pr_merged`` suggestion titled from its merge message (for a GitHub-style
  "Merge pull request #12 from user/branch", the PR's title from the message body and ``(#12)``), at the commit
  time.
* A tag becomes a ``shipped_feature`` suggestion ("Tagged v1.2" plus an annotated tag's subject), at the tag's
  date (the tagger date; for a lightweight tag, its commit's date).

A suggestion's project is the project its repository's usage is attributed to (the rules apply; with several,
the one with the most usage rows). Suggestions already logged (same project, same title, same local day) or
dismissed are left out. Dismissals are kept in ``<data dir>/suggestions-dismissed.json``, keyed by a stable hash
of the repository folder and the commit (and the tag name for a tag).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from tracker.analytics.attribution import default_root, load_rules, project_for_path

DISMISSED_FILENAME = "suggestions-dismissed.json"
GIT_TIMEOUT_S = 10.0
_MAX_PER_REPO = 500  # a repository with thousands of merges: the newest are enough to suggest from
_PR_RE = re.compile(r"^Merge pull request #(\d+) from \S+")
_FS, _RS = "\x1f", "\x1e"


@dataclass(frozen=True)
class Suggestion:
    key: str  # stable: hash of repository folder + commit (+ tag name)
    project: str
    repo: str  # the repository's folder
    commit: str
    kind: str  # pr_merged | shipped_feature
    title: str
    at_ms: int
    tag: str | None = None


@dataclass
class SuggestionScan:
    """What a scan found: the suggestions (newest first) and, in plain words, repositories that could not be read."""

    suggestions: list[Suggestion] = field(default_factory=list)
    repos: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# ---- repositories --------------------------------------------------------------------------------------------


def is_git_repo(folder: str) -> bool:
    return os.path.isdir(folder) and os.path.exists(os.path.join(folder, ".git"))


def repo_projects(conn: sqlite3.Connection) -> dict[str, str]:
    """Repository folder -> project, for the working folders in usage whose repository exists on disk."""
    rules = load_rules(conn)
    counts: dict[str, dict[str, int]] = {}
    for path, n in conn.execute(
            "SELECT project_path, count(*) FROM usage WHERE project_path IS NOT NULL GROUP BY project_path"):
        root = default_root(str(path))
        if not is_git_repo(root):
            continue  # not in a repository, or gone from disk
        project = project_for_path(str(path), rules)
        if project is None:
            continue
        per = counts.setdefault(root, {})
        per[project] = per.get(project, 0) + int(n)
    # the project with the most usage in that repository; ties by name, so the choice is stable
    return {root: min(per, key=lambda p: (-per[p], p)) for root, per in sorted(counts.items())}


def _git(repo: str, *args: str) -> str:
    """Run a local, read-only git command in ``repo``; raises OSError/SubprocessError/ValueError on failure."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    # -c options: no fsmonitor daemon or signature checks (they run other programs); no pager, no colour
    cmd = ["git", "-C", repo, "-c", "core.fsmonitor=false", "-c", "log.showSignature=false", "--no-pager", *args]
    done = subprocess.run(cmd, capture_output=True, timeout=GIT_TIMEOUT_S, env=env, check=False,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ValueError(err[0] if err else f"git exited with status {done.returncode}")
    return done.stdout.decode("utf-8", "replace")


def key_of(repo: str, commit: str, tag: str | None = None) -> str:
    text = f"{os.path.normpath(repo)}\0{commit}" + ("" if tag is None else f"\0tag:{tag}")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def merge_title(subject: str, body: str) -> str:
    """The outcome title of a merge commit: a PR's title and number when the message has them, else the subject."""
    subject = " ".join(subject.split())
    m = _PR_RE.match(subject)
    first = next((" ".join(line.split()) for line in body.splitlines() if line.strip()), "")
    if m is not None and first:
        return f"{first} (#{m.group(1)})"
    return subject or "Merge"


def _merges(repo: str, project: str, since_ms: int | None) -> list[Suggestion]:
    args = ["log", "--merges", f"--max-count={_MAX_PER_REPO}", f"--format=%H{_FS}%ct{_FS}%s{_FS}%b{_RS}"]
    if since_ms is not None:
        args.append(f"--since=@{since_ms // 1000}")
    out: list[Suggestion] = []
    for record in _git(repo, *args).split(_RS):
        parts = record.strip("\n").split(_FS)
        if len(parts) != 4 or not parts[0]:
            continue
        commit, ct, subject, body = parts
        at_ms = int(ct) * 1000
        if since_ms is not None and at_ms < since_ms:
            continue
        out.append(Suggestion(key_of(repo, commit), project, repo, commit, "pr_merged",
                              merge_title(subject, body), at_ms))
    return out


def _tags(repo: str, project: str, since_ms: int | None) -> list[Suggestion]:
    fmt = _FS.join(("%(refname:short)", "%(objectname)", "%(*objectname)", "%(creatordate:unix)",
                    "%(contents:subject)"))
    out: list[Suggestion] = []
    for line in _git(repo, "tag", "--list", f"--format={fmt}").splitlines():
        parts = line.split(_FS)
        if len(parts) != 5 or not parts[0] or not parts[3].isdigit():
            continue
        name, obj, peeled, stamp, subject = parts
        commit = peeled or obj  # an annotated tag points at a tag object; its commit is the peeled one
        at_ms = int(stamp) * 1000
        if since_ms is not None and at_ms < since_ms:
            continue
        subject = " ".join(subject.split()) if peeled else ""  # a lightweight tag's "subject" is its commit's
        title = f"Tagged {name}" + (f": {subject}" if subject and subject != name else "")
        out.append(Suggestion(key_of(repo, commit, name), project, repo, commit, "shipped_feature", title, at_ms,
                              tag=name))
    return out


# ---- dismissed -----------------------------------------------------------------------------------------------


def dismissed_path(data_dir: Path) -> Path:
    return data_dir / DISMISSED_FILENAME


def load_dismissed(data_dir: Path) -> dict[str, Any]:
    """Dismissed keys -> what they were (title, project); a missing or damaged file means none."""
    try:
        data = json.loads(dismissed_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    items = data.get("dismissed") if isinstance(data, dict) else None
    return dict(items) if isinstance(items, dict) else {}


def dismiss(data_dir: Path, s: Suggestion) -> None:
    """Remember that ``s`` was dismissed (written atomically)."""
    items = load_dismissed(data_dir)
    items[s.key] = {"title": s.title, "project": s.project, "repo": s.repo, "commit": s.commit,
                    "dismissed_ms": time.time_ns() // 1_000_000}
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = json.dumps({"version": 1, "dismissed": items}, indent=1, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".suggestions-", suffix=".tmp", dir=data_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, dismissed_path(data_dir))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ---- the scan ------------------------------------------------------------------------------------------------


def _day(ms: int, tz: tzinfo) -> date:
    return datetime.fromtimestamp(ms / 1000, tz).date()


def _logged(conn: sqlite3.Connection, tz: tzinfo) -> set[tuple[str, str, date]]:
    return {
        (str(p), " ".join(str(t).split()).casefold(), _day(int(at), tz)) for t, at, p in conn.execute(
            "SELECT o.title, o.at_ms, p.name FROM outcomes o JOIN projects p ON p.id = o.project_id")
    }


def suggest(conn: sqlite3.Connection, data_dir: Path, tz: tzinfo, since_ms: int | None = None) -> SuggestionScan:
    """Suggestions from the repositories of the projects in usage, newest first, without the logged or dismissed.

    ``since_ms``: only merges and tags from then on. Reads git (local commands with a timeout) and the ledger:
    call it off the GUI thread.
    """
    scan = SuggestionScan()
    logged = _logged(conn, tz)
    dismissed = load_dismissed(data_dir)
    found: list[Suggestion] = []
    for repo, project in repo_projects(conn).items():
        scan.repos.append(repo)
        try:
            found += _merges(repo, project, since_ms)
            found += _tags(repo, project, since_ms)
        except FileNotFoundError:
            scan.problems.append("git is not installed (or not on PATH): no suggestions can be made")
            break
        except subprocess.TimeoutExpired:
            scan.problems.append(f"{repo}: git took longer than {GIT_TIMEOUT_S:g} s; skipped")
        except (OSError, ValueError, subprocess.SubprocessError) as e:
            scan.problems.append(f"{repo}: git could not read it ({e}); skipped")
    seen: set[str] = set()
    for s in sorted(found, key=lambda s: (-s.at_ms, s.repo, s.title)):
        if s.key in seen or s.key in dismissed:
            continue
        seen.add(s.key)
        if (s.project, s.title.casefold(), _day(s.at_ms, tz)) in logged:
            continue
        scan.suggestions.append(s)
    return scan


def pick(suggestions: list[Suggestion], ref: str) -> Suggestion:
    """The suggestion numbered ``ref`` (1 = the first listed) or whose key starts with ``ref``."""
    ref = ref.strip()
    if ref.isdigit() and len(ref) < 6:
        n = int(ref)
        if 1 <= n <= len(suggestions):
            return suggestions[n - 1]
        raise ValueError(f"no suggestion #{ref}; there {'is' if len(suggestions) == 1 else 'are'} "
                         f"{len(suggestions)} (see `token-ledger outcome suggest`)")
    matches = [s for s in suggestions if ref and s.key.startswith(ref.lower())]
    if len(matches) != 1:
        raise ValueError(f"no suggestion {ref!r}; give its number from `token-ledger outcome suggest`")
    return matches[0]


def accept(conn: sqlite3.Connection, s: Suggestion) -> int:
    """Log ``s`` as an outcome (kind, time, project and title from git; status kept); returns its id."""
    from tracker.outcomes import OutcomeFields, add_outcome

    notes = f"From git: {s.repo} {'tag ' + s.tag if s.tag else 'commit ' + s.commit[:12]}"
    return add_outcome(conn, OutcomeFields(title=s.title, kind=s.kind, at_ms=s.at_ms, project=s.project,
                                           notes=notes, tags=["git"]))


def accept_in(db: Path, s: Suggestion) -> int:
    """:func:`accept` in one write transaction of the ledger at ``db`` (for the app's workers)."""
    from tracker.store import open_store

    with open_store(db) as store, store.transaction() as conn:
        return accept(conn, s)


def suggest_in(db: Path, data_dir: Path, tz: tzinfo, since_ms: int | None = None) -> SuggestionScan:
    """:func:`suggest` on the ledger at ``db`` (for the app's workers); no ledger yet means no suggestions."""
    from tracker.store import open_store

    if not db.exists():
        return SuggestionScan()
    with open_store(db, create=False) as store:
        return suggest(store.conn, data_dir, tz, since_ms)
