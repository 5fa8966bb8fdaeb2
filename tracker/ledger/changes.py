"""Which discovered log files need reading, given their stored cursors.

One rule, used by the importer (to plan a sync) and by the CLI's fast path (to prove a sync has nothing to
do without importing the importer): a file whose device, inode, size and mtime equal its cursor's is
unchanged and not a byte of it is read; a file with the same identity that grew is read on from its
offset; a file that was replaced, truncated or is compressed (rewritten whole) is read again from the
start. Import-light: only ``os``.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy and ruff know the name)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

UNCHANGED, NEW, GREW, RESET = "unchanged", "new", "grew", "reset"

# What a cursor contributes to the decision: (dev, inode, size, mtime_ns, offset), as stored in ``files``.
CursorKey = tuple[int, int, int, int, int]


def classify(path: str, st: os.stat_result, cursor: CursorKey | None) -> str:
    """:data:`UNCHANGED`, :data:`NEW` (no cursor), :data:`GREW` (read on from the offset) or :data:`RESET`."""
    if cursor is None:
        return NEW
    dev, inode, size, mtime_ns, offset = cursor
    if dev == st.st_dev and inode == st.st_ino and size == st.st_size and mtime_ns == st.st_mtime_ns:
        return UNCHANGED
    if dev != st.st_dev or inode != st.st_ino or st.st_size < offset or path.endswith(".zst"):
        return RESET  # replaced, truncated or rewritten (compressed files are rewritten whole): start again
    return GREW


def vanished(cursor_paths: Iterable[str], listed: Iterable[tuple[str, object]]) -> set[str]:
    """Paths with a cursor that the listing no longer has (their rows stay; the importer marks them missing)."""
    return set(cursor_paths) - {path for path, _st in listed}


def nothing_to_read(
    listed: list[tuple[str, os.stat_result | OSError]], cursors: Mapping[str, CursorKey], missing: set[str]
) -> bool:
    """True when a sync of this listing would read nothing, report no error and change no cursor.

    ``missing`` holds the paths whose cursor is already marked missing: such a file being absent again changes
    nothing, any other vanished file must be marked (a write), so the answer is False.
    """
    for path, st in listed:
        if isinstance(st, OSError) or classify(path, st, cursors.get(path)) != UNCHANGED:
            return False
    return vanished(cursors, listed) <= missing


# The stored side of :func:`same_as_cursors`: run with the source's name; rows sorted by path.
STORED_IDENTITIES_SQL = (
    "SELECT path, dev, inode, size, mtime_ns FROM files WHERE source = ? AND missing = 0 ORDER BY path"
)


def same_as_cursors(
    listed: list[tuple[str, os.stat_result | OSError]], stored: list[tuple[str, int, int, int, int]]
) -> bool:
    """True when the listing is exactly the stored cursors not marked missing, each with its stored identity.

    ``stored`` are the rows of :data:`STORED_IDENTITIES_SQL`. A strict and cheap form of
    :func:`nothing_to_read` (one list comparison in C instead of a call per file): True implies that every
    file is :data:`UNCHANGED` and no unmarked file vanished. It is False in one case where nothing needs
    reading: a file marked missing that came back unchanged (the importer then reads nothing either).
    """
    mine: list[tuple[str, int, int, int, int]] = []
    for path, st in listed:
        if isinstance(st, OSError):
            return False
        mine.append((path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    mine.sort()  # by path (unique), as SQLite orders it: UTF-8 byte order is code point order
    return mine == stored
