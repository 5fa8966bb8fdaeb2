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
_CLOSE_BRACE = ord("}")


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


def _clean_lines(block: bytes) -> int | None:
    """The number of lines of ``block`` when every one ends with ``}`` (the shape of a healthy log), else None.

    A cut-off write, a line of garbage, a blank or a CRLF line all fail the check, and the block is then
    looked at line by line. One ``find`` per line: ``bytes.find`` of one byte is a vectorised ``memchr``,
    several times faster over long JSONL lines than ``bytes.count`` (a plain byte loop).
    """
    find = block.find
    n = 0
    pos = 0
    while (end := find(b"\n", pos)) != -1:
        if end == pos or block[end - 1] != _CLOSE_BRACE:
            return None
        n += 1
        pos = end + 1
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
        with open_log(self.path) as f:
            _seek(f, self.offset)
            carry = b""
            while True:
                buf = f.read(self.chunk_size)
                if not buf:
                    return
                self.bytes_read += len(buf)
                data = carry + buf if carry else buf
                last_nl = data.rfind(b"\n")
                if last_nl == -1:
                    carry = data  # one line longer than a chunk: keep reading until its newline arrives
                    continue
                block = data[: last_nl + 1]
                carry = data[last_nl + 1 :]
                self._block, self._counted_to, self._start = block, 0, 0
                self._counted_line = self._next_block_line
                n = yield from self._iter_block(block)
                self._next_block_line += n
                self.lines += n
                self.end_offset += last_nl + 1

    def _iter_block(self, block: bytes) -> Generator[bytes, None, int]:
        """Yield the interesting lines of a block of complete lines; return how many lines it has."""
        markers = self.markers
        if markers is None or (n := _clean_lines(block)) is None:
            # Every line: either the caller wants them all, or something in this block is broken and each
            # line must be looked at to find it (rare; a clean log never takes this path).
            return (yield from self._every_line(block, markers))
        if len(markers) == 1:
            yield from self._marked_lines(block, markers[0])
        else:
            yield from self._multi_marked_lines(block, markers)
        return n

    def _every_line(self, block: bytes, markers: tuple[bytes, ...] | None) -> Generator[bytes, None, int]:
        """Every line (``markers`` None), or the marked and the structurally broken ones; returns the count."""
        start = 0
        count = 0
        end_all = len(block)
        while start < end_all:
            end = block.find(b"\n", start)
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

    def _marked_lines(self, block: bytes, marker: bytes) -> Iterator[bytes]:
        """Lines containing ``marker`` in a clean block (so no line ends with CR)."""
        find = block.find
        i = find(marker)
        while i != -1:
            start = block.rfind(b"\n", 0, i) + 1
            end = find(b"\n", i)
            self._start = start
            yield block[start:end]
            i = find(marker, end + 1)

    def _multi_marked_lines(self, block: bytes, markers: tuple[bytes, ...]) -> Iterator[bytes]:
        """Lines containing any of ``markers`` in a clean block, in order.

        Each marker's next position is searched again only once the scan has passed it, so a rare marker
        costs one pass over the block, not one per hit of another marker.
        """
        nexts = [block.find(m) for m in markers]
        while True:
            i = -1
            for p in nexts:
                if p != -1 and (i == -1 or p < i):
                    i = p
            if i == -1:
                return
            start = block.rfind(b"\n", 0, i) + 1
            end = block.find(b"\n", i)
            self._start = start
            yield block[start:end]
            pos = end + 1
            for k, p in enumerate(nexts):
                if p != -1 and p < pos:
                    nexts[k] = block.find(markers[k], pos)
