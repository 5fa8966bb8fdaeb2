"""Fast listing of log files below a folder, by real path.

Every sync lists every log file (thousands of them) before it knows whether anything changed, so this is on
the path of every warm sync. It uses ``os.scandir`` and plain strings: the kind of each entry comes from the
directory listing itself (no system call on Linux and macOS), and only the top folder and symbolic links are
resolved with ``realpath`` (a child of a real folder that is not a link is itself real). ``pathlib`` objects
cost more than the system calls here, so none are made.

A :class:`DirCache` (optional) remembers folder listings: a folder whose identity, mtime and ctime are those
it had when it was listed is not listed again (adding, removing or renaming an entry changes the folder's
mtime and ctime). Files are still stat'ed one by one by :func:`with_stats`: an append changes the file, not
its folder. The CLI's fast path uses it (``tracker.cli.fast``); the importer lists every folder.
"""

from __future__ import annotations

import marshal
import os
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy and ruff know the name)
if TYPE_CHECKING:
    from collections.abc import Mapping

# A file found: its real path, and its directory entry (``entry.stat()`` is the file's, links followed), or
# None when the listing came from a DirCache (``os.stat(path)`` then).
Found = tuple[str, "os.DirEntry[str] | None"]

# A folder whose mtime or ctime is this close to the time it was listed may change again within the
# timestamp granularity of its file system (up to 2 s on FAT) without the stamps moving: never reused.
SETTLE_NS = 3_000_000_000
_CACHE_FORMAT = 1


class DirCache:
    """Folder listings reused while the folder is unchanged; loaded from and saved to a small file.

    An entry maps (real folder, suffixes) to (dev, inode, mtime_ns, ctime_ns, subfolder names, file names),
    recorded from a ``stat`` taken *before* the listing, so a change during the listing makes the next
    ``stat`` differ. Folders holding symbolic links and folders changed within :data:`SETTLE_NS` of their
    listing are not cached. The file holds nothing but these listings; deleting it only costs one full walk.
    """

    def __init__(self, entries: dict[tuple[str, tuple[str, ...]], tuple[object, ...]] | None = None) -> None:
        self.entries = {} if entries is None else entries
        self.used: dict[tuple[str, tuple[str, ...]], tuple[object, ...]] = {}  # what this run saw: saved

    @classmethod
    def load(cls, path: str) -> DirCache:
        """The cache saved at ``path``; an empty one if there is none or it cannot be read."""
        try:
            with open(path, "rb") as f:
                data = marshal.loads(f.read())  # marshal.load(f) reads in small pieces: several times slower
        except (OSError, EOFError, ValueError, TypeError):
            return cls()
        if isinstance(data, tuple) and len(data) == 2 and data[0] == _CACHE_FORMAT and isinstance(data[1], dict):
            return cls(data[1])
        return cls()

    def save(self, path: str) -> None:
        """Write what this run saw (dropping folders it did not visit), if that differs from what was loaded."""
        if self.used == self.entries:
            return
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            # private like the ledger: it names the log folders (and so the projects)
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
                f.write(marshal.dumps((_CACHE_FORMAT, self.used)))
            os.replace(tmp, path)  # atomic: a reader sees the old or the new cache, whole
        except OSError:  # the cache is optional: a run that cannot save it just lists again next time
            try:
                os.unlink(tmp)
            except OSError:
                return

    def listing(self, real_dir: str, suffixes: tuple[str, ...]) -> tuple[list[str], list[str]] | None:
        """(subfolder names, file names) of ``real_dir`` if its cached listing is still true, else None.

        Costs one ``stat`` of the folder. A folder that cannot be stat'ed is None (then listed, or skipped).
        """
        key = (real_dir, suffixes)
        entry = self.entries.get(key)
        if entry is None:
            return None
        try:
            st = os.stat(real_dir)
        except OSError:
            return None
        if entry[:4] != (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns):
            return None
        self.used[key] = entry
        return entry[4], entry[5]  # type: ignore[return-value]

    def remember(
        self, real_dir: str, suffixes: tuple[str, ...], st: os.stat_result, subdirs: list[str], files: list[str]
    ) -> None:
        """Record a listing of ``real_dir`` taken after ``st`` was (unless the folder changed too recently)."""
        if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < SETTLE_NS:
            return
        self.used[(real_dir, suffixes)] = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, subdirs, files)


