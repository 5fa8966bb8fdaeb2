"""Codex source: resuming from a cursor (offset + state) gives exactly what one pass gives."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from test_source_codex_support import sample

from tracker.domain import UsageRecord
from tracker.sources.codex import SOURCE

FAMILY = ["sanitized-real_fork-parent__codexbar-issue2037", "sanitized-real_fork-child__codexbar-issue2037"]
MIXED = [
    "edge_reemit-and-null-info__constructed",
    "trap_counter-drop_total-only__constructed",
    "trap_legacy-and-2026-usage__constructed",
    "edge_thread-spawn-replay_subagent__ccusage-tests",
    "edge_exec-json_turn-completed__ccusage-tests",
]


def one_pass(path: Path, seen: set[str]) -> list[UsageRecord]:
    return SOURCE.parse(path, 0, None, 1, seen).records


def in_pieces(path: Path, data: bytes, cuts: list[int], seen: set[str]) -> tuple[list[UsageRecord], int]:
    """Write ``data`` to ``path`` in appended pieces, parsing after each append with the returned cursor."""
    path.write_bytes(b"")
    offset, line_no, state = 0, 1, None
    records: list[UsageRecord] = []
    for end in [*sorted(cuts), len(data)]:
        with path.open("ab") as f:
            f.write(data[path.stat().st_size : end])
        res = SOURCE.parse(path, offset, state, line_no, seen)
        records += res.records
        assert res.new_offset <= end
        offset, line_no = res.new_offset, line_no + res.lines
        # the state survives a JSON round trip (the importer stores it as JSON)
        state = json.loads(json.dumps(res.state))
    return records, offset


def test_resume_at_every_line_boundary_matches_one_pass(tmp_path: Path) -> None:
    parent_data = sample(FAMILY[0]).read_bytes()
    child_data = sample(FAMILY[1]).read_bytes()
    seen: set[str] = set()
    ref_parent = one_pass(sample(FAMILY[0]), seen)
    ref_child = one_pass(sample(FAMILY[1]), seen)
    boundaries = [i + 1 for i, b in enumerate(child_data) if b == ord("\n")]
    for cut in boundaries[::3]:
        seen2: set[str] = set()
        got_parent, _ = in_pieces(tmp_path / "p.jsonl", parent_data, [len(parent_data) // 2], seen2)
        got_child, end = in_pieces(tmp_path / "c.jsonl", child_data, [cut], seen2)
        assert got_parent == ref_parent
        assert got_child == ref_child, cut
        assert end == len(child_data)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(MIXED), st.lists(st.floats(0, 1), max_size=6))
def test_any_byte_split_matches_one_pass(name: str, fractions: list[float]) -> None:
    data = sample(name).read_bytes()
    cuts = [int(f * len(data)) for f in fractions]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "rollout-2026-05-12T08-03-00-x.jsonl"
        path.write_bytes(data)
        ref = one_pass(path, set())
        got, end = in_pieces(path, data, cuts, set())
    assert got == ref
    assert end == len(data)


def test_final_line_without_lf_stays_pending(tmp_path: Path) -> None:
    lines = sample("edge_reemit-and-null-info__constructed").read_bytes().splitlines(keepends=True)
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"".join(lines[:-2]) + lines[-2].rstrip(b"\n"))  # the second real call, no LF yet
    seen: set[str] = set()
    first = SOURCE.parse(path, 0, None, 1, seen)
    assert [r.tokens.total for r in first.records] == [1100]
    assert first.new_offset == len(b"".join(lines[:-2]))
    assert first.lines == len(lines) - 2
    with path.open("ab") as f:
        f.write(b"\n")
    second = SOURCE.parse(path, first.new_offset, first.state, 1 + first.lines, seen)
    assert [r.tokens.total for r in second.records] == [2200]
    assert second.lines == 1


def test_malformed_pending_line_completed_later(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    src = sample("trap_malformed__constructed").read_bytes()
    path.write_bytes(src)
    seen: set[str] = set()
    first = SOURCE.parse(path, 0, None, 1, seen)
    with path.open("ab") as f:
        f.write(b"\n")
    second = SOURCE.parse(path, first.new_offset, first.state, 1 + first.lines, seen)
    assert second.malformed == 0
    assert [r.tokens.input_tokens for r in second.records] == [300]
    assert second.new_offset == len(src) + 1


def test_resume_inside_a_zst_rollout(tmp_path: Path) -> None:
    data = sample(FAMILY[1]).read_bytes()
    path = tmp_path / "rollout-2030-01-01T15-00-00-child.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(data))
    ref = SOURCE.parse(path, 0, None, 1, set())
    assert ref.new_offset == len(data) and ref.bytes_read == len(data)
    cut = data.index(b"\n", len(data) // 2) + 1
    seen: set[str] = set()
    # first part parsed from a plain copy of the same bytes; the rest from the compressed file at that offset
    head = tmp_path / "head.jsonl"
    head.write_bytes(data[:cut])
    a = SOURCE.parse(head, 0, None, 1, seen)
    b = SOURCE.parse(path, a.new_offset, a.state, 1 + a.lines, seen)
    assert a.records + b.records == ref.records
    assert b.new_offset == len(data)


def test_state_from_an_older_or_damaged_cursor_is_tolerated(tmp_path: Path) -> None:
    path = sample("edge_reemit-and-null-info__constructed")
    junk = {"prev": "x", "own": 3, "model": 5, "ts": "soon", "unknown": [1]}
    res = SOURCE.parse(path, 0, junk, 1, set())
    assert [r.tokens.total for r in res.records] == [1100, 2200]
