"""Claude Code transcripts: sessions, sub-agents, /btw replays, resume and fork copies (and their truth).

One API response is written as one line per content block; with versions before 2.1.97 the first block lines
are streaming placeholders with partial usage. Copies of a response land in other files: resume and fork
copies, ``progress`` lines in the parent that nest each sub-agent response, and ``/btw`` side questions that
replay recent responses with a new ``requestId``. The ledger counts each response once, at its final usage.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import (
    BIG_FILE_BYTES,
    CLAUDE_BYTES,
    CLAUDE_MAIN_MODELS,
    CLAUDE_SESSIONS,
    CLAUDE_SUB_MODELS,
    CONTEXT_CAP,
    DAY_MS,
    END_MS,
    LONG_CONTEXT_MODEL,
    MODERN_VERSIONS,
    PLACEHOLDER_VERSIONS,
    START_MS,
    Ledger,
    Out,
    Random2,
    Stats,
    TextPool,
    _dumps,
    day_of,
    iso,
    lognormal_weights,
)


@dataclass
class ClaudeSession:
    """One Claude Code conversation (main thread or sub-agent) and its growing prompt context."""

    session_id: str
    cwd: str
    version: str
    model: str
    ttl_1h: bool
    placeholders: bool
    branch: str = "main"
    slug: str = "quiet-prancing-wozniak"
    context: int = 0
    last_uuid: str | None = None
    agent_id: str | None = None
    recent: list[dict[str, Any]] = field(default_factory=list)  # recent assistant lines (for /btw replays)


@dataclass
class SessionPlan:
    budget: int
    start_ms: int
    resume: bool = False  # a resume copy (whole history in a new file) follows
    fork: bool = False  # a fork copy (a prefix of the history in a new file) follows
    subagents: float = 0.0  # chance per turn of spawning a sub-agent
    aside: bool = False  # a /btw side question replays recent messages in subagents/
    synthetic: bool = False
    placeholders: bool = False
    long_context: int = 0  # number of >200k-prompt requests (reported separately)
    no_request_id_copy: bool = False  # ccusage deviation trap (see truth.json)


class ClaudeGen:
    """Writes Claude Code sessions, sub-agents and their copies; records the truth."""

    def __init__(self, rng: Random2, text: TextPool, root: Path, ledger: Ledger, stats: Stats) -> None:
        self.rng = rng
        self.text = text
        self.root = root
        self.ledger = ledger
        self.stats = stats
        self.traps: dict[str, int] = defaultdict(int)
        self.deviation = [0] * 6
        self.deviation_cells: list[dict[str, str]] = []  # (day, model) cells holding the deviation
        self.long_context: dict[str, Any] = {"requests": 0, "days": [], "model": LONG_CONTEXT_MODEL}

    # -- lines -------------------------------------------------------------------------------------

    def _envelope(self, s: ClaudeSession, kind: str, ts: int) -> dict[str, Any]:
        line_uuid = self.rng.uuid4()
        env: dict[str, Any] = {
            "parentUuid": s.last_uuid,
            "isSidechain": s.agent_id is not None,
            "userType": "external",
            "cwd": s.cwd,
            "sessionId": s.session_id,
            "version": s.version,
            "gitBranch": s.branch,
        }
        if s.agent_id:
            env["agentId"] = s.agent_id
        else:
            env["slug"] = s.slug
        env["type"] = kind
        env["uuid"] = line_uuid
        env["timestamp"] = iso(ts)
        s.last_uuid = line_uuid
        return env

    def user_line(self, s: ClaudeSession, ts: int, tool_use_id: str | None) -> bytes:
        env = self._envelope(s, "user", ts)
        if tool_use_id is None:
            env["message"] = {
                "role": "user",
                "content": self.text.take(self.rng.lognorm_int(300, 1.0, 10, 6000)),
            }
        else:
            body = self.text.take(self.rng.lognorm_int(1200, 1.3, 20, 400_000))
            env["message"] = {
                "role": "user",
                "content": [{"tool_use_id": tool_use_id, "type": "tool_result", "content": body}],
            }
            # Claude Code keeps a second copy of the tool output here, which is why user lines are big.
            env["toolUseResult"] = {"stdout": body, "stderr": "", "interrupted": False, "isImage": False}
        return _dumps(env)

    def next_usage(self, s: ClaudeSession, long_context: bool = False) -> dict[str, Any]:
        rng = self.rng
        if s.context == 0 or s.context > CONTEXT_CAP:  # a fresh or compacted context is written to the cache
            s.context = rng.randint(12_000, 30_000)
            creation, read = s.context, 0
        else:
            creation = rng.lognorm_int(1500, 1.1, 50, 20_000)
            read = s.context
        if long_context:
            read = rng.randint(205_000, 260_000)
        s.context = read + creation
        output = rng.lognorm_int(250, 1.2, 4, 16_000)
        s.context += output
        one_h = creation if s.ttl_1h else 0
        return {
            "input_tokens": rng.randint(1, 12),
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": read,
            "output_tokens": output,
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
            "service_tier": "standard",
            "cache_creation": {
                "ephemeral_1h_input_tokens": one_h,
                "ephemeral_5m_input_tokens": creation - one_h,
            },
            "inference_geo": "",
            "iterations": [],
            "speed": "standard",
        }

    @staticmethod
    def usage_vec(usage: dict[str, Any]) -> tuple[int, int, int, int, int, int]:
        return (
            usage["input_tokens"],
            usage["cache_creation_input_tokens"],
            usage["cache_creation"]["ephemeral_1h_input_tokens"],
            usage["cache_read_input_tokens"],
            usage["output_tokens"],
            0,
        )

    def _blocks(self, n_blocks: int, tool: bool) -> list[dict[str, Any]]:
        rng = self.rng
        blocks: list[dict[str, Any]] = []
        if n_blocks >= 3:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": self.text.take(rng.lognorm_int(600, 1.0, 20, 12_000)),
                    "signature": self.text.take_b64(rng.randint(300, 900)),
                }
            )
        if n_blocks >= 2 or not tool:
            blocks.append({"type": "text", "text": self.text.take(rng.lognorm_int(500, 1.1, 10, 20_000))})
        if tool:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": "toolu_01" + rng.b62(22),
                    "name": rng.choice(("Bash", "Read", "Edit", "Write", "Grep")),
                    "input": {"command": self.text.take(rng.lognorm_int(300, 1.5, 5, 40_000))},
                }
            )
        return blocks

    def assistant(
        self, w: Out, s: ClaudeSession, ts: int, tool: bool, long_context: bool = False
    ) -> tuple[dict[str, Any], str | None]:
        """Write one API response as one line per content block; returns the final line and its tool id."""
        rng = self.rng
        usage = self.next_usage(s, long_context)
        msg_id = "msg_01" + rng.b62(22)
        request_id = "req_011C" + rng.b62(20)
        blocks = self._blocks(rng.choice((1, 2, 2, 3)), tool)
        final: dict[str, Any] = {}
        for i, block in enumerate(blocks):
            last = i == len(blocks) - 1
            line_usage = usage
            if s.placeholders and not last:
                # a streaming placeholder: partial output, input 0/1 (the final copy must win)
                line_usage = {
                    **usage,
                    "input_tokens": min(1, usage["input_tokens"]),
                    "output_tokens": rng.randint(1, max(1, usage["output_tokens"] // 2)),
                }
                self.traps["claude_placeholder_lines"] += 1
            env = self._envelope(s, "assistant", ts + i * 7)
            env["message"] = {
                "model": s.model,
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": "tool_use" if last and tool else ("end_turn" if last else None),
                "stop_sequence": None,
                "usage": line_usage,
            }
            env["requestId"] = request_id
            w.add(_dumps(env))
            self.stats.raw_usage_lines += 1
            final = env
        if len(blocks) > 1:
            self.traps["claude_multiline_messages"] += 1
        ts_final = ts + (len(blocks) - 1) * 7
        self.ledger.add(ts_final, s.model, self.usage_vec(usage))
        if long_context:
            self.long_context["requests"] += 1
            self.long_context["days"].append(day_of(ts_final))
        s.recent = [*s.recent[-3:], final]
        tool_id = blocks[-1]["id"] if tool else None
        return final, tool_id

    def synthetic(self, w: Out, s: ClaudeSession, ts: int) -> None:
        env = self._envelope(s, "assistant", ts)
        env["message"] = {
            "id": self.rng.uuid4(),
            "model": "<synthetic>",
            "role": "assistant",
            "stop_reason": "stop_sequence",
            "stop_sequence": "",
            "type": "message",
            "usage": {
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                "service_tier": None,
                "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
            },
            "content": [{"type": "text", "text": "No response requested."}],
        }
        env["isApiErrorMessage"] = False
        w.add(_dumps(env))
        self.stats.raw_usage_lines += 1
        self.traps["claude_synthetic_rows"] += 1

    def chatter(self, w: Out, s: ClaudeSession, ts: int) -> None:
        """Lines without usage: hooks, turn durations, file-history snapshots."""
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            env = self._envelope(s, "progress", ts)
            env["data"] = {
                "type": "hook_progress",
                "hookEvent": "Stop",
                "hookName": "Stop",
                "command": "node hook.js",
            }
        elif r < 0.6:
            env = self._envelope(s, "system", ts)
            env["subtype"] = "turn_duration"
            env["durationMs"] = rng.randint(1000, 300_000)
        else:
            mid = rng.uuid4()
            env = {
                "type": "file-history-snapshot",
                "messageId": mid,
                "snapshot": {"messageId": mid, "trackedFileBackups": {}, "timestamp": iso(ts)},
                "isSnapshotUpdate": False,
            }
        w.add(_dumps(env))

    # -- sessions ----------------------------------------------------------------------------------

    def new_session(self, cwd: str, placeholders: bool) -> ClaudeSession:
        rng = self.rng
        models = [m for m, _ in CLAUDE_MAIN_MODELS]
        weights = [p for _, p in CLAUDE_MAIN_MODELS]
        return ClaudeSession(
            session_id=rng.uuid4(),
            cwd=cwd,
            version=rng.choice(PLACEHOLDER_VERSIONS if placeholders else MODERN_VERSIONS),
            model=rng.choices(models, weights)[0],
            ttl_1h=rng.random() < 0.6,
            placeholders=placeholders,
            branch=rng.choice(("main", "main", "dev", "feature/ledger")),
        )

    def session_dir(self, cwd: str) -> Path:
        return self.root / "projects" / cwd.replace("/", "-").replace(".", "-")

    def run(self, plan: SessionPlan, cwd: str) -> None:
        s = self.new_session(cwd, plan.placeholders)
        if plan.long_context:
            s.model = LONG_CONTEXT_MODEL
        path = self.session_dir(cwd) / f"{s.session_id}.jsonl"
        w = Out(path, self.stats)
        ts = self.conversation(w, s, plan, plan.start_ms, plan.budget)
        w.close()
        if plan.aside and s.recent:
            self.aside(s, ts)
        if plan.resume:
            self.copy_session(path, s, cwd, ts, whole=True, plan=plan)
        if plan.fork:
            self.copy_session(path, s, cwd, ts, whole=False, plan=plan)

    def conversation(self, w: Out, s: ClaudeSession, plan: SessionPlan, ts: int, budget: int) -> int:
        rng = self.rng
        w.add(self.user_line(s, ts, None))
        tool_id: str | None = None
        long_left = plan.long_context
        start_size = w.size
        while w.size - start_size < budget:
            ts += rng.randint(2_000, 45_000)
            tool = rng.random() < 0.75
            long_context = long_left > 0 and rng.random() < 0.3
            long_left -= long_context
            _, tool_id = self.assistant(w, s, ts, tool, long_context)
            ts += 2_000
            if rng.random() < 0.15:
                self.chatter(w, s, ts)
            if plan.synthetic and (self.traps["claude_synthetic_rows"] == 0 or rng.random() < 0.05):
                self.synthetic(w, s, ts + 1)
            if tool_id and rng.random() < plan.subagents:
                ts = self.subagent(w, s, ts)
            w.add(self.user_line(s, ts + 500, tool_id))
        while long_left > 0:  # the plan asked for them: make sure they exist
            ts += 10_000
            self.assistant(w, s, ts, False, True)
            long_left -= 1
        return ts

    def subagent(self, parent_w: Out, parent: ClaudeSession, ts: int) -> int:
        """A Task sub-agent: a file in subagents/ plus a progress copy of each response in the parent."""
        rng = self.rng
        agent_id = rng.hexid(8)
        sub = ClaudeSession(
            session_id=parent.session_id,
            cwd=parent.cwd,
            version=parent.version,
            model=rng.choice(CLAUDE_SUB_MODELS),
            ttl_1h=False,
            placeholders=parent.placeholders,
            agent_id=agent_id,
        )
        path = self.session_dir(parent.cwd) / parent.session_id / "subagents" / f"agent-{agent_id}.jsonl"
        w = Out(path, self.stats)
        w.add(self.user_line(sub, ts, None))
        for _ in range(rng.randint(2, 14)):
            ts += rng.randint(1_500, 20_000)
            final, tool_id = self.assistant(w, sub, ts, rng.random() < 0.8)
            nested = {
                k: final[k] for k in ("type", "timestamp", "message", "requestId", "uuid", "isSidechain")
            }
            progress = self._envelope(parent, "progress", ts + 50)
            progress["data"] = {"type": "agent_progress", "agentId": agent_id, "message": nested}
            parent_w.add(_dumps(progress))
            self.stats.raw_usage_lines += 1
            w.add(self.user_line(sub, ts + 900, tool_id))
        w.close()
        self.traps["claude_subagent_files"] += 1
        return ts + 1_000

    def aside(self, parent: ClaudeSession, ts: int) -> None:
        """A /btw side question: replays recent parent responses (same message.id, new requestId)."""
        rng = self.rng
        aside_id = "aside_question-" + rng.hexid(16)
        sub = ClaudeSession(
            session_id=parent.session_id,
            cwd=parent.cwd,
            version=parent.version,
            model=parent.model,
            ttl_1h=parent.ttl_1h,
            placeholders=False,
            agent_id=aside_id,
        )
        path = self.session_dir(parent.cwd) / parent.session_id / "subagents" / f"agent-{aside_id}.jsonl"
        w = Out(path, self.stats)
        for line in parent.recent:
            replay = {**line, "isSidechain": True, "agentId": aside_id, "requestId": "req_011C" + rng.b62(20)}
            w.add(_dumps(replay))
            self.stats.raw_usage_lines += 1
            self.traps["claude_aside_replayed_lines"] += 1
        sub.context = parent.context
        w.add(self.user_line(sub, ts + 1_000, None))
        self.assistant(w, sub, ts + 3_000, False)
        w.close()
        self.traps["claude_aside_files"] += 1

    def copy_session(
        self, src: Path, parent: ClaudeSession, cwd: str, ts: int, *, whole: bool, plan: SessionPlan
    ) -> None:
        """Resume (whole history) or fork (a prefix) into a new session file, which then continues."""
        rng = self.rng
        data = src.read_bytes()
        if not whole:
            cut = data.rfind(
                b"\n", 0, rng.randint(len(data) // 4, max(len(data) // 4 + 1, len(data) * 3 // 4))
            )
            data = data[: cut + 1]
        s = self.new_session(cwd, False)
        s.model = parent.model
        s.context = parent.context
        w = Out(self.session_dir(cwd) / f"{s.session_id}.jsonl", self.stats)
        copied = data.count(b'"usage":{')
        self.stats.raw_usage_lines += copied
        self.traps["claude_copied_usage_lines"] += copied
        if whole and plan.no_request_id_copy:
            data = self._strip_request_ids(data, parent)
        w.add(data.rstrip(b"\n"))
        budget = max(2_000, plan.budget // 4)
        self.conversation(
            w, s, SessionPlan(budget=budget, start_ms=ts), ts + rng.randint(60_000, 7_200_000), budget
        )
        w.close()
        self.traps["claude_resume_files" if whole else "claude_fork_files"] += 1

    def _strip_request_ids(self, data: bytes, parent: ClaudeSession) -> bytes:
        """ccusage deviation trap: the copy of each recent response lacks its requestId.

        We key on message.id alone and count each once; ccusage keys on message.id:requestId (message.id when
        requestId is absent), so it counts these responses twice. The delta is recorded in truth.json.
        """
        for line in parent.recent[-2:]:
            old = _dumps(line)
            if old not in data:
                continue
            data = data.replace(old, _dumps({k: v for k, v in line.items() if k != "requestId"}))
            vec = self.usage_vec(line["message"]["usage"])
            self.deviation = [a + b for a, b in zip(self.deviation, vec, strict=True)]
            cell = {"day": line["timestamp"][:10], "model": line["message"]["model"]}
            if cell not in self.deviation_cells:
                self.deviation_cells.append(cell)
            self.traps["claude_copies_without_request_id"] += 1
        return data


def claude_plans(rng: Random2, scale: float) -> list[SessionPlan]:
    n = max(8, round(CLAUDE_SESSIONS * scale))
    big = int(BIG_FILE_BYTES * scale)
    # the main-file budgets; sub-agents, progress copies and resume/fork copies add roughly 36 % on top
    per = max(4_000, int((CLAUDE_BYTES * scale - big * 1.1) / 1.36 / n))
    plans = []
    for weight in lognormal_weights(rng, n, 1.0):
        start = rng.randint(START_MS, END_MS - 3 * DAY_MS)
        plan = SessionPlan(budget=max(2_000, int(per * weight)), start_ms=start)
        plan.resume = rng.random() < 0.06
        plan.fork = rng.random() < 0.04
        plan.subagents = rng.choice((0.0, 0.0, 0.03, 0.08))
        plan.aside = rng.random() < 0.03
        plan.synthetic = rng.random() < 0.2
        plan.placeholders = rng.random() < 0.3
        plans.append(plan)
    force_traps(plans)
    # the one big file: a long-running session over the last two weeks, with sub-agents
    big_plan = SessionPlan(budget=big, start_ms=END_MS - 14 * DAY_MS, subagents=0.02, placeholders=True)
    big_plan.budget = max(big_plan.budget, 20_000)
    plans.append(big_plan)
    return plans


def force_traps(plans: list[SessionPlan]) -> None:
    """Make every trap appear even in a tiny corpus (and the long-context + deviation traps only here)."""
    plans[0].resume = plans[0].placeholders = plans[0].synthetic = True
    plans[1].fork = plans[1].aside = True
    plans[1].subagents = 0.5
    plans[2].long_context = 3
    plans[3].resume = plans[3].no_request_id_copy = True
    plans[3].fork = plans[3].aside = False  # keep the deviation trap's arithmetic simple
    plans[4].subagents = 0.3
    plans[4].placeholders = True
