"""Codex source: where the rollouts are and the order in which they must be parsed."""

from __future__ import annotations

from pathlib import Path

import zstandard
from test_source_codex_support import install, parse_all, rollout, sample, total

from tracker.sources.codex import SOURCE

U1 = "019e0000-0000-7000-8000-000000000001"
U2 = "019e0000-0000-7000-8000-000000000002"
U3 = "019e0000-0000-7000-8000-000000000003"


def test_roots_default_to_dot_codex(tmp_path: Path) -> None:
    assert SOURCE.roots({}, tmp_path) == [tmp_path / ".codex"]
    assert SOURCE.roots({"CODEX_HOME": "  "}, tmp_path) == [tmp_path / ".codex"]


def test_roots_from_codex_home_comma_list(tmp_path: Path) -> None:
    env = {"CODEX_HOME": f" {tmp_path}/a , ,{tmp_path}/b"}
    assert SOURCE.roots(env, Path("/unused")) == [tmp_path / "a", tmp_path / "b"]


def test_discover_sessions_and_archived(tmp_path: Path) -> None:
    text = sample("fixture__ccusage-session-alpha").read_text()
    a = install(tmp_path, rollout("2026-05-13", "09-00-00", U1), text)
    b = install(tmp_path, f"archived_sessions/rollout-2026-05-01T08-00-00-{U2}.jsonl", text)
    install(tmp_path, "sessions/2026/05/13/notes.txt", "x")
    install(tmp_path, "sessions/2026/05/13/rollout.json", "{}")
    install(tmp_path, "archived_sessions/deep/rollout-2026-05-02T08-00-00-x.jsonl", text)  # archive is flat
    install(tmp_path, "other/rollout-2026-05-02T08-00-00-y.jsonl", text)
    (tmp_path / "sessions/2026/05/13/dir.jsonl").mkdir()
    assert SOURCE.discover([tmp_path]) == [b.resolve(), a.resolve()]
    assert SOURCE.discover([tmp_path / "missing"]) == []


def test_parents_sort_before_children_whatever_the_folder(tmp_path: Path) -> None:
    # By path alone the archived child would come first ("archived_sessions" < "sessions").
    parent = install(
        tmp_path,
        rollout("2026-05-12", "08-00-00", U1),
        sample("edge_thread-spawn-replay_parent__ccusage-tests"),
    )
    child = install(
        tmp_path,
        f"archived_sessions/rollout-2026-05-12T08-03-00-{U2}.jsonl",
        sample("edge_thread-spawn-replay_subagent__ccusage-tests"),
    )
    other = install(tmp_path, rollout("2026-05-11", "23-59-59", U3), sample("fixture__ccusage-session-alpha"))
    order = SOURCE.discover([tmp_path])
    assert order == [other.resolve(), parent.resolve(), child.resolve()]
    got = parse_all(order)
    assert [r.tokens.input_tokens + r.tokens.cache_read_tokens for r in got[child.resolve()]] == [100, 50]


def test_sessions_copy_wins_over_archived_copy_with_the_same_name(tmp_path: Path) -> None:
    name = f"rollout-2026-05-12T08-00-00-{U1}.jsonl"
    active = install(
        tmp_path, f"sessions/2026/05/12/{name}", sample("edge_thread-spawn-replay_parent__ccusage-tests")
    )
    install(tmp_path, f"archived_sessions/{name}", sample("fixture__ccusage-session-alpha"))
    only_archived = install(
        tmp_path,
        f"archived_sessions/rollout-2026-05-13T08-00-00-{U2}.jsonl",
        sample("fixture__ccusage-session-alpha"),
    )
    assert SOURCE.discover([tmp_path]) == [active.resolve(), only_archived.resolve()]


def test_roots_and_files_are_deduplicated_by_real_path(tmp_path: Path) -> None:
    real = tmp_path / "real"
    f = install(real, rollout("2026-05-12", "08-00-00", U1), sample("fixture__ccusage-session-alpha"))
    (tmp_path / "link").symlink_to(real)
    (real / "sessions/2026/05/12/alias.jsonl").symlink_to(f)
    assert SOURCE.discover([real, tmp_path / "link", real]) == [f.resolve()]


def test_zst_rollouts_are_found_and_read(tmp_path: Path) -> None:
    plain = sample("fixture__ccusage-session-alpha").read_bytes()
    z = install(
        tmp_path, rollout("2026-05-13", "09-00-00", U1) + ".zst", zstandard.ZstdCompressor().compress(plain)
    )
    za = install(
        tmp_path,
        f"archived_sessions/rollout-2026-05-14T09-00-00-{U2}.jsonl.zst",
        zstandard.ZstdCompressor().compress(plain),
    )
    assert SOURCE.discover([tmp_path]) == [z.resolve(), za.resolve()]
    res = SOURCE.parse(z, 0, None, 1, set())
    ref = SOURCE.parse(sample("fixture__ccusage-session-alpha"), 0, None, 1, set())
    assert [r.tokens for r in res.records] == [r.tokens for r in ref.records]
    assert {r.session_id for r in res.records} == {U1}  # the thread uuid of the file name
    assert res.new_offset == len(plain)
    assert total(res.records).total == 3925


def test_plain_copy_wins_over_zst_copy_of_the_same_rollout(tmp_path: Path) -> None:
    plain = sample("fixture__ccusage-session-alpha").read_bytes()
    p = install(tmp_path, rollout("2026-05-13", "09-00-00", U1), plain)
    install(
        tmp_path, rollout("2026-05-13", "09-00-00", U1) + ".zst", zstandard.ZstdCompressor().compress(plain)
    )
    assert SOURCE.discover([tmp_path]) == [p.resolve()]
