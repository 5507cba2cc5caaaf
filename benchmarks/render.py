"""Rendering the benchmark's figures: the results page, the docs block, the README's figures
line (both written by the benchmark itself between markers) and the plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import memory

MB = 1e6
LABEL = {
    "seed": "seed-style script",
    "cron": "autopilot, cron-started",
    "resident": "autopilot, resident (serve)",
    "container": "one container per model",
}
SET_LABEL = {
    "lgbm": "distinct example-size LightGBM models",
    "mix": "a mix: LightGBM text, joblib LGBMRegressor, XGBoost",
}


def met_word(met: bool | None) -> str:
    return "not measured" if met is None else ("yes" if met else "**no**")


def _memory(r: dict[str, Any]) -> str:
    """Peak PSS (RSS); "-" for PSS when no snapshot near the RSS peak fitted the budget."""
    pss = f"{r['peak_pss'] / MB:.0f}" if r["peak_pss"] else "-"
    return f"{pss} ({r['peak_rss'] / MB:.0f})"


def _budget(p: dict[str, Any]) -> str:
    if p.get("skipped"):
        return "spent: not run"
    return "spent: stopped" if p["timed_out"] else "within"


def _bound(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def targets_table(tgts: list[tuple[str, str, bool | None]]) -> list[str]:
    lines = ["| target | measured | met? |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {met_word(ok)} |" for t, m, ok in tgts]
    return lines


def setting(meta: dict[str, Any]) -> str:
    m = meta["machine"]
    return (
        f"Measured {meta['date']} ({meta.get('seconds', 0) / 60:.0f} min, "
        f"{'quick' if meta['quick'] else 'full'} mode) on {m['nproc']} cores ({m['cpu']}), "
        f"{m['memory_gb']} GB RAM, Python {m['python']}, commit {m['commit']}; load average "
        f"{meta['load_start']} at start, {m['load_avg']} at end; live.parquet "
        f"{meta['live_bytes'] / MB:.2f} MB ({meta['live_shape']}) behind a "
        f"{meta['bandwidth'] / MB:.1f} MB/s cap."
    )


def _engine_line(meta: dict[str, Any]) -> str:
    infer = meta.get("inference", {})
    e = meta.get("engine") or {}
    text = "Pure predict CPU per model (one thread, frame loaded): " + ", ".join(
        f"{k} {v:.3f} s" for k, v in infer.items()
    )
    if e.get("available"):
        text += (
            f"; fastest prepared engine {e['name']} {e['cpu']:.3f} s "
            f"({infer.get('lgbm', 0) / e['cpu']:.1f}x less than LightGBM; "
            f"{'correct' if e.get('correct') else 'NOT correct'}: max diff {e['max_diff']:.1e}, "
            f"{e['rank_changes']} rank changes)."
        )
    else:
        text += f"; no prepared engine ({e.get('why', 'not measured')})."
    return text


def markdown(
    rows: list[dict[str, Any]], tgts: list[tuple[str, str, bool | None]], meta: dict[str, Any]
) -> str:
    """The results page: setting, targets, one table per model set, preparation, stages."""
    lines = ["# Benchmark results (issue 11)", "", setting(meta), "", _engine_line(meta), ""]
    lines += ["## Targets", "", *targets_table(tgts), ""]
    for note in meta.get("resident", []):
        lines.append(f"- resident: {note}")
    for model_set, label in SET_LABEL.items():
        for scenario in ("pending", "submitted"):
            srows = [r for r in rows if r["set"] == model_set and r["scenario"] == scenario]
            if not srows:
                continue
            what = "all pending" if scenario == "pending" else "all already submitted (idle run)"
            lines += [
                "",
                f"## {label}: {what}",
                "",
                "| N | approach | wall s (min-max) | x seed | CPU s | CPU s/model "
                "| peak MB PSS (RSS) | requests | bound LightGBM s | bound engine s |",
                "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for r in srows:
                flag = "" if r["submitted_ok"] else " (!)"
                per = r["cpu"] / r["n"] if r["n"] else 0.0
                x = f"{r['speedup']:.2f}" if r.get("speedup") else "-"
                lines.append(
                    f"| {r['n']} | {LABEL.get(r['approach'], r['approach'])}{flag} | "
                    f"{r['wall']:.2f} ({r['wall_min']:.2f}-{r['wall_max']:.2f}) | {x} | "
                    f"{r['cpu']:.1f} | {per:.2f} | {_memory(r)} | {r['requests']:.0f} | "
                    f"{_bound(r['bound']['lightgbm'])} | "
                    f"{_bound(r['bound']['engine'])} |"
                )
    lines += memory.section(meta)
    preps = meta.get("prepares", [])
    if preps:
        lines += [
            "",
            "## `models prepare` (outside the timed window)",
            "",
            "| set | N | wall s | CPU s | statuses | budget |",
            "|---|---:|---:|---:|---|---|",
        ]
        for p in preps:
            st = ", ".join(f"{k} {v}" for k, v in sorted(p["statuses"].items())) or "-"
            lines.append(
                f"| {p['set']} | {p['n']} | {p['wall']:.1f} | {p['cpu']:.1f} | {st} | "
                f"{_budget(p)} |"
            )
    stage_rows = [r for r in rows if r.get("stages")]
    if stage_rows:
        stages = ("resolve", "download", "load", "predict", "validate", "upload", "total")
        lines += [
            "",
            "## Where the cron-started run's time goes (its run summary, median s)",
            "",
            "| set | scenario | N | " + " | ".join(stages) + " | process wall |",
            "|---|---|---:|" + "---:|" * (len(stages) + 1),
        ]
        for r in stage_rows:
            cells = " | ".join(f"{r['stages'].get(s, 0.0):.2f}" for s in stages)
            lines.append(f"| {r['set']} | {r['scenario']} | {r['n']} | {cells} | {r['wall']:.2f} |")
    lines += [
        "",
        "Wall: median of the repetitions (min-max). CPU: user+system of every process of the "
        "approach, children included (the resident server's tree over the run's window). "
        "Memory: peak of the summed PSS of those processes (budgeted snapshots; -: none fitted "
        "within 10% of the RSS peak; the memory rounds above read it in full), peak summed RSS "
        "in brackets. Bounds: the live file at the cap + "
        "N x one model's pure predict CPU / cores, with the library and with the fastest "
        "correct prepared engine. (!): a case that did not submit every pending model.",
        "",
        "Raw records: `records.json`. Plot: `wall_time.png`.",
        "",
    ]
    return "\n".join(lines)


def docs_block(
    rows: list[dict[str, Any]], tgts: list[tuple[str, str, bool | None]], meta: dict[str, Any]
) -> str:
    """What docs/performance.md shows between its markers (written by the benchmark)."""
    return "\n".join(
        [
            "_Written by `make bench` (benchmarks/report.py); do not edit by hand._",
            "",
            setting(meta),
            "",
            _engine_line(meta),
            "",
            *targets_table(tgts),
        ]
    )


def readme_line(
    rows: list[dict[str, Any]], tgts: list[tuple[str, str, bool | None]], meta: dict[str, Any]
) -> str:
    """One line of the README: the headline ratios and how many targets were met."""
    by = {(r["set"], r["scenario"], r["n"], r["approach"]): r for r in rows}
    big = max(
        (r["n"] for r in rows if r["set"] == "lgbm" and r["scenario"] == "pending"), default=0
    )
    parts = []
    for approach in ("cron", "resident"):
        r = by.get(("lgbm", "pending", big, approach))
        if r and r.get("speedup"):
            parts.append(f"{LABEL[approach]} {r['speedup']:.2f}x the seed-style script's speed")
    r = by.get(("lgbm", "pending", big, "cron"))
    if r:
        lgb, fast = _bound(r["bound"]["lightgbm"]), _bound(r["bound"]["engine"])
        parts.append(f"bound {lgb} s with LightGBM, {fast} s with the fastest engine")
    met = sum(1 for _, _, ok in tgts if ok)
    measured = sum(1 for _, _, ok in tgts if ok is not None)
    return (
        f"Latest `make bench` ({meta['date']}, {meta['machine']['nproc']} cores, N = {big} "
        "distinct example-size LightGBM models): " + "; ".join(parts) + f". Targets met: {met} of "
        f"{measured} measured ({len(tgts)} in all; table in docs/performance.md)."
    )


def replace_between(path: Path, name: str, body: str) -> None:
    """Replace the text between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = path.read_text()
    if start not in text or end not in text:
        raise ValueError(f"{path}: markers {start} ... {end} not found")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{body}\n{end}{tail}")


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Wall time against N per approach (median, min-max bars) with both lower bounds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    srows = [r for r in rows if r["set"] == "lgbm" and r["scenario"] == "pending"]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for approach, style in (
        ("seed", "s--"),
        ("cron", "o-"),
        ("resident", "d-"),
        ("container", "^:"),
    ):
        ar = sorted((r for r in srows if r["approach"] == approach), key=lambda r: r["n"])
        if ar:
            err = [[r["wall"] - r["wall_min"] for r in ar], [r["wall_max"] - r["wall"] for r in ar]]
            ax.errorbar(
                [r["n"] for r in ar],
                [r["wall"] for r in ar],
                yerr=err,
                fmt=style,
                capsize=3,
                label=LABEL[approach],
            )
    for key, style, label in (
        ("lightgbm", "k-", "bound, LightGBM"),
        ("engine", "k:", "bound, fastest engine"),
    ):
        pts = sorted({(r["n"], r["bound"][key]) for r in srows if r["bound"][key] is not None})
        if pts:
            ax.plot([n for n, _ in pts], [b for _, b in pts], style, lw=1, label=label)
    ax.set_title(SET_LABEL["lgbm"] + ", all pending", fontsize=9)
    ax.set_xlabel("models (N)")
    ax.set_ylabel("wall time (s)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
