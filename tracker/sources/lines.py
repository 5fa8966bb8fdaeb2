"""Incremental, bounded-memory reading of append-only JSONL logs.

Agent logs can be hundreds of megabytes, and most of their bytes are prompts and tool output that carry no
usage. A :class:`LineScanner` reads a file in fixed-size chunks from a byte offset and yields only

* the complete lines that contain one of the given byte markers (cheap ``bytes.find`` at C speed), and
* the complete lines that are structurally not a JSON object (do not start with ``{`` and end with ``}``),
  so that the caller can report them as malformed.

A final fragment without a newline is never yielded: ``end_offset`` stops before it, so it is read again,
complete, on the next pass. Lines are split on LF only; a trailing CR is stripped.

Line numbers are only needed for messages about malformed lines, so they are counted lazily
(:meth:`LineScanner.line_no`), never per yielded line.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK_SIZE = 4 << 20
_OPEN_BRACE, _CLOSE_BRACE = ord("{"), ord("}")


def open_log(path: str | Path) -> BinaryIO:
    """Open a log for binary reading; ``.zst`` files are decompressed on the fly."""
    p = str(path)
    raw = open(p, "rb")  # noqa: SIM115 - handed to the caller, who closes it
    if p.endswith(".zst"):
        import zstandard

        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True))
    return raw


def _seek(f: BinaryIO, offset: int) -> None:
    if offset <= 0:
        return
    if f.seekable():
        f.seek(offset)
        return
    remaining = offset  # a decompressing stream: skip forward
    while remaining > 0:
        got = f.read(min(remaining, CHUNK_SIZE))
        if not got:
            break
        remaining -= len(got)


def _clean_lines(block: bytes, start: int, end: int) -> int | None:
    """The number of lines of ``block[start:end]`` when every one starts with ``{`` and ends with ``}`` (the
    shape of a healthy log), else None.

    A cut-off write, a line of garbage, a blank or a CRLF line all fail the check, and the block is then
    looked at line by line. One ``find`` per line: ``bytes.find`` of one byte is a vectorised ``memchr``,
    several times faster over long JSONL lines than ``bytes.count`` (a plain byte loop).
    """
    find = block.find
    n = 0
    pos = start
    while (nl := find(b"\n", pos, end)) != -1:
        if nl == pos or block[nl - 1] != _CLOSE_BRACE or block[pos] != _OPEN_BRACE:
            return None
        n += 1
        pos = nl + 1
    return n


class LineScanner:
    """Iterate over the interesting complete lines of ``path`` from byte ``offset`` (see the module doc).

    With ``markers=None`` every non-blank complete line is yielded. ``first_line_no`` is the number of the
    line that starts at ``offset`` (for messages only). ``end_offset``, ``lines`` (complete lines consumed,
    blank ones included) and ``bytes_read`` are updated as reading proceeds, so a caller that stops early
    still knows how far it got.
    """

    def __init__(
        self,
        path: str | Path,
        offset: int,
        *,
        markers: tuple[bytes, ...] | None = None,
        first_line_no: int = 1,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.path = path
        self.offset = offset
        self.markers = markers
        self.chunk_size = chunk_size
        self.end_offset = offset
        self.lines = 0
        self.bytes_read = 0
        # Lazy line numbering: the current block, where the last yielded line starts in it, and how far
        # newlines have been counted so far (position, line number there).
        self._block = b""
        self._start = 0
        self._counted_to = 0
        self._counted_line = first_line_no
        self._next_block_line = first_line_no

    def line_no(self) -> int:
        """The 1-based line number of the line yielded last (one ``count`` over the bytes since the last call)."""
        self._counted_line += self._block.count(b"\n", self._counted_to, self._start)
        self._counted_to = self._start
        return self._counted_line

    def __iter__(self) -> Iterator[bytes]:
        # The complete lines of each chunk are scanned in place, by bounds: copying them out (joining the
        # previous chunk's tail to the next chunk, then cutting the complete part) cost half as much again as
        # reading. Only a line that spans two chunks is joined, on its own.
        with open_log(self.path) as f:
            _seek(f, self.offset)
            tail: list[bytes] = []  # the start of a line that continues in the next chunk
            while True:
                buf = f.read(self.chunk_size)
                if not buf:
                    return
                self.bytes_read += len(buf)
                start = 0
                if tail:
                    nl = buf.find(b"\n")
                    if nl == -1:
                        tail.append(buf)  # a line longer than a chunk: keep reading until its newline arrives
                        continue
                    tail.append(buf[: nl + 1])
                    joined = b"".join(tail)
                    tail = []
                    yield from self._scan(joined, 0, len(joined))
                    start = nl + 1
                last_nl = buf.rfind(b"\n", start)
                if last_nl == -1:
                    if start < len(buf):
                        tail.append(buf[start:])
                    continue
                yield from self._scan(buf, start, last_nl + 1)
                if last_nl + 1 < len(buf):
                    tail.append(buf[last_nl + 1 :])

    def _scan(self, block: bytes, start: int, end: int) -> Iterator[bytes]:
        """The interesting lines of the complete lines ``block[start:end]``; then the counters move past them."""
        self._block, self._counted_to, self._start = block, start, start
        self._counted_line = self._next_block_line
        n = yield from self._iter_block(block, start, end)
        self._next_block_line += n
        self.lines += n
        self.end_offset += end - start

    def _iter_block(self, block: bytes, start: int, end: int) -> Generator[bytes, None, int]:
        """Yield the interesting lines of ``block[start:end]`` (complete lines); return how many lines it has."""
        markers = self.markers
        if markers is None or (n := _clean_lines(block, start, end)) is None:
            # Every line: either the caller wants them all, or something in this block is broken and each
            # line must be looked at to find it (rare; a clean log never takes this path).
            return (yield from self._every_line(block, start, end, markers))
        if len(markers) == 1:
            yield from self._marked_lines(block, start, end, markers[0])
        else:
            yield from self._multi_marked_lines(block, start, end, markers)
        return n

    def _every_line(
        self, block: bytes, start: int, end_all: int, markers: tuple[bytes, ...] | None
    ) -> Generator[bytes, None, int]:
        """Every line (``markers`` None), or the marked and the structurally broken ones; returns the count."""
        count = 0
        while start < end_all:
            end = block.find(b"\n", start, end_all)
            count += 1
            line = block[start:end]
            if line.endswith(b"\r"):
                line = line[:-1]
            if line and (
                markers is None
                or not (line.startswith(b"{") and line.endswith(b"}"))
                or any(m in line for m in markers)
            ):
                self._start = start
                yield line
            start = end + 1
        return count

    # In the two scans below, ``block[start - 1]`` is a newline (or ``start`` is 0), so looking back for a
    # line's start never needs a lower bound; ``block[end - 1]`` is a newline, so every marked line ends.

    def _marked_lines(self, block: bytes, start: int, end_all: int, marker: bytes) -> Iterator[bytes]:
        """Lines containing ``marker`` in a clean block (so no line ends with CR)."""
        find = block.find
        i = find(marker, start, end_all)
        while i != -1:
            line_start = block.rfind(b"\n", 0, i) + 1
            end = find(b"\n", i, end_all)
            self._start = line_start
            yield block[line_start:end]
            i = find(marker, end + 1, end_all)

    def _multi_marked_lines(
        self, block: bytes, start: int, end_all: int, markers: tuple[bytes, ...]
    ) -> Iterator[bytes]:
        """Lines containing any of ``markers`` in a clean block, in order.

        Each marker's next position is searched again only once the scan has passed it, so a rare marker
        costs one pass over the block, not one per hit of another marker.
        """
        nexts = [block.find(m, start, end_all) for m in markers]
        while True:
            i = -1
            for p in nexts:
                if p != -1 and (i == -1 or p < i):
                    i = p
            if i == -1:
                return
            line_start = block.rfind(b"\n", 0, i) + 1
            end = block.find(b"\n", i, end_all)
            self._start = line_start
            yield block[line_start:end]
            pos = end + 1
            for k, p in enumerate(nexts):
                if p != -1 and p < pos:
                    nexts[k] = block.find(markers[k], pos, end_all)
