#!/usr/bin/env python3
"""Token Ledger against ccusage, side by side on one generated corpus (issue 2 §7).

One run measures, on the same corpus and the same machine:

* ``token-ledger --data-dir <empty> sync`` (cold import);
* ``token-ledger sync`` + ``token-ledger report daily --format json --tz UTC`` with nothing changed (warm,
  median of ``--runs``);
* ``ccusage claude daily --json --offline`` and ``ccusage codex daily --json --offline`` (median of
  ``--runs``; ccusage keeps no state, so every run does the whole work).

Every command runs with ``CLAUDE_CONFIG_DIR``/``CODEX_HOME`` pointed at the corpus, ``HOME`` at an empty
folder (so no real logs leak in) and ``TZ=UTC``. Wall time is measured around the process; peak RSS is the
larger of the kernel's ``ru_maxrss`` for the process and a 20 Hz sample of the summed RSS of its process tree.

Then it checks the numbers: our token totals against ``truth.json`` (per field and per UTC day), ccusage's
against the truth (after the deviations the generator recorded as known), and costs against ccusage's within
0.5 % per day and model wherever both price the model (the long-context requests are reported apart: ccusage
applies the 200k threshold per token bucket, Anthropic bills it per request).

Results: a markdown table on stdout and ``bench/out/results.json``.

Usage: ``uv run python bench/compare.py [--scale 1.0] [--runs 5] [--corpus DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CACHE = BENCH / ".cache"
CCUSAGE_VERSION = "20.0.24"
CCUSAGE_PREFIX = CACHE / "ccusage"
COST_TOLERANCE = 0.005
FIELDS = ("input_tokens", "cache_creation_tokens", "cache_read_tokens", "output_tokens")
CCUSAGE_FIELDS = {
    "input_tokens": "inputTokens",
    "cache_creation_tokens": "cacheCreationTokens",
    "cache_read_tokens": "cacheReadTokens",
    "output_tokens": "outputTokens",
    "reasoning_tokens": "reasoningOutputTokens",
}
SOURCES = {"claude_code": "claude", "codex": "codex"}

# ----------------------------------------------------------------------------------------------------
# Running and measuring


@dataclass
class Run:
    """One measured process."""

    argv: list[str]
    wall_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr_tail: str


def _tree_rss_kb(root: int) -> int:
    """Summed VmRSS of ``root`` and its descendants (a process pool counts in full)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in task.read_text().split()]
    return total


def measure(argv: list[str], env: dict[str, str]) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        return _measure(argv, env, out, err)


def _measure(argv: list[str], env: dict[str, str], out: IO[bytes], err: IO[bytes]) -> Run:
    peak = [0]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, cwd=REPO)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    return Run(
        argv=argv,
        wall_s=wall,
        peak_rss_mb=max(usage.ru_maxrss, peak[0]) / 1024,
        returncode=proc.returncode,
        stdout=out.read().decode(errors="replace"),
        stderr_tail=err.read().decode(errors="replace")[-2000:],
    )


def checked(run: Run) -> Run:
    if run.returncode != 0:
        sys.exit(f"failed ({run.returncode}): {' '.join(run.argv)}\n{run.stderr_tail}")
    return run


def bench_env(corpus: Path, home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "CLAUDE_CONFIG_DIR": str(corpus / "claude"),
        "CODEX_HOME": str(corpus / "codex"),
        "TZ": "UTC",
        "LANG": "C.UTF-8",
    }


# ----------------------------------------------------------------------------------------------------
# Set-up: corpus, ccusage, token-ledger


def ensure_corpus(corpus: Path, scale: float, seed: int) -> dict[str, Any]:
    truth = corpus / "truth.json"
    if not truth.exists():
        print(f"generating the corpus (scale {scale}) into {corpus} ...", file=sys.stderr)
        cmd = [sys.executable, str(BENCH / "generate_corpus.py"), "--out", str(corpus), "--scale", str(scale)]
        subprocess.run([*cmd, "--seed", str(seed), "--force"], check=True)
    data: dict[str, Any] = json.loads(truth.read_text())
    return data


def ccusage_binary() -> Path:
    """The native ccusage binary (the npm package's JS shim only spawns it; called directly, no node)."""
    native = CCUSAGE_PREFIX / "node_modules" / "@ccusage" / "ccusage-linux-x64" / "bin" / "ccusage"
    installed = CCUSAGE_PREFIX / "node_modules" / "ccusage" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != CCUSAGE_VERSION:
        npm = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CCUSAGE_PREFIX)]
        subprocess.run([*npm, f"ccusage@{CCUSAGE_VERSION}"], check=True)
    if native.exists():
        return native
    for candidate in (CCUSAGE_PREFIX / "node_modules" / "@ccusage").glob("*/bin/ccusage*"):
        return candidate
    return CCUSAGE_PREFIX / "node_modules" / ".bin" / "ccusage"


