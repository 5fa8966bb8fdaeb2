"""What the scheduler watches for local log changes (plain functions, run on a worker; no Qt).

QFileSystemWatcher is not recursive and a directory watch fires only when entries are added or removed, not when a
file inside grows. So the roots and their ``projects``/``sessions`` folders are watched for new folders, plus the
folders and log files written to recently (live sessions append to these). The 60 s poll catches the rest.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

RECENT_S = 3600  # files and folders changed within the last hour are the live ones
MAX_FILES = 64  # inotify watches are a shared, limited resource
_SUBFOLDERS = ("projects", "sessions")


def log_roots(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """Every local source's roots, existing or not."""
    from tracker.sources import all_sources

    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    return [root for source in all_sources() for root in source.roots(env, home)]


def _recent_children(folder: str, now_s: float, depth: int, out_dirs: list[str], out_files: list[str]) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            mtime = entry.stat().st_mtime
            is_dir = entry.is_dir()
        except OSError:
            continue
        if now_s - mtime > RECENT_S:
            continue
        if is_dir and depth > 0:
            out_dirs.append(entry.path)
            _recent_children(entry.path, now_s, depth - 1, out_dirs, out_files)
        elif entry.name.endswith(".jsonl") and len(out_files) < MAX_FILES:
            out_files.append(entry.path)


def watch_targets(roots: list[Path], now_s: float) -> list[str]:
    """Existing roots, their projects/sessions folders, and recently written folders and log files below them."""
    dirs: list[str] = []
    files: list[str] = []
    for root in roots:
        if not root.is_dir():
            continue
        dirs.append(str(root))
        for name in _SUBFOLDERS:
            sub = root / name
            if sub.is_dir():
                dirs.append(str(sub))
                _recent_children(str(sub), now_s, 3, dirs, files)  # codex: sessions/YYYY/MM/DD
    return sorted(set(dirs)) + sorted(set(files))
