"""Local usage sources: one module per agent log format.

Each source module exposes a module-level object ``SOURCE`` that satisfies :class:`LogSource`. A source
receives paths and a cursor (offset, line number, parser state) and returns records and the new cursor
position in a :class:`~tracker.domain.ParseResult`. It never touches the database: the importer in
``tracker.ledger`` stores what it returns, together with the cursor, in one transaction.
"""

from __future__ import annotations

# The protocol lives in base.py and is imported lazily: the warm `sync` fast path imports this package and
# must not pay for typing/pathlib/domain on every run.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from tracker.sources.base import LogSource as LogSource


def __getattr__(name: str) -> object:
    if name == "LogSource":
        from tracker.sources.base import LogSource

        return LogSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def all_sources() -> list[LogSource]:
    """Every local source, in display order."""
    import tracker.sources.claude_code as claude_code  # noqa: PLR0402 - mypy needs the full form here
    import tracker.sources.codex as codex  # noqa: PLR0402

    return [claude_code.SOURCE, codex.SOURCE]


def get_source(name: str) -> LogSource:
    for s in all_sources():
        if s.name == name:
            return s
    raise KeyError(name)
