"""Codex CLI rollouts: cumulative token_count events with every known way of repeating them (and their truth).

Re-emitted snapshots, ``info: null`` events, zero-component rows, forked children that copy the parent's
history, ``thread_spawn`` sub-agents that replay the parent's token rows, and the older totals-only format.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from .common import CODEX_MODELS, Ledger, Out, Random2, Stats, TextPool, _dumps, iso


@dataclass
class CodexThread:
    """One Codex rollout being built in memory (files are ~0.3 MB; forks and spawns copy from them)."""

    thread_id: str
    start_ms: int
    cwd: str
    model: str
    cli_version: str
    totals_only: bool = False
    source: Any = "cli"
    forked_from: str | None = None
    lines: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    counted: list[int] = field(default_factory=list)  # indexes in ``lines`` of distinct counted token events
    total: list[int] = field(
        default_factory=lambda: [0, 0, 0, 0, 0]
    )  # input, cached, output, reasoning, total
    context: int = 0


class CodexGen:
    """Writes Codex rollouts with re-emits, null infos, forks, thread_spawn sub-agents and the old format."""

    def __init__(self, rng: Random2, text: TextPool, root: Path, ledger: Ledger, stats: Stats) -> None:
        self.rng = rng
        self.text = text
        self.root = root
        self.ledger = ledger
        self.stats = stats
        self.traps: dict[str, int] = defaultdict(int)
        self.archive_chance = 0.15
        self.threads = 0

    def meta(self, t: CodexThread) -> dict[str, Any]:
        payload: dict[str, Any] = {"id": t.thread_id}
        if t.forked_from:
            payload["forked_from_id"] = t.forked_from
        payload.update(
            {
                "timestamp": iso(t.start_ms),
                "cwd": t.cwd,
                "originator": "codex_cli_rs",
                "cli_version": t.cli_version,
                "source": t.source,  # before the instructions: ccusage looks in the first 16 KiB
                "model_provider": "openai",
                "base_instructions": {"text": self.text.take(self.rng.randint(3000, 6000))},
                "git": {
                    "branch": "main",
                    "commit_hash": self.rng.hexid(40),
                    "repository_url": "git@example:x.git",
                },
            }
        )
        return payload

    def turn_context(self, t: CodexThread) -> dict[str, Any]:
        return {
            "cwd": t.cwd,
            "approval_policy": "on-request",
            "sandbox_policy": {"type": "workspace-write"},
            "model": t.model,
            "effort": self.rng.choice(("medium", "high")),
            "summary": "auto",
        }

    def rate_limits(self) -> dict[str, Any]:
        rng = self.rng
        return {
            "primary": {
                "used_percent": round(rng.uniform(0, 90), 1),
                "window_minutes": 300,
                "resets_in_seconds": 999,
            },
            "secondary": {"used_percent": round(rng.uniform(0, 60), 1), "window_minutes": 10080},
            "plan_type": "pro",
        }

    def call_usage(self, t: CodexThread) -> list[int]:
        rng = self.rng
        if t.context == 0 or t.context > 200_000:
            t.context = rng.randint(8_000, 20_000)
            cached = 0
        else:
            cached = (t.context // 128) * 128 if rng.random() < 0.9 else 0
        new = rng.lognorm_int(2500, 1.2, 30, 40_000)
        inp = t.context + new
        cached = min(cached, inp)
        out = rng.lognorm_int(400, 1.2, 1, 20_000)
        reasoning = int(out * rng.uniform(0, 0.7))
        t.context = inp + out
        return [inp, cached, out, reasoning, inp + out]

    @staticmethod
    def usage_obj(v: list[int]) -> dict[str, int]:
        return {
            "input_tokens": v[0],
            "cached_input_tokens": v[1],
            "output_tokens": v[2],
            "reasoning_output_tokens": v[3],
            "total_tokens": v[4],
        }

    def count(self, ts: int, model: str, v: list[int]) -> None:
        self.ledger.add(ts, model, (v[0] - v[1], 0, 0, v[1], v[2], v[3]))

    def token_event(self, t: CodexThread, ts: int) -> int:
        """One API call: a cumulative token_count (maybe re-emitted, maybe preceded by an info:null one)."""
        rng = self.rng
        if rng.random() < 0.08:
            t.lines.append(
                (
                    ts - 300,
                    "event_msg",
                    {"type": "token_count", "info": None, "rate_limits": self.rate_limits()},
                )
            )
            self.traps["codex_info_null_events"] += 1
        last = self.call_usage(t)
        t.total = [a + b for a, b in zip(t.total, last, strict=True)]
        info: dict[str, Any] = {"total_token_usage": self.usage_obj(t.total)}
        if not t.totals_only:
            info["last_token_usage"] = self.usage_obj(last)
        info["model_context_window"] = 272_000
        t.counted.append(len(t.lines))
        t.lines.append(
            (ts, "event_msg", {"type": "token_count", "info": info, "rate_limits": self.rate_limits()})
        )
        self.count(ts, t.model, last)
        self.stats.raw_usage_lines += 1
        if rng.random() < 0.35:  # a rate-limit/UI refresh re-emits the same snapshot with a fresh timestamp
            ts += rng.randint(50, 3_000)
            t.lines.append(
                (ts, "event_msg", {"type": "token_count", "info": info, "rate_limits": self.rate_limits()})
            )
            self.traps["codex_reemitted_events"] += 1
            self.stats.raw_usage_lines += 1
        if not t.totals_only and (
            self.traps["codex_zero_component_rows"] == 0 or rng.random() < 0.02
        ):  # a zero-component row: total unchanged, last all zero
            zero = {**info, "last_token_usage": {**self.usage_obj([0, 0, 0, 0, 0]), "total_tokens": last[4]}}
            t.lines.append((ts + 10, "event_msg", {"type": "token_count", "info": zero, "rate_limits": None}))
            self.traps["codex_zero_component_rows"] += 1
            self.stats.raw_usage_lines += 1
        return ts

    def turn(self, t: CodexThread, ts: int) -> int:
        rng = self.rng
        prompt = self.text.take(rng.lognorm_int(250, 1.0, 5, 5000))
        msg = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]}
        t.lines.append((ts, "response_item", msg))
        t.lines.append((ts, "event_msg", {"type": "user_message", "message": prompt, "images": []}))
        if rng.random() < 0.04:  # the user switches model mid-session
            t.model = rng.choice(CODEX_MODELS)
        t.lines.append((ts, "turn_context", self.turn_context(t)))
        for _ in range(rng.randint(1, 8)):
            ts += rng.randint(1_500, 30_000)
            reasoning = {
                "type": "reasoning",
                "summary": [],
                "encrypted_content": self.text.take_b64(rng.randint(400, 3000)),
            }
            t.lines.append((ts, "response_item", reasoning))
            call_id = "call_" + rng.b62(24)
            args = orjson.dumps(
                {"command": ["bash", "-lc", self.text.take(rng.lognorm_int(120, 1.0, 5, 3000))]}
            )
            call = {"type": "function_call", "name": "shell", "arguments": args.decode(), "call_id": call_id}
            t.lines.append((ts, "response_item", call))
            output = self.text.take(rng.lognorm_int(2000, 1.4, 10, 150_000))
            t.lines.append(
                (
                    ts + 400,
                    "response_item",
                    {"type": "function_call_output", "call_id": call_id, "output": output},
                )
            )
            ts = self.token_event(t, ts + 500)
        answer = self.text.take(rng.lognorm_int(600, 1.0, 10, 8000))
        ts += rng.randint(1_000, 20_000)
        item = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": answer}]}
        t.lines.append((ts, "response_item", item))
        t.lines.append((ts, "event_msg", {"type": "agent_message", "message": answer}))
        ts = self.token_event(t, ts + 200)
        return ts

    def new_thread(self, start_ms: int, cwd: str, **kw: Any) -> CodexThread:
        rng = self.rng
        self.threads += 1
        t = CodexThread(
            thread_id=rng.uuid7(start_ms),
            start_ms=start_ms,
            cwd=cwd,
            model=CODEX_MODELS[self.threads % 2] if self.threads <= 2 else rng.choice(CODEX_MODELS),
            cli_version=rng.choice(("0.58.0", "0.63.0", "0.71.0")),
            **kw,
        )
        t.lines.append((start_ms, "session_meta", self.meta(t)))
        return t

    def grow(self, t: CodexThread, ts: int, budget: int) -> int:
        size = 0
        while size < budget:
            before = len(t.lines)
            ts = self.turn(t, ts + self.rng.randint(5_000, 600_000))
            size += sum(
                len(p.get("output", "")) + len(p.get("encrypted_content", "")) + 400
                for _, _, p in t.lines[before:]
            )
        return ts

    def write(self, t: CodexThread) -> None:
        stamp = datetime.fromtimestamp(t.start_ms / 1000, UTC)
        name = f"rollout-{stamp.strftime('%Y-%m-%dT%H-%M-%S')}-{t.thread_id}.jsonl"
        if self.rng.random() < self.archive_chance or not self.traps["codex_archived_files"]:
            path = self.root / "archived_sessions" / name
            self.traps["codex_archived_files"] += 1
        else:
            path = self.root / "sessions" / stamp.strftime("%Y/%m/%d") / name
        w = Out(path, self.stats)
        for ts, kind, payload in t.lines:
            w.add(_dumps({"timestamp": iso(ts), "type": kind, "payload": payload}))
        w.close()

    def session(self, start_ms: int, cwd: str, budget: int, kind: str) -> None:
        """kind: plain | old | fork | spawn (the last two also write a child file)."""
        rng = self.rng
        t = self.new_thread(start_ms, cwd, totals_only=kind == "old")
        if kind == "old":
            t.cli_version = "0.36.0"
            self.traps["codex_totals_only_files"] += 1
        ts = self.grow(t, start_ms, budget)
        if kind in ("fork", "spawn") and len(t.counted) >= 2:
            k = rng.randint(1, len(t.counted) - 1)  # branch after the k-th counted event
            child_ts = t.lines[t.counted[k - 1]][0] + rng.randint(2_000, 60_000)
            # the parent keeps going after the branch point, in its own file
            if kind == "fork":
                self.fork(t, k, child_ts, budget // 3)
            else:
                self.spawn(t, k, child_ts, budget // 3)
        del ts
        self.write(t)

    def fork(self, parent: CodexThread, k: int, ts: int, budget: int) -> None:
        """A forked child: copies the parent's history up to the k-th counted event (new timestamps)."""
        rng = self.rng
        child = self.new_thread(ts, parent.cwd, forked_from=parent.thread_id)
        child.model = parent.model
        cut = parent.counted[k - 1]
        child.lines.append((ts, "session_meta", parent.lines[0][2]))  # forks copy the parent's metadata too
        for i, (_, kind, payload) in enumerate(parent.lines[1 : cut + 1]):
            child.lines.append((ts + i, kind, payload))
            if kind == "event_msg" and payload.get("type") == "token_count" and payload.get("info"):
                self.stats.raw_usage_lines += 1
                self.traps["codex_fork_replayed_events"] += 1
        child.total = list(parent.lines[cut][2]["info"]["total_token_usage"].values())
        child.context = parent.context
        self.grow(child, ts + len(parent.lines) + 1_000, budget)
        self.traps["codex_fork_files"] += 1
        self.write(child)
        del rng

    def spawn(self, parent: CodexThread, k: int, ts: int, budget: int) -> None:
        """A thread_spawn sub-agent: replays the parent's counted events stamped with the spawn second."""
        rng = self.rng
        second = ts - ts % 1000
        source = {
            "subagent": {
                "thread_spawn": {
                    "parent_thread_id": parent.thread_id,
                    "depth": 1,
                    "agent_nickname": "helper",
                    "agent_role": "worker",
                }
            }
        }
        child = self.new_thread(second, parent.cwd, source=source)
        child.model = parent.model
        child.lines.append((second, "session_meta", parent.lines[0][2]))
        offsets = sorted(rng.randint(0, 999) for _ in range(k))
        for i, offset in zip(parent.counted[:k], offsets, strict=True):
            child.lines.append((second + offset, "event_msg", parent.lines[i][2]))
            self.stats.raw_usage_lines += 1
            self.traps["codex_spawn_replayed_events"] += 1
        child.lines.append((second + 1_000, "turn_context", self.turn_context(child)))
        self.grow(child, second + 1_000, budget)
        self.traps["codex_thread_spawn_files"] += 1
        self.write(child)


def codex_kinds(rng: Random2, n: int) -> list[str]:
    kinds = rng.choices(("plain", "old", "fork", "spawn"), (0.7, 0.08, 0.11, 0.11), k=n)
    kinds[:4] = ["fork", "spawn", "old", "plain"]
    return kinds
