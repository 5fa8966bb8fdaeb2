"""Parsing Claude Code transcripts: records, dedup keys and ranks, malformed lines, incremental reads."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import pytest

from tracker.domain import ParseResult, UsageRecord
from tracker.sources.claude_code import SOURCE

FIXTURES = Path(__file__).parent / "fixtures" / "claude"
TRAPS = FIXTURES / "traps"
SAMPLES = sorted(FIXTURES.glob("claude_code__*.jsonl"))


def parse(
    path: Path, offset: int = 0, state: dict[str, object] | None = None, line_no: int = 1
) -> ParseResult:
    return SOURCE.parse(path, offset, state, line_no, set())


def collapse(records: Iterable[UsageRecord]) -> dict[str, UsageRecord]:
    """What the store keeps: one record per dedup_key, the highest rank (first seen on a tie)."""
    kept: dict[str, UsageRecord] = {}
    for r in records:
        if r.dedup_key not in kept or r.rank > kept[r.dedup_key].rank:
            kept[r.dedup_key] = r
    return kept


def all_records(paths: Iterable[Path]) -> list[UsageRecord]:
    return [r for p in paths for r in parse(p).records]


def test_source_identity() -> None:
    assert SOURCE.name == "claude_code"
    assert SOURCE.label == "Claude Code"


def test_samples_19_raw_usage_rows_13_kept() -> None:
    # The spec's "19 raw usage rows -> 13 kept" is §1.4 dedup alone, before the <synthetic> filter:
    # * 19 rows: edge_cases 14 (12 direct lines, the progress copy on L11, the nested sidechain on L14; one
    #   is <synthetic>), v1.0.9 1, sage 2, v2.1.72 2. The malformed file adds none: its usage lines are
    #   broken (L2) or still pending (the last one has no LF).
    # * 13 kept: the six msg_123 copies (with and without requestId) are one message, and the msg_haiku
    #   progress copy and its own line are one: 19 - 5 - 1 = 13 distinct message ids, msg_789 included.
    #   The not-semver row ("bad") is kept (see claude_code.py).
    # This source skips <synthetic> rows outright (issue 2 §3), so it emits 18 records that collapse to 12,
    # plus the one skipped synthetic message = 13.
    records = all_records(SAMPLES)
    synthetic_lines = sum(p.read_bytes().count(b'"model":"<synthetic>"') for p in SAMPLES)
    assert synthetic_lines == 1
    assert len(records) + synthetic_lines == 19
    kept = collapse(records)
    assert len(kept) + synthetic_lines == 13
    assert len(kept) == 12


def test_sample_v2_1_72_fields_and_1h_cache() -> None:
    records = parse(FIXTURES / "claude_code__real_v2.1.72__hallucination-detector.jsonl").records
    assert [r.dedup_key for r in records] == ["msg_013YZ68naDuds27CD9ZGNVDE", "msg_01Xew6rboSyUeJ4Qngp5v6GB"]
    first, second = records
    assert first.ts_ms == 1773244332033  # 2026-03-11T15:52:12.033Z
    assert first.model == "claude-opus-4-6"
    assert first.session_id == "8427ae52-369a-420b-bf83-434a42ea03ab"
    assert first.project_path == "/home/ubuntulinuxqa2/repos/hallucination-detector"
    assert first.request_id == "req_011CYwZUU7RHFoZn2ppDGGRK"
    assert first.agent_version == "2.1.72"
    assert first.speed == "standard"
    assert first.is_sidechain is False
    assert first.logged_cost_usd is None
    t = first.tokens
    assert (t.input_tokens, t.cache_creation_tokens, t.cache_creation_1h_tokens) == (3, 453, 453)
    assert (t.cache_read_tokens, t.output_tokens, t.reasoning_tokens) == (82371, 186, 0)
    # Line 7 wrote its cache with a 5-minute TTL.
    assert (second.tokens.cache_creation_tokens, second.tokens.cache_creation_1h_tokens) == (896, 0)


def test_sample_v1_0_9_without_breakdown_is_all_5m() -> None:
    (r,) = parse(FIXTURES / "claude_code__real_v1.0.9__ccusage-issue-4.jsonl").records
    assert r.model == "claude-opus-4-20250514"
    assert (r.tokens.cache_creation_tokens, r.tokens.cache_creation_1h_tokens) == (161, 0)
    assert r.tokens.total == 3 + 161 + 89356 + 97


def test_cache_ttl_split() -> None:
    got = {r.dedup_key: r.tokens for r in parse(TRAPS / "cache_ttl.jsonl").records}
    assert (got["msg_ttl1h"].cache_creation_tokens, got["msg_ttl1h"].cache_creation_1h_tokens) == (500, 500)
    assert (got["msg_ttl5m"].cache_creation_tokens, got["msg_ttl5m"].cache_creation_1h_tokens) == (700, 0)
    assert (got["msg_ttlmix"].cache_creation_tokens, got["msg_ttlmix"].cache_creation_1h_tokens) == (900, 300)
    assert (got["msg_ttlnone"].cache_creation_tokens, got["msg_ttlnone"].cache_creation_1h_tokens) == (
        1100,
        0,
    )


def test_sidechain_sample_flags() -> None:
    records = parse(FIXTURES / "claude_code__real_v2.0.26-2.0.28_sidechain__usetig-sage.jsonl").records
    assert [r.is_sidechain for r in records] == [True, True]
    assert records[1].session_id == "66f3a4e5-ea6a-459a-8357-d31d692ebec7"


def test_streaming_placeholder_larger_copy_wins_in_any_order() -> None:
    edge = parse(FIXTURES / "claude_code__edge_cases__ccusage-tests.jsonl").records
    copies = [r for r in edge if r.dedup_key == "msg_123"]
    assert len(copies) == 6  # with and without requestId: one key either way
    for ordered in (copies, list(reversed(copies))):
        assert collapse(ordered)["msg_123"].tokens.output_tokens == 250
    reversed_file = parse(TRAPS / "streaming_reversed.jsonl").records
    assert [r.tokens.output_tokens for r in reversed_file] == [250, 25]
    assert collapse(reversed_file)["msg_stream01"].tokens.output_tokens == 250


def test_speed_breaks_a_tie(tmp_path: Path) -> None:
    line = trap_line("streaming_reversed.jsonl", 0)
    with_speed = trap_line("streaming_reversed.jsonl", 0)
    with_speed["message"]["usage"]["speed"] = "fast"
    null_speed = trap_line("streaming_reversed.jsonl", 0)
    null_speed["message"]["usage"]["speed"] = None
    plain, fast = record_of(line, tmp_path), record_of(with_speed, tmp_path)
    assert fast.rank == plain.rank + 1
    assert fast.speed == "fast"
    assert record_of(null_speed, tmp_path).rank == plain.rank  # `"speed":null` is no speed field


def trap_line(name: str, index: int) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads((TRAPS / name).read_text().splitlines()[index]))


def compact(obj: object) -> str:
    """JSON as Claude Code writes it: no spaces (the usage marker is the compact ``"usage":{``)."""
    return json.dumps(obj, separators=(",", ":"))


def record_of(obj: dict[str, Any], tmp_path: Path) -> UsageRecord:
    """The one record of a one-line transcript holding ``obj``."""
    p = tmp_path / "one.jsonl"
    p.write_text(compact(obj) + "\n")
    (r,) = parse(p).records
    return r


def test_edge_cases_sample_details() -> None:
    edge = parse(FIXTURES / "claude_code__edge_cases__ccusage-tests.jsonl").records
    keys = [r.dedup_key for r in edge]
    assert "msg_789" not in keys  # <synthetic> is skipped
    fast = next(r for r in edge if r.dedup_key == "msg_fast")
    assert fast.speed == "fast"
    bad = next(r for r in edge if r.request_id == "bad")
    assert bad.agent_version == "not-semver"  # kept, unlike ccusage: it is real usage
    assert bad.logged_cost_usd == "9"
    assert next(r for r in edge if r.dedup_key == "msg_b").logged_cost_usd == "0.04"
    assert next(r for r in edge if r.dedup_key == "msg_b").session_id == "session-b"


def test_progress_nested_message_uses_nested_fields() -> None:
    edge = parse(FIXTURES / "claude_code__edge_cases__ccusage-tests.jsonl").records
    haiku = [r for r in edge if r.dedup_key == "msg_haiku"]
    assert len(haiku) == 2  # the progress copy (L11) and the sub-agent's own line (L13)
    progress = haiku[0]
    assert progress.ts_ms == 1773122401000  # the nested 06:00:01.000Z, not the outer .001Z
    assert progress.request_id == "req_haiku"
    assert progress.model == "claude-haiku-4-5-20251001"
    assert len(collapse(haiku)) == 1
    side = next(r for r in edge if r.request_id == "req-sidechain")
    assert side.is_sidechain is True  # from the nested message (L14 has no type, no outer flag)
    assert (side.tokens.output_tokens, side.tokens.cache_read_tokens) == (10, 20)


def test_progress_copy_and_subagent_file_collapse() -> None:
    parent = parse(TRAPS / "progress_parent.jsonl").records
    sub = parse(TRAPS / "progress_subagent.jsonl").records
    assert [r.dedup_key for r in parent] == [r.dedup_key for r in sub] == ["msg_sub01"]
    (p,) = parent
    assert p.is_sidechain is True and p.ts_ms == sub[0].ts_ms
    assert p.tokens == sub[0].tokens
    assert len(collapse(parent + sub)) == 1


def test_same_message_in_two_files(tmp_path: Path) -> None:
    src = FIXTURES / "claude_code__real_v2.1.72__hallucination-detector.jsonl"
    a = tmp_path / "projects" / "-p" / "aaaa.jsonl"
    b = tmp_path / "projects" / "-p" / "bbbb.jsonl"  # e.g. a resumed session that copied the history
    a.parent.mkdir(parents=True)
    shutil.copy(src, a)
    b.write_bytes(src.read_bytes().splitlines(keepends=True)[0])
    records = parse(a).records + parse(b).records
    assert len(records) == 3
    assert len(collapse(records)) == 2


def test_non_sidechain_copy_beats_a_larger_sidechain_replay(tmp_path: Path) -> None:
    line = trap_line("streaming_reversed.jsonl", 1)  # output 25
    replay = trap_line("streaming_reversed.jsonl", 1)
    replay["isSidechain"] = True
    replay["requestId"] = "req_new"  # /btw replays carry a new requestId
    replay["message"]["usage"]["output_tokens"] = 9999
    parent, side = record_of(line, tmp_path), record_of(replay, tmp_path)
    assert parent.dedup_key == side.dedup_key
    assert side.tokens.total > parent.tokens.total
    for order in ([parent, side], [side, parent]):
        kept = collapse(order)[parent.dedup_key]
        assert kept.is_sidechain is False and kept.tokens.output_tokens == 25


def test_gateway_ids_and_id_less_lines() -> None:
    records = parse(TRAPS / "gateway_ids.jsonl").records
    keys = [r.dedup_key for r in records]
    # chatcmpl ids may repeat across sessions: scoped by sessionId, so the two calls stay two.
    assert keys[:2] == ["sess-gw-a:chatcmpl-123", "sess-gw-b:chatcmpl-123"]
    # No message.id: the line uuid (a VSCode-reopen replay has the same one), else the line's bytes.
    assert keys[2] == keys[3] == "uuid:same-uuid"
    assert keys[4] == keys[5] and keys[4].startswith("line:")
    assert keys[6] != keys[4] and keys[6].startswith("line:")
    assert len(collapse(records)) == 5


def test_odd_values() -> None:
    path = TRAPS / "odd_values.jsonl"
    res = parse(path)
    got = {r.dedup_key: r for r in res.records}
    assert sorted(got) == ["msg_odd01", "msg_odd02", "msg_odd10", "msg_odd11"]
    assert got["msg_odd01"].tokens.is_zero()  # negative, string, float, bool counts -> 0
    assert got["msg_odd02"].tokens.output_tokens == 9 and got["msg_odd02"].tokens.input_tokens == 0
    assert got["msg_odd10"].ts_ms == 1775433600000  # 02:00+02:00 == 00:00Z on 2026-04-06
    assert got["msg_odd10"].logged_cost_usd == "0.00012345"
    assert got["msg_odd11"].ts_ms == 1775433611123  # microseconds are cut to milliseconds
    assert got["msg_odd11"].logged_cost_usd == "3"
    # Broken JSON, usage not an object, null timestamp, bad timestamp, a JSON array: 5 malformed. The
    # user line whose toolUseResult has its own "usage", the <synthetic> line and the blank one are not.
    assert res.malformed == 5
    assert [e.split(": ", 1)[0] for e in res.malformed_examples] == [f"{path}:{n}" for n in (4, 5, 6, 7, 9)]
    assert res.lines == 12


def test_malformed_sample_and_pending_tail(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    shutil.copy(FIXTURES / "claude_code__malformed__constructed.jsonl", path)
    size = path.stat().st_size
    res = parse(path)
    assert res.records == []
    assert res.malformed == 2  # "not json at all" and the truncated line; the blank line is not counted
    assert res.lines == 3
    assert res.new_offset < size  # the final object has no LF yet: it stays pending
    assert path.read_bytes()[res.new_offset :].startswith(b'{"type":"assistant"')
    # The sample's tail is also cut short; the writer completes it.
    with path.open("ab") as f:
        f.write(b"}\n")
    res2 = parse(path, res.new_offset, res.state, 1 + res.lines)
    assert [r.dedup_key for r in res2.records] == ["msg_tail"]
    assert res2.malformed == 0 and res2.new_offset == size + 2


def test_complete_tail_without_lf_waits_for_lf(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    shutil.copy(TRAPS / "tail_no_lf.jsonl", path)
    res = parse(path)
    assert [r.dedup_key for r in res.records] == ["msg_tail01"]
    assert res.malformed == 0 and res.lines == 1
    with path.open("ab") as f:
        f.write(b"\n")
    res2 = parse(path, res.new_offset, res.state, 2)
    assert [r.dedup_key for r in res2.records] == ["msg_tail02"]
    assert res2.new_offset == path.stat().st_size and res2.lines == 1


def test_crlf_lines() -> None:
    path = TRAPS / "crlf.jsonl"
    assert path.read_bytes().count(b"\r\n") == 2
    res = parse(path)
    assert [r.dedup_key for r in res.records] == ["msg_crlf01", "msg_crlf02"]
    assert res.records[0].tokens.total == 5 + 6 + 7 + 8
    assert res.malformed == 0 and res.new_offset == path.stat().st_size


@pytest.mark.parametrize(
    "path", [*SAMPLES, *sorted(TRAPS.glob("*.jsonl"))], ids=lambda p: p.name if isinstance(p, Path) else p
)
def test_resume_from_every_line_boundary_equals_one_pass(path: Path, tmp_path: Path) -> None:
    whole = parse(path)
    data = path.read_bytes()
    growing = tmp_path / path.name  # same name, so that path-derived session ids match
    boundaries = [i + 1 for i, b in enumerate(data) if b == 0x0A]
    assert boundaries
    for cut in boundaries:
        growing.write_bytes(data[:cut])  # the file as it was when only its first `cut` bytes existed
        first = parse(growing)
        assert first.new_offset == cut
        growing.write_bytes(data)
        second = parse(growing, first.new_offset, first.state, 1 + first.lines)
        assert first.records + second.records == whole.records
        assert first.malformed + second.malformed == whole.malformed
        assert first.lines + second.lines == whole.lines
        assert second.new_offset == whole.new_offset


def test_resume_keeps_cwd_in_state(tmp_path: Path) -> None:
    first = (TRAPS / "streaming_reversed.jsonl").read_text().splitlines()[0]
    no_cwd = trap_line("streaming_reversed.jsonl", 1)
    del no_cwd["cwd"]
    path = tmp_path / "s.jsonl"
    path.write_text(first + "\n")
    res = parse(path)
    assert res.state == {"cwd": "/home/dev/proj"}
    json.dumps(res.state)  # must be JSON-serialisable
    with path.open("a") as f:
        f.write(compact(no_cwd) + "\n")
    (r,) = parse(path, res.new_offset, res.state, 2).records
    assert r.project_path == "/home/dev/proj"
    (r0,) = parse(path, res.new_offset, None, 2).records
    assert r0.project_path is None


def test_session_id_falls_back_to_path_layout(tmp_path: Path) -> None:
    line = trap_line("streaming_reversed.jsonl", 0)
    del line["sessionId"]
    cases = {
        "projects/-p/5e55-1.jsonl": "5e55-1",
        "projects/-p/5e55-2/subagents/agent-a1.jsonl": "5e55-2",
        "projects/-p/5e55-3/chat.jsonl": "5e55-3",
        "projects/-p/agent-b2.jsonl": "agent-b2",
    }
    for rel, want in cases.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(compact(line) + "\n")
        (r,) = parse(p).records
        assert r.session_id == want, rel


def test_rank_order(tmp_path: Path) -> None:
    base = trap_line("streaming_reversed.jsonl", 1)
    bigger = trap_line("streaming_reversed.jsonl", 1)
    bigger["message"]["usage"]["output_tokens"] = 26
    side_huge = trap_line("streaming_reversed.jsonl", 1)
    side_huge["isSidechain"] = True
    side_huge["message"]["usage"]["cache_read_input_tokens"] = 10**15
    r_base, r_bigger, r_side = (record_of(o, tmp_path) for o in (base, bigger, side_huge))
    assert r_side.rank < r_base.rank < r_bigger.rank
    assert 0 <= r_bigger.rank < 2**63  # fits an SQLite integer