def precompile() -> None:
    """Write bytecode for the project and its venv, as an installed app has it.

    Without this the first (cold) run would also pay for compiling every module, and an environment with
    PYTHONDONTWRITEBYTECODE set would pay it on every run; neither is what a user's machine does.
    """
    venv_python = REPO / ".venv" / "bin" / "python"
    python = str(venv_python) if venv_python.exists() else sys.executable
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(
        [python, "-m", "compileall", "-q", str(REPO / "tracker"), site],
        check=False,
        stdout=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )


def token_ledger_argv(override: str | None) -> list[str]:
    """The console script in the project venv (``uv run`` would add its own start-up to each run)."""
    if override:
        return shlex.split(override)
    script = REPO / ".venv" / "bin" / "token-ledger"
    return [str(script)] if script.exists() else ["uv", "run", "--project", str(REPO), "token-ledger"]


# ----------------------------------------------------------------------------------------------------
# The runs


def run_ours(env: dict[str, str], runs: int, work: Path, tl: list[str]) -> dict[str, Any]:
    data = work / "ledger"
    cold = checked(measure([*tl, "--data-dir", str(data), "sync"], env))
    warm: list[tuple[Run, Run]] = []
    for _ in range(runs):
        sync = checked(measure([*tl, "--data-dir", str(data), "sync"], env))
        report = checked(
            measure([*tl, "--data-dir", str(data), "report", "daily", "--format", "json", "--tz", "UTC"], env)
        )
        warm.append((sync, report))
    reports = {"all": json.loads(warm[-1][1].stdout)}
    for source in SOURCES:
        argv = [
            *tl,
            "--data-dir",
            str(data),
            "report",
            "daily",
            "--format",
            "json",
            "--tz",
            "UTC",
            "--source",
            source,
        ]
        reports[source] = json.loads(checked(measure(argv, env)).stdout)
    return {
        "cold": cold,
        "warm_wall_s": statistics.median(s.wall_s + r.wall_s for s, r in warm),
        "warm_peak_rss_mb": max(max(s.peak_rss_mb, r.peak_rss_mb) for s, r in warm),
        "warm_sync_s": statistics.median(s.wall_s for s, _ in warm),
        "warm_report_s": statistics.median(r.wall_s for _, r in warm),
        "cold_summary": cold.stdout.strip()[-1500:],
        "reports": reports,
    }


def run_ccusage(env: dict[str, str], runs: int) -> dict[str, Any]:
    binary = str(ccusage_binary())
    result: dict[str, Any] = {"binary": binary}
    for source, sub in SOURCES.items():
        argv = [binary, sub, "daily", "--json", "--offline"]
        checked(measure(argv, env))  # one untimed run first: both tools then read from a warm page cache
        timed = [checked(measure(argv, env)) for _ in range(runs)]
        result[source] = {
            "wall_s": statistics.median(r.wall_s for r in timed),
            "peak_rss_mb": max(r.peak_rss_mb for r in timed),
            "report": json.loads(timed[-1].stdout),
        }
    result["wall_s"] = sum(result[s]["wall_s"] for s in SOURCES)
    result["peak_rss_mb"] = max(result[s]["peak_rss_mb"] for s in SOURCES)
    return result


# ----------------------------------------------------------------------------------------------------
# Checks


def field_diffs(got: dict[str, int], want: dict[str, int], fields: tuple[str, ...]) -> dict[str, int]:
    return {f: got.get(f, 0) - want.get(f, 0) for f in fields if got.get(f, 0) != want.get(f, 0)}


def check_ours(report: dict[str, Any], truth_source: dict[str, Any]) -> dict[str, Any]:
    fields = (*FIELDS, "reasoning_tokens")
    totals = field_diffs(report["totals"], truth_source["totals"], fields)
    days = {}
    ours_days = {row["period"]: row for row in report["rows"]}
    for day in sorted(set(ours_days) | set(truth_source["by_day"])):
        diff = field_diffs(ours_days.get(day, {}), truth_source["by_day"].get(day, {}), fields)
        if diff:
            days[day] = diff
    records = report["totals"].get("records")
    return {
        "exact": not totals and not days and records == truth_source["totals"]["records"],
        "totals_equal": not totals,
        "totals_diff": totals,
        "days_with_diff": days,
        "records": records,
        "truth_records": truth_source["totals"]["records"],
    }


