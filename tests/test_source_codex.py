"""Codex source: the expected results of the shared samples (specs/log-samples/README.md), and our traps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_source_codex_support import install, parse_all, raw_input, rollout, sample, sync_home, total

from tracker.domain import TokenCounts
from tracker.sources.codex import FALLBACK_MODEL, SOURCE

P_UUID = "019e0000-0000-7000-8000-00000000000a"
C_UUID = "019e0000-0000-7000-8000-00000000000b"


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).astimezone(UTC).timestamp() * 1000)


def test_source_identity() -> None:
    assert SOURCE.name == "codex"
    assert SOURCE.label == "Codex CLI"


def test_thread_spawn_replay_counts_parent_and_subagent_once(tmp_path: Path) -> None:
    parent = install(
        tmp_path,
        rollout("2026-05-12", "08-00-00", P_UUID),
        sample("edge_thread-spawn-replay_parent__ccusage-tests"),
    )
    child = install(
        tmp_path,
        rollout("2026-05-12", "08-03-00", C_UUID),
        sample("edge_thread-spawn-replay_subagent__ccusage-tests"),
    )
    got = sync_home(tmp_path)
    assert list(got) == [parent.resolve(), child.resolve()]
    p, c = got[parent.resolve()], got[child.resolve()]
    # ccusage: parent 1000 + 500 input, sub-agent 100 + 50 (Codex input includes the cached part).
    assert [raw_input(r.tokens) for r in p] == [1000, 500]
    assert [raw_input(r.tokens) for r in c] == [100, 50]
    assert [r.tokens.cache_read_tokens for r in c] == [10, 5]
    assert [r.tokens.output_tokens for r in c] == [20, 10]
    # the first session_meta names the file's thread; the copied parent meta does not
    assert {r.session_id for r in c} == {"subagent-abc"}
    assert all(r.is_sidechain for r in c) and not any(r.is_sidechain for r in p)
    # the sub-agent file names its model only on its first own event; it sticks for the next one
    assert [r.model for r in c] == ["gpt-5.2", "gpt-5.2"]


def test_branch_copy_with_totals_only(tmp_path: Path) -> None:
    branch_lines = sample("edge_branch-copy_total-only__ccusage-tests").read_text().splitlines(keepends=True)
    parent = install(tmp_path, rollout("2026-05-12", "08-00-00", P_UUID), "".join(branch_lines[:2]))
    branch = install(tmp_path, rollout("2026-05-12", "08-02-00", C_UUID), "".join(branch_lines))
    got = sync_home(tmp_path)
    (p,) = got[parent.resolve()]
    (b,) = got[branch.resolve()]
    assert (raw_input(p.tokens), p.tokens.cache_read_tokens, p.tokens.output_tokens) == (1000, 100, 200)
    # ccusage: branch delta input 600 / cached 200 / output 250 (reasoning 20, inside output)
    assert (raw_input(b.tokens), b.tokens.cache_read_tokens, b.tokens.output_tokens) == (600, 200, 250)
    assert b.tokens == TokenCounts(
        input_tokens=400, cache_read_tokens=200, output_tokens=250, reasoning_tokens=20
    )
    assert b.ts_ms == ms("2026-05-12T08:02:00+00:00")


def test_reemits_and_null_info_count_once() -> None:
    (recs,) = parse_all([sample("edge_reemit-and-null-info__constructed")]).values()
    assert len(recs) == 2
    assert total(recs).total == 3300  # 1,100 + 2,200; summing every last_token_usage would give 6,600
    assert {r.model for r in recs} == {"gpt-5.2-codex"}
    assert {r.session_id for r in recs} == {"01970000-0000-7000-8000-000000000001"}
    assert {r.project_path for r in recs} == {"/home/user/project"}
    assert {r.agent_version for r in recs} == {"0.130.0"}
    res = SOURCE.parse(sample("edge_reemit-and-null-info__constructed"), 0, None, 1, set())
    assert res.state is not None and res.state["reemits"] == 2


def test_codexbar_fork_family_counts_copied_history_once(tmp_path: Path) -> None:
    parent = install(
        tmp_path,
        "archived_sessions/rollout-2030-01-01T12-00-00-parent.jsonl",
        sample("sanitized-real_fork-parent__codexbar-issue2037"),
    )
    child = install(
        tmp_path,
        "archived_sessions/rollout-2030-01-01T15-00-00-child.jsonl",
        sample("sanitized-real_fork-child__codexbar-issue2037"),
    )
    got = sync_home(tmp_path)
    p, c = got[parent.resolve()], got[child.resolve()]
    # The oracle sums last.total_tokens: 15,352,834 (parent 13,432,621 + child suffix 1,920,213). We count
    # billable components only, so three "zero-component" rows (last_token_usage all 0 except total_tokens:
    # 16,650 + 17,858 in the parent, 9,148 in the child; their total_token_usage is unchanged) add nothing:
    # 15,352,834 - 43,656 = 15,309,178.
    assert total(p).total == 13_432_621 - 16_650 - 17_858
    assert total(c).total == 1_920_213 - 9_148
    assert total([*p, *c]).total == 15_309_178
    assert (len(p), len(c)) == (133, 22)
    assert {r.session_id for r in c} == {"child-session"}
    assert min(r.ts_ms for r in c) >= ms("2030-01-02T00:00:00+00:00")  # only the child's own work


@pytest.mark.parametrize(
    ("parent", "child", "expected"),
    [
        (
            "sanitized-real_fork-parent__codexbar-issue2037",
            "sanitized-real_fork-child__codexbar-issue2037",
            15_309_178,
        ),
        (
            "edge_thread-spawn-replay_parent__ccusage-tests",
            "edge_thread-spawn-replay_subagent__ccusage-tests",
            1980,
        ),
    ],
)
def test_family_totals_do_not_depend_on_order(parent: str, child: str, expected: int) -> None:
    """Parents first gives the right attribution; the other order must still not double count."""
    forward = parse_all([sample(parent), sample(child)])
    backward = parse_all([sample(child), sample(parent)])
    all_fwd = [r for rs in forward.values() for r in rs]
    all_bwd = [r for rs in backward.values() for r in rs]
    assert total(all_fwd) == total(all_bwd)
    assert total(all_bwd).total == expected


def test_session_alpha_fixture() -> None:
    (recs,) = parse_all([sample("fixture__ccusage-session-alpha")]).values()
    t = total(recs)
    # ccusage: input 2750 (non-cached), cache read 750, output 425, reasoning 275. ccusage's totalTokens
    # 4200 is the logged total_tokens, which in this hand-written fixture adds reasoning on top of output;
    # the billable total is input + output = 3925.
    assert (t.input_tokens, t.cache_read_tokens, t.output_tokens, t.reasoning_tokens) == (2750, 750, 425, 275)
    assert t.total == 3925
    assert [r.ts_ms for r in recs] == [ms("2026-05-13T09:01:00+00:00"), ms("2026-05-14T10:00:00+00:00")]
    # turn_context is authoritative (as in CodexBar); ccusage would take info.model (gpt-5.3-codex) first.
    assert [r.model for r in recs] == ["gpt-5.2-codex", "gpt-5.2-codex"]


def test_saved_exec_json_usage() -> None:
    path = sample("edge_exec-json_turn-completed__ccusage-tests")
    (recs,) = parse_all([path]).values()
    got = [
        (raw_input(r.tokens), r.tokens.cache_read_tokens, r.tokens.output_tokens, r.tokens.reasoning_tokens)
        for r in recs
    ]
    assert got == [(120, 20, 30, 0), (50, 5, 12, 0), (9, 0, 4, 1)]
    assert [r.tokens.total for r in recs] == [
        150,
        62,
        13,
    ]  # total_tokens 0 is recomputed; reasoning is inside
    assert [r.ts_ms for r in recs] == [ms(f"2026-01-02T03:0{m}:05+00:00") for m in (4, 5, 6)]
    assert {r.model for r in recs} == {"gpt-5.2-codex"}
    assert {r.session_id for r in recs} == {path.name.removesuffix(".jsonl")}
    assert len({r.dedup_key for r in recs}) == 3


def test_protocol_stream_is_not_a_rollout() -> None:
    res = SOURCE.parse(sample("real_proto-stream_v0.42__ACPLazyBridge"), 0, None, 1, set())
    assert (res.records, res.malformed, res.lines) == ([], 0, 4)


def test_dedup_keys_are_unique_and_stable() -> None:
    names = [
        "sanitized-real_fork-parent__codexbar-issue2037",
        "sanitized-real_fork-child__codexbar-issue2037",
    ]
    one = [r.dedup_key for rs in parse_all([sample(n) for n in names]).values() for r in rs]
    two = [r.dedup_key for rs in parse_all([sample(n) for n in names]).values() for r in rs]
    assert one == two
    assert len(set(one)) == len(one)
    assert all(r.rank == 0 for rs in parse_all([sample(names[0])]).values() for r in rs)


def test_seen_keys_are_reported_and_added() -> None:
    seen: set[str] = set()
    res = SOURCE.parse(sample("edge_thread-spawn-replay_parent__ccusage-tests"), 0, None, 1, seen)
    assert len(res.seen_keys) == 2 and set(res.seen_keys) == seen
    assert [r.dedup_key for r in res.records] == res.seen_keys
    again = SOURCE.parse(sample("edge_thread-spawn-replay_parent__ccusage-tests"), 0, None, 1, seen)
    assert again.records == [] and again.seen_keys == []  # a copy of a counted file counts nothing


# ------------------------------------------------------------------------------------------------- traps


def test_counter_drop_without_last_is_a_new_baseline() -> None:
    (recs,) = parse_all([sample("trap_counter-drop_total-only__constructed")]).values()
    # 1000 -> 1500 (+500) -> 200 (drop: new baseline, not counted) -> 300 (+100)
    assert [raw_input(r.tokens) for r in recs] == [1000, 500, 100]
    assert [r.tokens.output_tokens for r in recs] == [50, 30, 10]


def test_interleaved_lanes_trust_last() -> None:
    (recs,) = parse_all([sample("trap_interleaved-lanes_with-last__constructed")]).values()
    assert [raw_input(r.tokens) for r in recs] == [1000, 300, 200]
    assert total(recs).output_tokens == 150


def test_subagent_totals_only_counts_its_own_counter_from_zero(tmp_path: Path) -> None:
    parent = install(
        tmp_path,
        rollout("2026-06-05", "10-00-00", P_UUID),
        sample("trap_subagent-total-only_parent__constructed"),
    )
    child = install(
        tmp_path,
        rollout("2026-06-05", "10-03-00", C_UUID),
        sample("trap_subagent-total-only_child__constructed"),
    )
    got = sync_home(tmp_path)
    assert [raw_input(r.tokens) for r in got[parent.resolve()]] == [1000, 500]
    c = got[child.resolve()]
    assert [raw_input(r.tokens) for r in c] == [100, 50]
    assert {r.model for r in c} == {"gpt-5.2-mini"}
    assert {r.session_id for r in c} == {"trap-child"}


def test_totals_only_subagent_needs_its_parent_first() -> None:
    """Why discover() sorts parents first: in a totals-only file, the sub-agent's own counter restarting from
    zero is recognised only when the replayed rows are known copies. Child first, they look like the child's
    own counter, and the restart becomes a new baseline (spec §2.4): the first own call (120 tokens) is lost.
    """
    parent, child = (
        "trap_subagent-total-only_parent__constructed",
        "trap_subagent-total-only_child__constructed",
    )
    forward = [r for rs in parse_all([sample(parent), sample(child)]).values() for r in rs]
    backward = [r for rs in parse_all([sample(child), sample(parent)]).values() for r in rs]
    assert total(forward).total == 1500 + 300 + 120 + 60
    assert total(backward).total == total(forward).total - 120


def test_legacy_and_2026_usage_shapes() -> None:
    (recs,) = parse_all([sample("trap_legacy-and-2026-usage__constructed")]).values()
    assert [r.tokens for r in recs] == [
        TokenCounts(input_tokens=400, output_tokens=40),  # legacy: no cached/reasoning, total_tokens 0
        TokenCounts(input_tokens=600, output_tokens=60),  # last_token_usage {} -> delta of the totals
        # input 2600 = 2000 cached + 400 cache write + 200 uncached
        TokenCounts(
            input_tokens=200,
            cache_creation_tokens=400,
            cache_read_tokens=2000,
            output_tokens=50,
            reasoning_tokens=20,
        ),
        TokenCounts(input_tokens=100, output_tokens=10),  # zero-component last -> delta of the totals
    ]  # and a reasoning-only increase is not billable: no record
    assert [r.ts_ms for r in recs] == [
        ms("2026-06-03T08:01:00+00:00"),  # +02:00 offset
        ms("2026-06-03T08:02:00.123+00:00"),  # nanosecond fraction
        1780480980000,  # epoch milliseconds
        1780481040000,  # epoch seconds
    ]
    assert {r.model for r in recs} == {"gpt-5"}


def test_missing_model_falls_back_to_gpt5_and_is_flagged() -> None:
    res = SOURCE.parse(sample("trap_no-model__constructed"), 0, None, 1, set())
    assert [r.model for r in res.records] == [FALLBACK_MODEL] == ["gpt-5"]
    assert res.state is not None and res.state["fallback_model"] == 1
    ok = SOURCE.parse(sample("edge_reemit-and-null-info__constructed"), 0, None, 1, set())
    assert ok.state is not None and ok.state["fallback_model"] == 0


def test_malformed_lines_are_counted_and_skipped() -> None:
    path = sample("trap_malformed__constructed")
    res = SOURCE.parse(path, 0, None, 1, set())
    assert res.malformed == 4
    assert res.malformed_examples == [
        f"{path}:3: not valid JSON",
        f"{path}:4: not valid JSON",
        f"{path}:6: token_count info is not an object",
        f"{path}:8: not a JSON object",
    ]
    assert [raw_input(r.tokens) for r in res.records] == [100, 200]
    # the final line has no LF: it stays pending
    data = path.read_bytes()
    assert res.new_offset == data.rindex(b"\n") + 1 < len(data)
    assert res.lines == 10


def test_malformed_examples_are_capped(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("nope\n" * 50)
    res = SOURCE.parse(path, 0, None, 1, set())
    assert res.malformed == 50
    assert len(res.malformed_examples) == 5
