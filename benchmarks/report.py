"""Turning the raw records into the results: medians with min and max, ratios to the bound and
to the baselines, the targets of issue 6 checked, a markdown table and a PNG plot."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

APPROACH_LABEL = {
    "autopilot": "autopilot",
    "seed": "seed-style script",
    "container": "one container per model",
    "preload": "autopilot + preloaded libraries (experiment)",
    "compiled": "autopilot, models prepared (compiled)",
}
SCENARIO_LABEL = {
    "pending": "all models pending",
    "half": "half of the models pending",
    "submitted": "all already submitted (repeated trigger)",
}
MB = 1e6


def machine() -> dict[str, Any]:
    """nproc, CPU model, memory, load, versions: what the figures were measured on."""
    import psutil  # type: ignore[import-untyped]

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for mod in ("numerai_autopilot", "numerapi", "lightgbm", "xgboost", "pandas", "pyarrow"):
        try:
            versions[mod] = __import__(mod).__version__
        except (ImportError, AttributeError):
            versions[mod] = "?"
    commit = os.environ.get("BENCH_COMMIT", "") or _git_head()
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "kernel": platform.release(),
        "versions": versions,
        "commit": commit,
    }


def _git_head() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        )
    except OSError:
        return "?"
    return done.stdout.strip() or "?"


def aggregate(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (scenario, N, approach): medians, min/max of wall time, ratios."""
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(r["scenario"], r["n"], r["approach"])].append(r)
    rows = []
    for (scenario, n, approach), rs in groups.items():
        walls = [r["wall"] for r in rs]
        med = statistics.median
        row = {
            "scenario": scenario,
            "n": n,
            "approach": approach,
            "reps": len(rs),
            "pending": rs[0]["pending"],
            "wall": med(walls),
            "wall_min": min(walls),
            "wall_max": max(walls),
            "cpu": med(r["cpu"] for r in rs),
            "peak_pss": med(r["peak_pss"] for r in rs),
            "peak_rss": med(r["peak_rss"] for r in rs),
            "requests": med(r["requests"] for r in rs),
            "file_bytes": med(r["file_bytes"] for r in rs),
            "downloads": rs[0]["downloads"],
            "uploads": med(r["uploads"] for r in rs),
            "submitted_ok": all(r["submitted"] == r["pending"] for r in rs),
            "bound": rs[0]["bound"]["total"],
            "bound_parts": rs[0]["bound"],
            "models_bytes": rs[0]["models_bytes"],
        }
        if approach in ("autopilot", "preload", "compiled"):
            stages: dict[str, list[float]] = defaultdict(list)
            for r in rs:
                for k, v in r.get("timings", {}).get("timings", {}).items():
                    stages[k].append(v)
            row["stages"] = {k: med(v) for k, v in stages.items()}
        rows.append(row)
    order = {s: i for i, s in enumerate(SCENARIO_LABEL)}
    approach_order = {a: i for i, a in enumerate(APPROACH_LABEL)}
    rows.sort(key=lambda r: (order[r["scenario"]], r["n"], approach_order[r["approach"]]))
    by = {(r["scenario"], r["n"], r["approach"]): r for r in rows}
    for r in rows:
        auto = by.get((r["scenario"], r["n"], "autopilot"))
        r["vs_autopilot"] = r["wall"] / auto["wall"] if auto and auto["wall"] > 0 else None
    return rows


