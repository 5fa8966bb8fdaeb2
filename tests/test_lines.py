"""LineScanner against a plain reference: the same lines, line numbers and offsets for any chunk size.

The scanner reads fixed-size chunks and scans their complete lines in place (by bounds), joining only a line
that spans chunks. This property test cuts random logs (clean lines, marked lines, blanks, CRLF, garbage,
lines longer than a chunk, an unterminated last line) at every kind of chunk size and offset.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.sources.lines import LineScanner

MARKERS = (b'"usage":{', b'"token_count"')

_line = st.one_of(
    st.sampled_from([b'{"a":1}', b'{"usage":{"x":2}}', b'{"type":"token_count"}', b'{"b":"' + b"x" * 70 + b'"}']),
    st.sampled_from([b"", b"   ", b'{"usage":{"x":3}}\r', b"garbage", b'{"cut":', b'"usage":{ no brace']),
    st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")),
)


def reference(data: bytes, offset: int, first_line_no: int, markers: tuple[bytes, ...] | None) -> tuple:
    """What the scanner must give, computed the obvious way."""
    body = data[offset:]
    complete = body[: body.rfind(b"\n") + 1]
    out = []
    for i, raw in enumerate(complete.split(b"\n")[:-1]):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if not line:
            continue
        broken = not (line.startswith(b"{") and line.endswith(b"}"))
        if markers is None or broken or any(m in line for m in markers):
            out.append((first_line_no + i, line))
    return out, offset + len(complete), complete.count(b"\n")


@settings(max_examples=1000, deadline=None)
@given(
    lines=st.lists(_line, max_size=30),
    unterminated=st.booleans(),
    chunk_size=st.one_of(st.integers(1, 40), st.just(1 << 20)),
    cut=st.tuples(st.integers(0, 30), st.booleans()),  # lines to skip (resume offset), and all lines or marked
)
def test_scanner_matches_reference(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], unterminated: bool, chunk_size: int,
    cut: tuple[int, bool],
) -> None:
    skip, all_lines = cut
    data = b"".join(line + b"\n" for line in lines) + (b'{"usage":{"partial"' if unterminated else b"")
    skip = min(skip, len(lines))
    offset = sum(len(line) + 1 for line in lines[:skip])
    path = tmp_path_factory.mktemp("scan") / "log.jsonl"
    path.write_bytes(data)
    markers = None if all_lines else MARKERS
    scanner = LineScanner(path, offset, markers=markers, first_line_no=skip + 1, chunk_size=chunk_size)
    got = [(scanner.line_no(), line) for line in scanner]
    expected, end_offset, count = reference(data, offset, skip + 1, markers)
    assert got == expected
    assert (scanner.end_offset, scanner.lines, scanner.bytes_read) == (end_offset, count, len(data) - offset)


def test_line_longer_than_many_chunks(tmp_path: Path) -> None:
    big = b'{"usage":{"x":"' + b"y" * 5000 + b'"}}'
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"a":1}\n' + big + b"\n" + b'{"usage":{}}\n')
    scanner = LineScanner(path, 0, markers=MARKERS, chunk_size=64)
    assert [(scanner.line_no(), line) for line in scanner] == [(2, big), (3, b'{"usage":{}}')]
    assert scanner.end_offset == path.stat().st_size
