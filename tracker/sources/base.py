"""The contract of a local usage source (see the package docstring)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from tracker.domain import ParseResult


class LogSource(Protocol):
    """The contract every local log source implements."""

    name: str  # a SourceKind value, e.g. "claude_code"
    label: str  # for people, e.g. "Claude Code"

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """The folders this source reads, from environment overrides or defaults (existing or not)."""
        ...

    def discover(self, roots: list[Path]) -> list[Path]:
        """All log files under ``roots``, deduplicated by real path, in the order they must be parsed."""
        ...

    def parse(
        self, path: Path, offset: int, state: dict[str, object] | None, first_line_no: int, seen: set[str]
    ) -> ParseResult:
        """Parse complete lines of ``path`` from byte ``offset``.

        ``state`` is what the previous parse of this file returned (None when starting from 0). ``seen`` is
        the source's global dedup context (for Codex: snapshot keys already counted in any file); the
        parser adds to it and lists the keys it added in ``ParseResult.seen_keys``.
        """
        ...