def targets(rows: list[dict[str, Any]]) -> list[tuple[str, str, bool | None]]:
    """Issue 6's targets, each with the measured figure and whether it is met."""
    by = {(r["scenario"], r["n"], r["approach"]): r for r in rows}
    auto = [r for r in rows if r["approach"] == "autopilot"]
    out: list[tuple[str, str, bool | None]] = []
    for r in (r for r in auto if r["scenario"] == "submitted"):
        ok = r["requests"] <= 2 and r["file_bytes"] == 0 and r["wall"] < 1.0
        out.append(
            (
                f"already submitted, N={r['n']}: <= 2 requests, 0 bytes, < 1 s wall",
                f"{r['requests']:.0f} requests, {r['file_bytes']:.0f} bytes, "
                f"{r['wall']:.2f} s (max {r['wall_max']:.2f} s)",
                ok,
            )
        )
    for r in (r for r in auto if r["scenario"] == "pending"):
        files = r["downloads"]
        once = all(v == 1 for v in files.values()) and "v5.2/live.parquet" in files
        out.append(
            (
                f"all pending, N={r['n']}: each needed file downloaded once",
                ", ".join(f"{k} x{v}" for k, v in sorted(files.items())),
                once,
            )
        )
        limit = 1.25 * r["bound"] + 2.0
        out.append(
            (
                f"all pending, N={r['n']}: wall <= 1.25 x bound + 2 s",
                f"{r['wall']:.2f} s vs {limit:.2f} s (bound {r['bound']:.2f} s)",
                r["wall"] <= limit,
            )
        )
    seed20 = by.get(("pending", 20, "seed"))
    auto20 = by.get(("pending", 20, "autopilot"))
    if seed20 and auto20:
        ratio = seed20["wall"] / auto20["wall"]
        out.append(("all pending, N=20: >= 2x faster than seed-style", f"{ratio:.2f}x", ratio >= 2))
    p5, p50 = by.get(("pending", 5, "autopilot")), by.get(("pending", 50, "autopilot"))
    if p5 and p50:
        growth = p50["peak_pss"] - p5["peak_pss"]
        extra_models = p50["models_bytes"] - p5["models_bytes"]
        allowance = extra_models + 0.10 * p5["peak_pss"]
        out.append(
            (
                "all pending, peak memory N=5 -> N=50 grows < extra models' size + 10%",
                f"{growth / MB:+.0f} MB PSS vs {allowance / MB:.0f} MB allowed "
                f"({p5['peak_pss'] / MB:.0f} -> {p50['peak_pss'] / MB:.0f} MB)",
                growth < allowance,
            )
        )
    return out


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The results page: machine, settings, one table per scenario, targets, stage timings."""
    m = meta["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured {meta['date']} on a **shared** machine (other engineers were running tests): "
        f"{m['nproc']} cores ({m['cpu']}), {m['memory_gb']} GB RAM, Linux {m['kernel']}, "
        f"Python {m['python']}, commit {m['commit']}; load average at start {meta['load_start']}, "
        f"at end {m['load_avg']}. Mode: {'quick' if meta['quick'] else 'full'}; "
        f"bandwidth cap {meta['bandwidth'] / MB:.1f} MB/s; live.parquet "
        f"{meta['live_bytes'] / MB:.2f} MB ({meta['live_shape']}).",
        "",
        "Pure inference CPU time per model (one thread, in-process, live frame loaded): "
        + ", ".join(f"{k} {v:.3f} s" for k, v in meta["inference"].items())
        + ". Artifacts: "
        + ", ".join(f"{k} {v / MB:.1f} MB" for k, v in meta["artifact_bytes"].items())
        + ".",
        "",
        "Wall: median (min-max) of the repetitions. CPU: user+system of every process the "
        "approach started (workers and fork server included). Memory: peak of the summed PSS of "
        "those processes (RSS sum in brackets: it counts shared pages once per process). "
        "Requests and MB: what the sandbox served (files: complete file bodies). Bound: needed "
        "bytes / cap + pure inference CPU / cores. vs autopilot: wall time divided by the "
        "autopilot's (above 1: slower than the autopilot, below 1: faster).",
    ]
    for scenario, label in SCENARIO_LABEL.items():
        srows = [r for r in rows if r["scenario"] == scenario]
        if not srows:
            continue
        lines += [
            "",
            f"## {label}",
            "",
            "| N | approach | wall s | CPU s | peak MB PSS (RSS) | requests | MB files | "
            "bound s | wall / bound | vs autopilot |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in srows:
            ok = "" if r["submitted_ok"] else " (!)"
            ratio = f"{r['wall'] / r['bound']:.2f}" if r["bound"] > 0 else "-"
            vs = f"{r['vs_autopilot']:.2f}" if r["vs_autopilot"] else "-"
            lines.append(
                f"| {r['n']} | {APPROACH_LABEL[r['approach']]}{ok} | {r['wall']:.2f} "
                f"({r['wall_min']:.2f}-{r['wall_max']:.2f}) | {r['cpu']:.1f} | "
                f"{r['peak_pss'] / MB:.0f} ({r['peak_rss'] / MB:.0f}) | {r['requests']:.0f} | "
                f"{r['file_bytes'] / MB:.1f} | {r['bound']:.2f} | {ratio} | {vs} |"
            )
    lines += ["", "## Targets (issue 6)", "", "| target | measured | met |", "|---|---|---|"]
    for target, measured, met in targets(rows):
        lines.append(f"| {target} | {measured} | {'yes' if met else 'NO'} |")
    stage_rows = [r for r in rows if r.get("stages")]
    if stage_rows:
        stages = ("resolve", "download", "load", "predict", "validate", "upload", "total")
        lines += [
            "",
            "## Where the autopilot's time goes (its own run summary, median seconds)",
            "",
            "validate and upload happen while other models still predict, so they overlap the "
            "predict stage; `total` is the sum the run reports.",
            "",
            "| scenario | N | variant | " + " | ".join(stages) + " | process wall |",
            "|---|---:|---|" + "---:|" * (len(stages) + 1),
        ]
        for r in stage_rows:
            cells = " | ".join(f"{r['stages'].get(s, 0.0):.2f}" for s in stages)
            variant = "preloaded" if r["approach"] == "preload" else "as shipped"
            lines.append(f"| {r['scenario']} | {r['n']} | {variant} | {cells} | {r['wall']:.2f} |")
    lines += ["", "Raw records: `records.json`. Plot: `wall_time.png`.", ""]
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Wall time against N per approach (median, min-max bars) with the lower bound."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = [s for s in SCENARIO_LABEL if any(r["scenario"] == s for r in rows)]
    fig, axes = plt.subplots(1, len(scenarios), figsize=(5.2 * len(scenarios), 4.4), squeeze=False)
    styles = {
        "autopilot": "o-",
        "compiled": "d-",
        "seed": "s--",
        "container": "^:",
        "preload": "x-.",
    }
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        srows = [r for r in rows if r["scenario"] == scenario]
        for approach, label in APPROACH_LABEL.items():
            ar = sorted((r for r in srows if r["approach"] == approach), key=lambda r: r["n"])
            if not ar:
                continue
            ns = [r["n"] for r in ar]
            walls = [r["wall"] for r in ar]
            err = [
                [r["wall"] - r["wall_min"] for r in ar],
                [r["wall_max"] - r["wall"] for r in ar],
            ]
            ax.errorbar(ns, walls, yerr=err, fmt=styles[approach], capsize=3, label=label)
        bound = sorted({(r["n"], r["bound"]) for r in srows})
        if any(b for _, b in bound):
            ax.plot([n for n, _ in bound], [b for _, b in bound], "k-", lw=1, label="lower bound")
        ax.set_title(SCENARIO_LABEL[scenario])
        ax.set_xlabel("models (N)")
        ax.set_ylabel("wall time (s)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(out: Path, records: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """Write records.json, results.md and wall_time.png into ``out``; return the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    rows = aggregate(records)
    (out / "records.json").write_text(
        json.dumps({"meta": meta, "records": records}, indent=1, default=str)
    )
    text = markdown(rows, meta)
    (out / "results.md").write_text(text)
    plot(rows, out / "wall_time.png")
    return text