def ccusage_tokens(report: dict[str, Any]) -> dict[str, int]:
    return {ours: int(report["totals"].get(theirs, 0)) for ours, theirs in CCUSAGE_FIELDS.items()}


def check_ccusage(source: str, report: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    want = dict(truth["sources"][source]["totals"])
    deviation = truth.get("ccusage_known_deviations", {}).get(source, {})
    fields = (*FIELDS, "reasoning_tokens") if source == "codex" else FIELDS
    got = ccusage_tokens(report)
    raw = field_diffs(got, want, fields)
    expected = {f: want[f] + int(deviation.get(f, 0)) for f in fields}
    after = field_diffs(got, expected, fields)
    return {
        "equal_to_truth": not raw,
        "diff_from_truth": raw,
        "known_deviation": {f: deviation[f] for f in fields if deviation.get(f)},
        "equal_after_known_deviation": not after,
        "unexplained_diff": after,
    }


def ccusage_costs(source: str, report: dict[str, Any]) -> dict[tuple[str, str], float]:
    """Cost per (day, model) for Claude; per (day, "*") for Codex (its daily JSON has no per-model cost)."""
    costs: dict[tuple[str, str], float] = {}
    for day in report.get("daily", []):
        if source == "claude_code":
            for m in day.get("modelBreakdowns", []):
                costs[(day["date"], m["modelName"])] = float(m["cost"])
        else:
            costs[(day["date"], "*")] = float(day.get("costUSD", day.get("totalCost", 0.0)))
    return costs


def our_costs(source: str, report: dict[str, Any]) -> dict[tuple[str, str], tuple[float, int]]:
    costs: dict[tuple[str, str], tuple[float, int]] = {}
    for row in report["rows"]:
        if source == "claude_code":
            for m in row.get("by_model", []):
                costs[(row["period"], m["model"])] = (
                    float(m.get("cost_usd") or 0),
                    int(m.get("unpriced_tokens", 0)),
                )
        else:
            costs[(row["period"], "*")] = (
                float(row.get("cost_usd") or 0),
                int(row.get("unpriced_tokens", 0)),
            )
    return costs


def excluded_cells(source: str, truth: dict[str, Any]) -> dict[tuple[str, str], str]:
    if source != "claude_code":
        return {}
    out = {}
    lc = truth.get("long_context", {})
    for day in lc.get("days", []):
        out[(day, lc["model"])] = (
            "long-context requests (>200k prompt): tier applied per request vs per bucket"
        )
    for cell in truth.get("ccusage_known_deviations", {}).get("claude_code", {}).get("cells", []):
        out[(cell["day"], cell["model"])] = "ccusage counts the copies without requestId twice"
    return out


def compare_costs(
    source: str, ours: dict[str, Any], theirs: dict[str, Any], truth: dict[str, Any]
) -> dict[str, Any]:
    mine, cc = our_costs(source, ours), ccusage_costs(source, theirs)
    excluded = excluded_cells(source, truth)
    checked_n, outside, apart = 0, [], []
    for key in sorted(set(mine) & set(cc)):
        (our_cost, unpriced), their_cost = mine[key], cc[key]
        entry = {"day": key[0], "model": key[1], "ours": round(our_cost, 6), "ccusage": round(their_cost, 6)}
        if key in excluded:
            apart.append({**entry, "why": excluded[key]})
            continue
        if unpriced or their_cost == 0:
            continue  # one side does not price it: not comparable
        checked_n += 1
        rel = abs(our_cost - their_cost) / their_cost
        if rel > COST_TOLERANCE:
            outside.append({**entry, "rel_diff": round(rel, 5)})
    return {
        "cells_checked": checked_n,
        "cells_outside_tolerance": outside,
        "reported_apart": apart,
        "ours_total": round(float(ours["totals"].get("cost_usd") or 0), 6),
        "ccusage_total": round(
            float(theirs["totals"].get("totalCost", theirs["totals"].get("costUSD", 0.0))), 6
        ),
        "within_tolerance": not outside and checked_n > 0,
    }


# ----------------------------------------------------------------------------------------------------
# Output


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
    }


