"""Incremental, bounded-memory reading of append-only JSONL logs.

Agent logs can be hundreds of megabytes, and most of their bytes are prompts and tool output that carry no
usage. :func:`scan_lines` reads a file in fixed-size chunks from a byte offset and yields only

* the complete lines that contain one of the given byte markers (cheap ``bytes.find`` at C speed), and
* the complete lines that are structurally not a JSON object (do not start with ``{`` and end with ``}``),
  so that the caller can report them as malformed.

A final fragment without a newline is never yielded: ``stats.end_offset`` stops before it, so it is read
again, complete, on the next pass. Lines are split on LF only; a trailing CR is stripped.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_SIZE = 4 << 20


@dataclass(slots=True)
class ScanStats:
    """Filled in while :func:`scan_lines` runs; final once the generator is exhausted."""

    end_offset: int = 0  # just past the last complete line consumed
    lines: int = 0  # complete lines consumed (blank lines included)
    bytes_read: int = 0


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


def _clean_structure(block: bytes, newlines: int) -> bool:
    """True when every line of ``block`` (complete lines only) ends with ``}``: the shape of a healthy log.

    One C-speed pass. A cut-off write, a line of garbage, a blank or CRLF line all fail it, and the block is
    then looked at line by line. Lines that carry a marker are parsed by the caller anyway.
    """
    return block.count(b"}\n") == newlines


def _iter_block(
    block: bytes, newlines: int, markers: tuple[bytes, ...] | None, first_line_no: int
) -> Iterator[tuple[int, bytes]]:
    """Yield (line_no, line) from a block of complete lines. ``first_line_no`` is the 1-based number of its first line."""
    if markers is None or not _clean_structure(block, newlines):
        # Every line: either the caller wants them all, or something in this block is broken and we must
        # look at each line to find it (rare; a clean log never takes this path).
        line_no = first_line_no
        start = 0
        end_all = len(block)
        while start < end_all:
            end = block.find(b"\n", start)
            line = block[start:end]
            if line.endswith(b"\r"):
                line = line[:-1]
            if line:
                if markers is None:
                    yield line_no, line
                elif not (line.startswith(b"{") and line.endswith(b"}")) or any(m in line for m in markers):
                    yield line_no, line
            line_no += 1
            start = end + 1
        return
    # Each marker's next position is searched again only once the scan has passed it, so a rare marker costs
    # one pass over the block, not one per hit of another marker.
    nexts = [block.find(m) for m in markers]
    counted_to = 0
    line_no = first_line_no
    while True:
        i = min((p for p in nexts if p != -1), default=-1)
        if i == -1:
            return
        start = block.rfind(b"\n", 0, i) + 1
        end = block.find(b"\n", i)
        line_no += block.count(b"\n", counted_to, start)
        counted_to = start
        line = block[start:end]
        if line.endswith(b"\r"):
            line = line[:-1]
        yield line_no, line
        pos = end + 1
        for k, p in enumerate(nexts):
            if p != -1 and p < pos:
                nexts[k] = block.find(markers[k], pos)


def scan_lines(
    path: str | Path,
    offset: int,
    stats: ScanStats,
    *,
    markers: tuple[bytes, ...] | None = None,
    first_line_no: int = 1,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_no, line)`` for interesting complete lines of ``path`` from byte ``offset``.

    With ``markers=None`` every non-blank complete line is yielded. ``first_line_no`` is the number of the
    line that starts at ``offset`` (for messages only). ``stats`` is updated as reading proceeds, so a
    caller that stops early still knows how far it got.
    """
    stats.end_offset = offset
    with open_log(path) as f:
        _seek(f, offset)
        carry = b""
        base = offset  # file offset of carry[0]
        line_no = first_line_no
        while True:
            buf = f.read(chunk_size)
            if not buf:
                return
            stats.bytes_read += len(buf)
            data = carry + buf if carry else buf
            last_nl = data.rfind(b"\n")
            if last_nl == -1:
                carry = data  # one line longer than a chunk: keep reading until its newline arrives
                continue
            block = data[: last_nl + 1]
            carry = data[last_nl + 1 :]
            n = block.count(b"\n")
            yield from _iter_block(block, n, markers, line_no)
            line_no += n
            stats.lines += n
            base += last_nl + 1
            stats.end_offset = base
