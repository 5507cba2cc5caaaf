"""From raw records to figures: medians with min and max, ratios to the seed-style script, the
lower bounds (with LightGBM and with the fastest correct engine), and each of issue 11's targets
as a row "target / measured / met?". Rendering is in render.py."""

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

from . import memory, render

MB = 1e6
Target = tuple[str, str, bool | None]
"""(target, measured, met): met is None when the case was not measured."""
NEAR_PEAK = 0.9
"""A timed case's PSS counts only if its snapshot was read at this share of the RSS peak or
more (a budgeted snapshot read early, at a third of the peak, is not the peak)."""


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
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        head = ""
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "kernel": platform.release(),
        "versions": versions,
        "commit": os.environ.get("BENCH_COMMIT", "") or head or "?",
    }


def bounds(kinds: dict[str, int], meta: dict[str, Any]) -> dict[str, float | None]:
    """The lower bounds of a case that predicts ``kinds`` (kind -> count): the live file at the
    cap plus the pure predict CPU over the cores, once with the libraries and once with the
    fastest correct engine (for LightGBM text models; None when no engine was measured)."""
    if not kinds:
        return {"download": 0.0, "lightgbm": 0.0, "engine": 0.0}
    cores = meta["cores"]
    download = meta["live_bytes"] / meta["bandwidth"]
    infer = meta["inference"]
    lib = sum(infer.get(k, infer.get("lgbm", 0.0)) * c for k, c in kinds.items())
    engine = meta.get("engine") or {}
    fast: float | None = None
    if engine.get("available") and engine.get("correct"):
        fast = sum(
            (engine["cpu"] if k == "lgbm" else infer.get(k, 0.0)) * c for k, c in kinds.items()
        )
    return {
        "download": download,
        "lightgbm": download + lib / cores,
        "engine": None if fast is None else download + fast / cores,
    }


