"""The benchmark's models are distinct (one seed each), cached by their parameters, and laid out
so that the autopilot and the seed-style script read the same N models."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import numpy as np
import pandas as pd
import pytest
from benchmarks import approaches, models_dir, prepare, render
from benchmarks.artifacts import FILES, LGBM_FULL, XGB_FULL, Recipe, Trained, train_all
from benchmarks.bench import Bench

FEATURES = [f"feature_{i}" for i in range(12)]


@pytest.fixture(scope="module")
def train_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("synthetic") / "full" / "seed-0" / "static"
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.integers(0, 5, (600, len(FEATURES))), columns=FEATURES).astype("int8")
    frame["target"] = (frame[FEATURES[0]] / 4 + rng.normal(0, 0.1, len(frame))).clip(0, 1)
    frame.to_parquet(root / "train.parquet")
    (root / "features.json").write_text(json.dumps({"feature_sets": {"medium": FEATURES}}))
    return root / "train.parquet", root / "features.json"


def tiny() -> Recipe:
    return Recipe(dict(LGBM_FULL, n_estimators=5), dict(XGB_FULL, n_estimators=3), rows=200)


def test_each_seed_is_a_different_model_and_the_cache_is_reused(
    train_files: tuple[Path, Path], tmp_path: Path
) -> None:
    parquet, features = train_files
    first = train_all(parquet, features, tmp_path, tiny(), lgbm_seeds=3, xgb_seeds=[2], workers=1)
    texts = [first.path("lgbm", s).read_bytes() for s in range(3)]
    assert len(set(texts)) == 3  # different seeds, rows and noise: different trees
    assert first.path("lgbm_pkl", 1).exists() and first.path("xgb", 2).exists()
    assert set(first.seconds) == {"lgbm-000", "lgbm-001", "lgbm-002", "xgb-002"}
    stamps = {p: p.stat().st_mtime_ns for p in first.dir.rglob("*") if p.is_file()}
    again = train_all(parquet, features, tmp_path, tiny(), lgbm_seeds=3, xgb_seeds=[2], workers=1)
    assert again.dir == first.dir
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing trained again
    other = Recipe(dict(LGBM_FULL, n_estimators=6), tiny().xgb, rows=200)
    assert other.key("t") != tiny().key("t")  # a changed parameter trains anew
    assert Recipe(tiny().lgbm, tiny().xgb, rows=201).key("t") != tiny().key("t")


def fake_trained(tmp_path: Path, n: int) -> Trained:
    for i in range(n):
        for kind, sub in (("lgbm", "lgbm"), ("lgbm_pkl", "lgbm"), ("xgb", "xgb")):
            d = tmp_path / "cache" / f"{sub}-{i:03d}"
            d.mkdir(parents=True, exist_ok=True)
            (d / FILES[kind]).write_text(f"{kind} {i}")
    return Trained(tmp_path / "cache", FEATURES, {})


def test_a_mix_holds_every_kind_each_of_its_own_seed(tmp_path: Path) -> None:
    md = models_dir.build(fake_trained(tmp_path, 6), "mix", 6, tmp_path / "mix")
    assert list(md.kinds.values()) == ["lgbm", "lgbm_pkl", "xgb"] * 2
    doc = tomllib.loads((md.dir / "models.toml").read_text())
    artifacts = [m["artifact"] for m in doc["model"]]
    assert artifacts[4] == "mix_004/model.joblib"
    assert (md.dir / artifacts[4]).read_text() == "lgbm_pkl 4"  # model i is seed i
    seed = json.loads((md.dir / "seed_models.json").read_text())
    assert seed["mix_005"] == {"artifact": "mix_005/model.xgb.json", "kind": "xgb"}
    assert json.loads((md.dir / "features.json").read_text()) == FEATURES
    assert md.total_bytes == sum(len(f"{k} {i}") for i, k in enumerate(md.kinds.values()))
    assert models_dir.xgb_seeds(6) == [2, 5]


def test_the_lightgbm_set_grows_by_adding_models(tmp_path: Path) -> None:
    trained = fake_trained(tmp_path, 5)
    small = models_dir.build(trained, "lgbm", 2, tmp_path / "a")
    big = models_dir.build(trained, "lgbm", 5, tmp_path / "b")
    assert big.names[:2] == small.names == ["bench_000", "bench_001"]
    assert set(big.kinds.values()) == {"lgbm"}


def test_rotation_and_reading_the_autopilot_output(tmp_path: Path) -> None:
    assert approaches.rotate(["seed", "cron", "resident"], 1) == ["cron", "resident", "seed"]
    assert approaches.rotate(["seed", "cron"], 4) == ["seed", "cron"]
    assert approaches.rotate([], 3) == []
    log = tmp_path / "out.log"
    log.write_text(
        'not json\n{"event": "compiled", "model": "a", "status": "compiled"}\n'
        '{"event": "compiled", "model": "b", "status": "refused"}\n{broken "compiled"\n'
        '{"event": "run.summary", "timings": {"predict": 1.5}, "bytes_downloaded": 9}\n'
    )
    assert approaches.compiled_events(log) == ["compiled", "refused"]
    assert approaches.autopilot_summary(log) == {"timings": {"predict": 1.5}, "bytes": 9}


def test_prepare_is_not_started_once_the_session_budget_is_spent(tmp_path: Path) -> None:
    fake = SimpleNamespace(
        cfg=SimpleNamespace(work=tmp_path, prepare_budget=60.0),
        prepares=[{"wall": 57.0}],  # 3 s left: not enough to start one
        engine={"available": True},
        autopilot_env=lambda md: {},
    )
    md = models_dir.ModelsDir(tmp_path / "m", "lgbm", ["bench_000"], {"bench_000": "lgbm"}, {})
    doc = prepare.prepare(cast(Bench, fake), md)
    assert doc["skipped"] is True and doc["timed_out"] is False
    assert doc["statuses"] == {} and doc["wall"] == 0.0
    assert fake.prepares[-1] is doc  # recorded, so the report says it was not run
    text = render.markdown([], [], _meta_for_render(prepares=fake.prepares[1:]))
    assert "| lgbm | 1 | 0.0 | 0.0 | - | spent: not run |" in text


def _meta_for_render(**extra: object) -> dict[str, object]:
    machine = {"nproc": 2, "cpu": "x", "memory_gb": 1, "python": "3.11", "commit": "c"}
    return {
        "machine": machine | {"load_avg": [0, 0, 0]},
        "date": "d",
        "quick": True,
        "load_start": [0, 0, 0],
        "live_bytes": 1e6,
        "live_shape": "s",
        "bandwidth": 1e6,
        "inference": {},
        "engine": {},
    } | extra