def table(results: dict[str, Any]) -> str:
    ours, cc = results["token_ledger"], results["ccusage"]
    cold, warm = ours["cold_wall_s"], ours["warm_wall_s"]
    rows = [
        (
            "cold import wall time",
            f"{cold:.2f} s",
            f"{cc['wall_s']:.2f} s",
            f"{cold / cc['wall_s']:.2f}× of ccusage",
            "≤ 1×",
        ),
        (
            "warm sync + report",
            f"{warm:.3f} s",
            f"{cc['wall_s']:.2f} s",
            f"{cc['wall_s'] / warm:.1f}× faster",
            "≥ 30×",
        ),
        (
            "peak RSS, cold import",
            f"{ours['cold_peak_rss_mb']:.0f} MB",
            f"{cc['peak_rss_mb']:.0f} MB",
            "",
            "≤ 300 MB",
        ),
        ("peak RSS, warm", f"{ours['warm_peak_rss_mb']:.0f} MB", "", "", ""),
    ]
    lines = [
        "| measure | token-ledger | ccusage (claude + codex) | ratio | target |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    lines.append("| check | claude_code | codex |")
    lines.append("|---|---|---|")
    checks = results["checks"]
    lines.append(
        "| token-ledger == truth (totals, days, records) | "
        + " | ".join(_ok(checks[s]["ours"]["exact"]) for s in SOURCES)
        + " |"
    )
    lines.append(
        "| ccusage tokens == truth | " + " | ".join(_raw(checks[s]["ccusage"]) for s in SOURCES) + " |"
    )
    lines.append(
        "| ccusage == truth + known deviation | "
        + " | ".join(_ok(checks[s]["ccusage"]["equal_after_known_deviation"]) for s in SOURCES)
        + " |"
    )
    lines.append(
        "| costs within 0.5 % (cells checked) | "
        + " | ".join(
            f"{_ok(checks[s]['cost']['within_tolerance'])} ({checks[s]['cost']['cells_checked']})"
            for s in SOURCES
        )
        + " |"
    )
    lines.append(
        "| total cost ours / ccusage (USD) | "
        + " | ".join(
            f"{checks[s]['cost']['ours_total']:.2f} / {checks[s]['cost']['ccusage_total']:.2f}"
            for s in SOURCES
        )
        + " |"
    )
    return "\n".join(lines)


def _ok(flag: bool) -> str:
    return "yes" if flag else "**NO**"


def _raw(check: dict[str, Any]) -> str:
    if check["equal_to_truth"]:
        return "yes"
    return "no: the known deviation only" if check["equal_after_known_deviation"] else "**NO**"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CACHE / "corpus")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="used only when the corpus must be generated"
    )
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs of each warm/ccusage command (median)"
    )
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "results.json")
    parser.add_argument("--token-ledger", help="command to run instead of the venv's token-ledger script")
    args = parser.parse_args(argv)

    truth = ensure_corpus(args.corpus, args.scale, args.seed)
    precompile()
    with tempfile.TemporaryDirectory(prefix="tl-bench-") as tmp:
        work = Path(tmp)
        (work / "home").mkdir()
        env = bench_env(args.corpus.resolve(), work / "home")
        cc = run_ccusage(env, args.runs)
        ours = run_ours(env, args.runs, work, token_ledger_argv(args.token_ledger))
        shutil.rmtree(work / "home", ignore_errors=True)

    checks = {}
    for source in SOURCES:
        checks[source] = {
            "ours": check_ours(ours["reports"][source], truth["sources"][source]),
            "ccusage": check_ccusage(source, cc[source]["report"], truth),
            "cost": compare_costs(source, ours["reports"][source], cc[source]["report"], truth),
        }
    cold: Run = ours["cold"]
    results = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "corpus": {
            "path": str(args.corpus),
            "generator": truth["generator"],
            **{
                s: {
                    k: truth["sources"][s][k]
                    for k in ("files", "bytes", "largest_file_bytes", "raw_usage_lines")
                }
                for s in SOURCES
            },
        },
        "ccusage_version": CCUSAGE_VERSION,
        "runs": args.runs,
        "token_ledger": {
            "cold_wall_s": round(cold.wall_s, 3),
            "cold_peak_rss_mb": round(cold.peak_rss_mb, 1),
            "cold_summary": ours["cold_summary"],
            "warm_wall_s": round(ours["warm_wall_s"], 4),
            "warm_sync_s": round(ours["warm_sync_s"], 4),
            "warm_report_s": round(ours["warm_report_s"], 4),
            "warm_peak_rss_mb": round(ours["warm_peak_rss_mb"], 1),
        },
        "ccusage": {
            "wall_s": round(cc["wall_s"], 3),
            "peak_rss_mb": round(cc["peak_rss_mb"], 1),
            **{
                s: {"wall_s": round(cc[s]["wall_s"], 3), "peak_rss_mb": round(cc[s]["peak_rss_mb"], 1)}
                for s in SOURCES
            },
        },
        "checks": checks,
    }
    results["ratios"] = {
        "cold_ours_over_ccusage": round(cold.wall_s / cc["wall_s"], 3),
        "warm_ccusage_over_ours": round(cc["wall_s"] / ours["warm_wall_s"], 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nfull results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