def walk_files(
    top: str, suffixes: tuple[str, ...], *, recursive: bool = True, cache: DirCache | None = None
) -> list[Found]:
    """The files below ``top`` whose names end with one of ``suffixes`` (unsorted).

    Symbolic links to files and folders are followed; each real folder is listed once, so a link loop or a
    second link to the same folder adds nothing. A missing or unreadable folder is skipped silently. With a
    ``cache``, folders unchanged since their cached listing are not listed again (see :class:`DirCache`).
    """
    found: list[Found] = []
    visited: set[str] = set()
    stack = [os.path.realpath(top)]
    while stack:
        real_dir = stack.pop()
        if real_dir in visited:
            continue  # a symlinked duplicate, or a loop
        visited.add(real_dir)
        prefix = real_dir if real_dir.endswith(os.sep) else real_dir + os.sep
        if cache is not None:
            cached = cache.listing(real_dir, suffixes)
            if cached is not None:
                if recursive:
                    stack.extend(prefix + name for name in cached[0])
                found.extend([(prefix + name, None) for name in cached[1]])
                continue
        _list(real_dir, prefix, suffixes, recursive, found, stack, cache)
    return found


def _list(  # noqa: PLR0917 (the walk's state, passed rather than wrapped in an object)
    real_dir: str, prefix: str, suffixes: tuple[str, ...], recursive: bool, found: list[Found], stack: list[str],
    cache: DirCache | None,
) -> None:
    """List ``real_dir`` into ``found`` and ``stack`` (and the cache)."""
    try:
        st = os.stat(real_dir) if cache is not None else None  # before the listing: see DirCache
        with os.scandir(real_dir) as it:
            entries = list(it)
    except OSError:
        return  # missing, not a folder, or no permission: nothing to read there
    start_found, start_stack = len(found), len(stack)
    links = False
    for entry in entries:
        links = links or entry.is_symlink()
        _visit(entry, prefix, suffixes, stack if recursive else None, found)
    # Only recursive listings are cached: a flat one did not look at subfolders (the archive folder only).
    if cache is not None and st is not None and recursive and not links:
        subdirs = [d[len(prefix) :] for d in stack[start_stack:]]
        files = [f[0][len(prefix) :] for f in found[start_found:]]
        cache.remember(real_dir, suffixes, st, subdirs, files)


def _visit(
    entry: os.DirEntry[str], prefix: str, suffixes: tuple[str, ...], stack: list[str] | None, found: list[Found]
) -> None:
    """File or folder ``entry`` of the real folder ``prefix`` (which ends with a separator)."""
    try:
        link = entry.is_symlink()  # from d_type: no system call on Linux and macOS
        if entry.is_dir():  # follows links (one stat for a link)
            if stack is not None:
                stack.append(os.path.realpath(entry.path) if link else prefix + entry.name)
        elif entry.name.endswith(suffixes) and entry.is_file():
            found.append((os.path.realpath(entry.path) if link else prefix + entry.name, entry))
    except OSError:
        pass  # vanished or unreadable while walking


def with_stats(found: list[Found]) -> list[tuple[str, os.stat_result | OSError]]:
    """(path, stat) of each file, in the given order; the error instead of a stat for a file that cannot be."""
    out: list[tuple[str, os.stat_result | OSError]] = []
    for path, entry in found:
        try:
            out.append((path, os.stat(path) if entry is None else entry.stat()))
        except OSError as e:
            out.append((path, e))
    return out


# --- where each source's files are ---------------------------------------------------------------------
# The discovery rules of the Claude Code and Codex sources, on plain strings, so that the CLI's fast path
# (``tracker.cli.fast``) can list exactly the files a sync would, without importing the source modules (they
# import the parsers). tests/test_fast_path.py checks these agree with ``SOURCE.roots``/``discover_stats``.


