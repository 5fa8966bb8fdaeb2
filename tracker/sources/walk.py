"""Fast listing of log files below a folder, by real path.

Every sync lists every log file (thousands of them) before it knows whether anything changed, so this is on
the path of every warm sync. It uses ``os.scandir`` and plain strings: the kind of each entry comes from the
directory listing itself (no system call on Linux and macOS), and only the top folder and symbolic links are
resolved with ``realpath`` (a child of a real folder that is not a link is itself real). ``pathlib`` objects
cost more than the system calls here, so none are made.
"""

from __future__ import annotations

import os

# A file found: its real path, and its directory entry (``entry.stat()`` is the file's, links followed).
Found = tuple[str, os.DirEntry[str]]


def walk_files(top: str, suffixes: tuple[str, ...], *, recursive: bool = True) -> list[Found]:
    """The files below ``top`` whose names end with one of ``suffixes`` (unsorted).

    Symbolic links to files and folders are followed; each real folder is listed once, so a link loop or a
    second link to the same folder adds nothing. A missing or unreadable folder is skipped silently.
    """
    found: list[Found] = []
    visited: set[str] = set()
    stack = [os.path.realpath(top)]
    while stack:
        real_dir = stack.pop()
        if real_dir in visited:
            continue  # a symlinked duplicate, or a loop
        visited.add(real_dir)
        try:
            with os.scandir(real_dir) as it:
                entries = list(it)
        except OSError:
            continue  # missing, not a folder, or no permission: nothing to read there
        prefix = real_dir if real_dir.endswith(os.sep) else real_dir + os.sep
        for entry in entries:
            _visit(entry, prefix, suffixes, stack if recursive else None, found)
    return found


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
            out.append((path, entry.stat()))
        except OSError as e:
            out.append((path, e))
    return out
