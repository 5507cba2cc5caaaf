"""The benchmark's report: medians, ratios, both bounds and issue 11's targets, computed from
raw records (no timing is measured here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from benchmarks import render
from benchmarks.report import aggregate, bounds, targets

MB = 1e6


def meta(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "machine": {
            "nproc": 2,
            "cpu": "AMD EPYC",
            "memory_gb": 25.3,
            "kernel": "6",
            "python": "3.11",
            "commit": "abc",
            "load_avg": [1, 1, 1],
        },
        "date": "today",
        "seconds": 600,
        "load_start": [1, 1, 1],
        "quick": False,
        "cores": 2,
        "bandwidth": 10e6,
        "live_bytes": 10e6,  # 1 s at the cap
        "live_shape": "6,820 rows",
        "inference": {"lgbm": 1.2, "lgbm_pkl": 1.3, "xgb": 0.2},
        "engine": {
            "available": True,
            "correct": True,
            "name": "forest",
            "cpu": 0.15,
            "max_diff": 1e-15,
            "rank_changes": 0,
            "rows": 6820,
        },
    }
    return base | extra


def record(approach: str, n: int, wall: float, **extra: Any) -> dict[str, Any]:
    scenario = extra.pop("scenario", "pending")
    pending = n if scenario == "pending" else 0
    base: dict[str, Any] = {
        "set": "lgbm",
        "scenario": scenario,
        "approach": approach,
        "n": n,
        "rep": 0,
        "pending": pending,
        "kinds": {"lgbm": pending} if pending else {},
        "submitted": pending,
        "wall": wall,
        "cpu": wall,
        "peak_rss": 300 * MB,
        "peak_pss": 200 * MB,
        "poller_share": 0.004,
        "exit_codes": [0],
        "requests": 1 if scenario == "submitted" else 4 * n,
        "models_bytes": 6 * MB * n,
    }
    return base | extra


def test_median_min_max_and_speedup_over_the_seed_script() -> None:
    rows = aggregate(
        [
            record("cron", 20, 10.0),
            record("cron", 20, 12.0, rep=1),
            record("cron", 20, 30.0, rep=2),
            record("seed", 20, 36.0),
        ],
        meta(),
    )
    cron = next(r for r in rows if r["approach"] == "cron")
    seed = next(r for r in rows if r["approach"] == "seed")
    assert (cron["wall"], cron["wall_min"], cron["wall_max"], cron["reps"]) == (12.0, 10.0, 30.0, 3)
    assert cron["speedup"] == 3.0
    assert seed["speedup"] == 1.0
    assert [r["approach"] for r in rows] == ["seed", "cron"]  # seed first, whatever the input


def test_bounds_with_the_library_and_with_the_fastest_correct_engine() -> None:
    b = bounds({"lgbm": 20}, meta())
    assert b["download"] == pytest.approx(1.0)
    assert b["lightgbm"] == pytest.approx(1.0 + 20 * 1.2 / 2)
    assert b["engine"] == pytest.approx(1.0 + 20 * 0.15 / 2)
    # The engine replaces LightGBM text models only; joblib and XGBoost keep their own cost.
    mixed = bounds({"lgbm": 1, "lgbm_pkl": 1, "xgb": 1}, meta())
    assert mixed["engine"] == pytest.approx(1.0 + (0.15 + 1.3 + 0.2) / 2)
    # An engine that disagrees with LightGBM gives no bound: it is not a correct engine.
    wrong = meta(engine={"available": True, "correct": False, "cpu": 0.01})
    assert bounds({"lgbm": 20}, wrong)["engine"] is None
    assert bounds({}, meta()) == {"download": 0.0, "lightgbm": 0.0, "engine": 0.0}


def _met(rows: list[dict[str, Any]], m: dict[str, Any]) -> dict[str, bool | None]:
    return {name: ok for name, _measured, ok in targets(rows, m)}


def test_targets_met_and_missed_are_reported_as_such() -> None:
    records = [
        record("seed", 1, 6.0),
        record("cron", 1, 5.0),
        record("resident", 1, 7.0),
        record("seed", 5, 12.0, peak_pss=300 * MB),
        record("cron", 5, 5.0, peak_pss=300 * MB),
        record("resident", 5, 4.0, peak_pss=300 * MB),
        record("seed", 20, 36.0, cpu=40.0),
        record("cron", 20, 11.0, cpu=12.0, peak_pss=380 * MB),  # +80 MB vs 99 MB allowed
        record("resident", 20, 10.0, cpu=20.0, peak_pss=500 * MB),
        record("cron", 20, 0.3, scenario="submitted"),
    ]
    met = _met(aggregate(records, meta()), meta())
    assert met["N = 20: cron at least 3x faster than the seed-style script"] is True
    assert met["N = 20: resident at least 4x faster than the seed-style script"] is False  # 3.6x
    assert met["N = 1: cron no slower than the seed-style script"] is True
    assert met["N = 1: resident no slower than the seed-style script"] is False
    assert met["N = 20: cron CPU per model at most 1/3 of the seed's"] is True  # 0.6 vs 2.0
    assert met["N = 20: resident CPU per model at most 1/3 of the seed's"] is False  # 1.0
    growth = "peak memory growth N = 5 to 20 under the added models' size + 10%"
    assert met[f"cron: {growth}"] is True
    assert met[f"resident: {growth}"] is False  # +200 MB
    assert met["the benchmark's memory poller under 1% of a core"] is True
    assert met["idle run (all submitted) under 0.35 s process wall, median"] is True
    assert met["the fastest correct engine is used after `models prepare`"] is True


def test_a_case_not_run_is_not_measured_never_met() -> None:
    rows = aggregate([record("seed", 20, 36.0), record("cron", 20, 9.0)], meta())
    got = {name: (measured, ok) for name, measured, ok in targets(rows, meta(engine={}))}
    resident = got["N = 20: resident at least 4x faster than the seed-style script"]
    assert resident == ("not measured", None)
    assert got["N = 20: cron at least 3x faster than the seed-style script"][1] is True
    idle = got["idle run (all submitted) under 0.35 s process wall, median"]
    assert idle == ("not measured", None)


def test_a_costly_poller_misses_its_target() -> None:
    rows = aggregate([record("seed", 1, 5.0), record("cron", 1, 5.0, poller_share=0.02)], meta())
    assert _met(rows, meta())["the benchmark's memory poller under 1% of a core"] is False


def test_markdown_names_the_machine_flags_incomplete_cases_and_says_not_measured() -> None:
    m = meta(
        prepares=[
            {
                "set": "lgbm",
                "n": 5,
                "wall": 9.0,
                "cpu": 8.0,
                "statuses": {"compiled": 5},
                "timed_out": False,
            }
        ]
    )
    rows = aggregate([record("seed", 5, 9.0, submitted=3), record("cron", 5, 3.0)], m)
    text = render.markdown(rows, targets(rows, m), m)
    assert "2 cores (AMD EPYC)" in text
    assert "seed-style script (!)" in text  # 3 of 5 submitted: flagged, not hidden
    assert "| not measured |" in text
    assert "| lgbm | 5 | 9.0 | 8.0 | compiled 5 | within |" in text
    assert "3.00" in text  # the speedup column


def test_docs_and_readme_are_rewritten_between_their_markers_only(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(
        "# Perf\nkept above\n<!-- bench:targets -->\nold\n<!-- /bench:targets -->\nkept below\n"
    )
    rows = aggregate([record("seed", 20, 36.0), record("cron", 20, 9.0)], meta())
    body = render.docs_block(rows, targets(rows, meta()), meta())
    render.replace_between(doc, "targets", body)
    text = doc.read_text()
    assert text.startswith("# Perf\nkept above\n<!-- bench:targets -->\n")
    assert text.endswith("<!-- /bench:targets -->\nkept below\n")
    assert "old" not in text and "| target | measured | met? |" in text
    line = render.readme_line(rows, targets(rows, meta()), meta())
    assert "autopilot, cron-started 4.00x the seed-style script's speed" in line
    assert "Targets met:" in line
    with pytest.raises(ValueError, match="markers"):
        render.replace_between(tmp_path / "performance.md", "figures", "x")


def test_memory_growth_without_a_pss_sample_is_not_measured() -> None:
    records = [record("cron", 5, 2.0, peak_pss=0), record("cron", 20, 3.0, peak_pss=250 * MB)]
    got = {t: (m, ok) for t, m, ok in targets(aggregate(records, meta()), meta())}
    label = "cron: peak memory growth N = 5 to 20 under the added models' size + 10%"
    assert got[label] == ("not measured (no PSS sample fitted the poller's budget)", None)
    alone = aggregate([record("cron", 20, 3.0)], meta())
    labels = [t for t, _m, _ok in targets(alone, meta())]
    assert "cron: peak memory growth N = ? to 20 under the added models' size + 10%" in labels


def test_the_docs_hold_the_markers_the_benchmark_writes_between() -> None:
    # A full run ends by rewriting these blocks; an edit that drops a marker would fail it then.
    root = Path(__file__).resolve().parents[2]
    for path, name in (
        (root / "docs" / "performance.md", "targets"),
        (root / "README.md", "figures"),
    ):
        text = path.read_text()
        assert text.count(f"<!-- bench:{name} -->") == 1, path
        assert text.count(f"<!-- /bench:{name} -->") == 1, path


def test_a_timed_pss_read_far_below_the_rss_peak_is_not_shown_as_the_peak() -> None:
    early = record("cron", 3, 3.0, peak_pss=88 * MB, pss_rss=150 * MB, peak_rss=600 * MB)
    near = record("cron", 3, 3.0, peak_pss=320 * MB, pss_rss=590 * MB, peak_rss=600 * MB)
    old = record("cron", 3, 3.0, peak_pss=310 * MB)  # no pss_rss: an older records file
    assert aggregate([early], meta())[0]["peak_pss"] == 0
    assert aggregate([early, near, old], meta())[0]["peak_pss"] == 315 * MB
