"""The benchmark's report: medians and the issue's targets computed from raw records."""

from __future__ import annotations

from typing import Any

from benchmarks.report import aggregate, markdown, targets


def record(approach: str, scenario: str, n: int, wall: float, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "scenario": scenario,
        "approach": approach,
        "n": n,
        "rep": 0,
        "pending": n if scenario != "submitted" else 0,
        "submitted": n if scenario != "submitted" else 0,
        "wall": wall,
        "cpu": wall,
        "peak_rss": 100e6,
        "peak_pss": 80e6,
        "requests": 1 if scenario == "submitted" else 4 * n,
        "file_bytes": 0 if scenario == "submitted" else 9e6,
        "downloads": {} if scenario == "submitted" else {"v5.2/live.parquet": 1},
        "uploads": n,
        "bound": {"total": 0.0 if scenario == "submitted" else 1.0 + n},
        "models_bytes": 6e6 * n,
    }
    return base | extra


def test_median_min_max_and_ratio_to_the_autopilot() -> None:
    rows = aggregate(
        [
            record("autopilot", "pending", 20, 10.0),
            record("autopilot", "pending", 20, 12.0, rep=1),
            record("autopilot", "pending", 20, 30.0, rep=2),
            record("seed", "pending", 20, 36.0),
        ]
    )
    auto = next(r for r in rows if r["approach"] == "autopilot")
    seed = next(r for r in rows if r["approach"] == "seed")
    assert (auto["wall"], auto["wall_min"], auto["wall_max"]) == (12.0, 10.0, 30.0)
    assert seed["vs_autopilot"] == 3.0


def test_targets_flag_a_slow_idle_run_and_a_missed_speedup() -> None:
    rows = aggregate(
        [
            record("autopilot", "submitted", 5, 1.4),
            record("autopilot", "pending", 20, 30.0),
            record("seed", "pending", 20, 40.0),
        ]
    )
    met = {name: ok for name, _measured, ok in targets(rows)}
    assert met["already submitted, N=5: <= 2 requests, 0 bytes, < 1 s wall"] is False
    assert met["all pending, N=20: >= 2x faster than seed-style"] is False
    assert met["all pending, N=20: wall <= 1.25 x bound + 2 s"] is False
    assert met["all pending, N=20: each needed file downloaded once"] is True


def test_markdown_names_the_machine_and_marks_incomplete_cases() -> None:
    rows = aggregate([record("seed", "pending", 5, 9.0, submitted=3)])
    meta = {
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
        "load_start": [1, 1, 1],
        "quick": True,
        "bandwidth": 12.5e6,
        "live_bytes": 9e6,
        "live_shape": "6,820 rows",
        "inference": {"lgbm": 1.0},
        "artifact_bytes": {"lgbm": 6e6},
    }
    text = markdown(rows, meta)
    assert "2 cores (AMD EPYC)" in text
    assert "seed-style script (!)" in text  # 3 of 5 submitted: flagged, not hidden