def aggregate(records: Iterable[dict[str, Any]], meta: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (set, scenario, N, approach): medians, min/max wall, ratios to the seed."""
    groups: dict[tuple[str, str, int, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(r.get("set", "lgbm"), r["scenario"], r["n"], r["approach"])].append(r)
    med = statistics.median
    rows = []
    for (model_set, scenario, n, approach), rs in groups.items():
        walls = [r["wall"] for r in rs]
        row: dict[str, Any] = {
            "set": model_set,
            "scenario": scenario,
            "n": n,
            "approach": approach,
            "reps": len(rs),
            "pending": rs[0]["pending"],
            "wall": med(walls),
            "wall_min": min(walls),
            "wall_max": max(walls),
            "cpu": med(r["cpu"] for r in rs),
            "peak_pss": _peak_pss(rs),
            "peak_rss": med(r["peak_rss"] for r in rs),
            "requests": med(r["requests"] for r in rs),
            "poller_share": max(r.get("poller_share", 0.0) for r in rs),
            "submitted_ok": all(
                r["submitted"] == r["pending"] and not any(r["exit_codes"]) for r in rs
            ),
            "models_bytes": rs[0]["models_bytes"],
            "bound": bounds(rs[0].get("kinds", {}), meta),
        }
        stages: dict[str, list[float]] = defaultdict(list)
        for r in rs:
            for k, v in (r.get("timings") or {}).get("timings", {}).items():
                stages[k].append(v)
        row["stages"] = {k: med(v) for k, v in stages.items()}
        rows.append(row)
    order = {"seed": 0, "cron": 1, "resident": 2, "container": 3}
    rows.sort(key=lambda r: (r["set"], r["scenario"], r["n"], order.get(r["approach"], 9)))
    by = {(r["set"], r["scenario"], r["n"], r["approach"]): r for r in rows}
    for r in rows:
        seed = by.get((r["set"], r["scenario"], r["n"], "seed"))
        r["speedup"] = seed["wall"] / r["wall"] if seed and r["wall"] > 0 else None
    return rows


def _peak_pss(rs: list[dict[str, Any]]) -> float:
    """Median peak PSS of the repetitions whose snapshot was near their RSS peak (0: none)."""
    near = [
        r["peak_pss"]
        for r in rs
        if r["peak_pss"] and r.get("pss_rss", r["peak_rss"]) >= NEAR_PEAK * r["peak_rss"]
    ]
    return statistics.median(near) if near else 0


def targets(rows: list[dict[str, Any]], meta: dict[str, Any]) -> list[Target]:
    """Issue 11's "Done means", each measured in this run (met None: not measured)."""
    by = {(r["set"], r["scenario"], r["n"], r["approach"]): r for r in rows}
    ns = sorted({r["n"] for r in rows if r["set"] == "lgbm" and r["scenario"] == "pending"})
    big = max(ns, default=20)
    mid = ns[-2] if len(ns) >= 2 else None
    small = min(ns, default=1)

    def get(approach: str, n: int | None, model_set: str = "lgbm") -> dict[str, Any] | None:
        return None if n is None else by.get((model_set, "pending", n, approach))

    out: list[Target] = []
    seed_big = get("seed", big)
    for approach, want in (("cron", 3.0), ("resident", 4.0)):
        r = get(approach, big)
        label = f"N = {big}: {approach} at least {want:.0f}x faster than the seed-style script"
        out.append(_ratio(label, seed_big, r, want))
    for approach in ("cron", "resident"):
        r, s = get(approach, small), get("seed", small)
        label = f"N = {small}: {approach} no slower than the seed-style script"
        if r is None or s is None:
            out.append((label, "not measured", None))
        else:
            out.append((label, f"{r['wall']:.2f} s vs {s['wall']:.2f} s", r["wall"] <= s["wall"]))
    for approach in ("cron", "resident"):
        r = get(approach, big)
        label = f"N = {big}: {approach} CPU per model at most 1/3 of the seed's"
        if r is None or seed_big is None:
            out.append((label, "not measured", None))
        else:
            mine, theirs = r["cpu"] / big, seed_big["cpu"] / big
            out.append(
                (
                    label,
                    f"{mine:.2f} s vs {theirs:.2f} s ({mine / theirs:.2f}x)",
                    mine <= theirs / 3,
                )
            )
    for approach in ("cron", "resident"):
        rows_ab = (get(approach, mid), get(approach, big))
        out.append(memory.target(approach, meta, rows_ab, mid, big))
    shares = [r["poller_share"] for r in rows]
    out.append(
        (
            "the benchmark's memory poller under 1% of a core",
            f"at most {100 * max(shares):.2f}% (over {len(shares)} cases)"
            if shares
            else "not measured",
            (max(shares) < 0.01) if shares else None,
        )
    )
    idle = by.get(("lgbm", "submitted", big, "cron"))
    out.append(
        (
            "idle run (all submitted) under 0.35 s process wall, median",
            "not measured"
            if idle is None
            else f"{idle['wall']:.3f} s (median of {idle['reps']}), {idle['requests']:.0f} req.",
            None if idle is None else idle["wall"] < 0.35,
        )
    )
    engine = meta.get("engine") or {}
    out.append(
        (
            "the fastest correct engine is used after `models prepare`",
            _engine_text(engine),
            bool(engine.get("available") and engine.get("correct")) if engine else None,
        )
    )
    return out


def _ratio(
    label: str, seed: dict[str, Any] | None, r: dict[str, Any] | None, want: float
) -> Target:
    if seed is None or r is None:
        return (label, "not measured", None)
    ratio = seed["wall"] / r["wall"]
    text = f"{ratio:.2f}x ({r['wall']:.2f} s vs {seed['wall']:.2f} s)"
    return (label, text, ratio >= want)


def _engine_text(engine: dict[str, Any]) -> str:
    if not engine.get("available"):
        return f"none prepared ({engine.get('why', 'not measured')})"
    return (
        f"{engine['name']}: {engine['cpu']:.3f} s predict CPU, max diff {engine['max_diff']:.1e}, "
        f"{engine['rank_changes']} rank changes of {engine['rows']:,} rows"
    )


def write(out: Path, records: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """Write records.json, results.md and wall_time.png into ``out``; return the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    rows = aggregate(records, meta)
    (out / "records.json").write_text(
        json.dumps({"meta": meta, "records": records}, indent=1, default=str)
    )
    text = render.markdown(rows, targets(rows, meta), meta)
    (out / "results.md").write_text(text)
    render.plot(rows, out / "wall_time.png")
    return text


def write_docs(root: Path, records: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    """Rewrite the benchmark's own parts of docs/performance.md and the README (between their
    ``bench:`` markers) from this run's figures."""
    rows = aggregate(records, meta)
    tgts = targets(rows, meta)
    render.replace_between(
        root / "docs" / "performance.md", "targets", render.docs_block(rows, tgts, meta)
    )
    render.replace_between(root / "README.md", "figures", render.readme_line(rows, tgts, meta))