def claude_roots(env: Mapping[str, str], home: str) -> list[str]:
    """Config dirs to read: ``CLAUDE_CONFIG_DIR`` entries only when set, else ``~/.claude`` and XDG's."""
    entries = [e.strip() for e in env.get("CLAUDE_CONFIG_DIR", "").split(",")]
    configured = [_claude_config_dir(_expand_home(e, home)) for e in entries if e]
    if configured:
        return list(dict.fromkeys(configured))
    # An empty or all-blank CLAUDE_CONFIG_DIR (e.g. `CLAUDE_CONFIG_DIR= claude`) counts as unset.
    xdg = env.get("XDG_CONFIG_HOME", "").strip()
    # The XDG spec says relative values are invalid and must be ignored.
    xdg_dir = os.path.normpath(xdg) if xdg and os.path.isabs(xdg) else os.path.join(home, ".config")
    # Claude Code 1.0.30 moved data to the XDG dir and later partly moved it back: both may hold logs.
    return list(dict.fromkeys([os.path.join(home, ".claude"), os.path.join(xdg_dir, "claude")]))


def _expand_home(entry: str, home: str) -> str:
    if entry == "~":
        return home
    if entry.startswith("~/"):
        return os.path.normpath(os.path.join(home, entry[2:]))
    return os.path.normpath(entry)


def _claude_config_dir(path: str) -> str:
    """Accept the ``projects`` dir itself as well as the config dir that contains it (as ccusage does)."""
    inner = os.path.join(path, "projects")
    if os.path.basename(path) == "projects" and os.path.isdir(path) and not os.path.isdir(inner):
        return os.path.dirname(path)
    return path


def claude_files(roots: list[str], cache: DirCache | None = None) -> list[Found]:
    """Every ``projects/**/*.jsonl`` under ``roots`` (sub-agent files included), by real path, sorted."""
    found: dict[str, Found] = {}
    for root in roots:
        for item in walk_files(os.path.join(root, "projects"), (".jsonl",), cache=cache):
            found.setdefault(item[0], item)
    return [found[p] for p in sorted(found)]


CODEX_SUFFIXES = (".jsonl", ".jsonl.zst")


def codex_roots(env: Mapping[str, str], home: str) -> list[str]:
    """``$CODEX_HOME`` (a comma list is accepted, as by ccusage), else ``~/.codex``."""
    homes = [os.path.normpath(os.path.expanduser(p.strip())) for p in env.get("CODEX_HOME", "").split(",") if p.strip()]
    return homes or [os.path.join(home, ".codex")]


def codex_files(roots: list[str], cache: DirCache | None = None) -> dict[str, Found]:
    """Rollouts under ``sessions/**`` and ``archived_sessions/*`` of each root, by real path (unordered)."""
    return {item[0]: item for root in roots for item in _codex_root_files(root, cache)}


def _codex_base_name(name: str) -> str:
    """The rollout's name without ``.zst``: a compressed and a plain copy are the same rollout."""
    return name[:-4] if name.endswith(".zst") else name


def _prefer_plain(files: list[Found]) -> dict[str, Found]:
    """One file per rollout name; the plain file wins over ``.zst`` (the writer decompresses to append)."""
    by_name: dict[str, Found] = {}
    for item in sorted(files, key=lambda q: (q[0].endswith(".zst"), q[0])):
        by_name.setdefault(_codex_base_name(os.path.basename(item[0])), item)
    return by_name


def _codex_root_files(root: str, cache: DirCache | None = None) -> list[Found]:
    """Real paths of the rollouts of one ``$CODEX_HOME``."""
    active = _prefer_plain(walk_files(os.path.join(root, "sessions"), CODEX_SUFFIXES, cache=cache))
    old = _prefer_plain(
        walk_files(os.path.join(root, "archived_sessions"), CODEX_SUFFIXES, recursive=False, cache=cache)
    )
    # Archiving moves a rollout; if both copies exist, the sessions/ one is the live one (as ccusage).
    return [*active.values(), *(p for n, p in old.items() if n not in active)]
