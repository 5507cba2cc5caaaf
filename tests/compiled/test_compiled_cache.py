"""The prepared-model cache: keyed, verified against LightGBM, never used when wrong, rebuilt
when damaged, never waited for. Small models (a few trees, a few features): a preparation
takes a second or two (one child process)."""

from __future__ import annotations

import json
import mmap
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from numerai_autopilot.compiled import (
    CompiledStore,
    Engine,
    open_verified,
    prepare,
    remember_sample,
)
from numerai_autopilot.compiled._store import OBJECT, entry_name
from numerai_autopilot.config import ModelSpec, parse_models
from numerai_autopilot.fileio import sha256_file
from numerai_autopilot.models import load_predictor

FEATURES = [f"feature_{i}" for i in range(6)]


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, size=(n, len(FEATURES))).astype("float64")
    x[rng.random(x.shape) < 0.1] = np.nan  # missing values take their own branches
    return pd.DataFrame(x, columns=FEATURES, index=pd.Index([f"id{i}" for i in range(n)]))


def _train(path: Path, *, seed: int = 0, **params: Any) -> Path:
    x = _frame(600, seed)
    y = np.nan_to_num(x.to_numpy()) @ np.linspace(0.1, 0.6, len(FEATURES)) / 10
    y += np.isin(x["feature_0"], [1, 3]) * 0.5  # a non-monotone effect: categorical splits
    if params.get("objective") == "binary":
        y = (y > np.median(y)).astype(float)
    if params.get("objective") == "multiclass":
        y = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    base = {"objective": "regression", "verbose": -1, "num_leaves": 7, "seed": seed}
    base |= {"num_threads": 1, "min_data_in_leaf": 5}
    cat = params.pop("categorical_feature", "auto")
    if cat != "auto":  # let small categories split (LightGBM's defaults need 100 rows each)
        base |= {"min_data_per_group": 5, "cat_smooth": 1, "max_cat_to_onehot": 1}
    ds = lgb.Dataset(x, y, categorical_feature=cat)
    lgb.train(base | params, ds, num_boost_round=8).save_model(str(path))
    return path


def _spec(models: Path, artifact: Path, name: str = "fastmodel") -> ModelSpec:
    doc = {"model": [{"name": name, "tournament": "classic", "artifact": artifact.name}]}
    return parse_models(doc, models / "models.toml").models[0]


@pytest.fixture
def env(tmp_path: Path) -> tuple[CompiledStore, Path]:
    store = CompiledStore(tmp_path / "state" / "compiled")
    # As a frame loaded whole comes: with Numerai's text columns, which are left out.
    remember_sample(store, "classic", _frame(300, 7).assign(era="0001", data_type="live"))
    models = tmp_path / "models"
    models.mkdir()
    return store, models


def _lightgbm(artifact: Path, live: pd.DataFrame) -> np.ndarray[Any, Any]:
    return np.asarray(lgb.Booster(model_file=str(artifact)).predict(live[FEATURES].to_numpy()))


def _predict(spec: ModelSpec, store: CompiledStore, live: pd.DataFrame) -> tuple[str, pd.Series]:
    predictor = load_predictor(spec, None, compiled=store.root)
    return type(predictor).__name__, predictor.predict(live, None)


def _entry(store: CompiledStore) -> Path:
    (entry,) = [p for p in store.root.iterdir() if p.is_dir() and p.name not in ("samples", "jit")]
    return entry


def test_a_prepared_model_is_keyed_verified_and_used(env: tuple[CompiledStore, Path]) -> None:
    store, models = env
    artifact = _train(models / "m.txt")
    spec = _spec(models, artifact)
    (done,) = prepare([spec], store)
    assert done.status == "compiled", done
    entry = _entry(store)
    engine = Engine.installed()
    assert engine is not None
    sha = sha256_file(artifact)
    assert entry.name == entry_name(sha, engine)
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["artifact_sha256"] == sha and meta["status"] == "verified"
    assert meta["engine"] == engine.__dict__
    assert meta["max_abs_diff"] == 0.0 and meta["sample_rows"] > 300  # live rows + NaN copies
    for owner_only in (entry, store.root, store.sample_path("classic").parent):
        assert owner_only.stat().st_mode & 0o077 == 0, owner_only
    live = _frame(500, 3)
    kind, preds = _predict(spec, store, live)
    assert kind == "CompiledLightGBMPredictor"
    np.testing.assert_array_equal(preds.to_numpy(), _lightgbm(artifact, live))  # bit-identical
    assert [p.status for p in prepare([spec], store)] == ["ready"]
    forest, why = open_verified(store, sha)
    assert why is None and forest is not None
    base: Any = forest.forest.threshold
    while isinstance(base, np.ndarray | memoryview):
        base = base.base if isinstance(base, np.ndarray) else base.obj
    assert isinstance(base, mmap.mmap)  # mapped, not read: a process holds the pages it walks


def test_the_key_changes_with_artifact_and_engine_versions() -> None:
    engine = Engine("0.61.2", "4.6.0", "2.2.6")
    base = entry_name("a" * 64, engine)
    assert base.startswith("a" * 16)
    assert entry_name("b" * 64, engine) != base
    assert entry_name("a" * 64, Engine("0.61.2", "4.7.0", "2.2.6")) != base
    assert entry_name("a" * 64, Engine("0.62.0", "4.6.0", "2.2.6")) != base
    assert entry_name("a" * 64, Engine("0.61.2", "4.6.0", "2.3.0")) != base


def _swap_object(store: CompiledStore, models: Path, *, fix_meta: bool) -> Path:
    """Prepare two different models; put the second's forest in the first's entry."""
    first = _train(models / "first.txt", seed=0)
    other = _train(models / "other.txt", seed=5, num_leaves=4)
    assert [p.status for p in prepare([_spec(models, first)], store)] == ["compiled"]
    entry = _entry(store)
    assert prepare([_spec(models, other, "other")], store)[0].status == "compiled"
    dirs = [p for p in store.root.iterdir() if p.is_dir() and p.name not in ("samples", "jit")]
    (other_entry,) = [p for p in dirs if p != entry]
    os.chmod(entry / OBJECT, 0o600)
    (entry / OBJECT).write_bytes((other_entry / OBJECT).read_bytes())
    if fix_meta:  # a forger who updates the checksum too: only the stored sample catches it
        meta = json.loads((entry / "meta.json").read_text())
        meta["object_sha256"] = sha256_file(entry / OBJECT)
        (entry / "meta.json").write_text(json.dumps(meta))
    return first


@pytest.mark.parametrize("fix_meta", [True, False], ids=["checksum-forged", "checksum-stale"])
def test_a_mismatching_compiled_model_is_never_used_and_is_rebuilt(
    env: tuple[CompiledStore, Path], fix_meta: bool
) -> None:
    store, models = env
    artifact = _swap_object(store, models, fix_meta=fix_meta)
    spec = _spec(models, artifact)
    live = _frame(400, 11)
    kind, preds = _predict(spec, store, live)
    assert kind == "LightGBMPredictor"
    np.testing.assert_array_equal(preds.to_numpy(), _lightgbm(artifact, live))
    entry = _entry_of(store, artifact)
    if fix_meta:  # caught on the stored sample: rejected for every later run too
        assert "LightGBM" in (store.rejected(entry) or "")
    else:  # caught by the checksum before loading: nothing to reject, prepare rebuilds it
        assert "changed" in (store.problem(entry) or "")
    assert _predict(spec, store, live)[0] == "LightGBMPredictor"
    (again,) = prepare([spec], store)
    assert again.status == "compiled"
    kind, preds = _predict(spec, store, live)
    assert kind == "CompiledLightGBMPredictor"
    np.testing.assert_array_equal(preds.to_numpy(), _lightgbm(artifact, live))


def _entry_of(store: CompiledStore, artifact: Path) -> str:
    engine = Engine.installed()
    assert engine is not None
    return entry_name(sha256_file(artifact), engine)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "meta.json").write_text("{not json"),
        lambda d: (d / OBJECT).unlink(),
        lambda d: (d / OBJECT).write_bytes(b"PK not a zip"),
        lambda d: (d / "sample.npy").write_bytes(b"garbage"),
    ],
    ids=["meta", "forest-missing", "forest-garbage", "sample"],
)
def test_a_corrupted_entry_falls_back_and_is_rebuilt(
    env: tuple[CompiledStore, Path], damage: Callable[[Path], object]
) -> None:
    store, models = env
    artifact = _train(models / "m.txt")
    spec = _spec(models, artifact)
    assert prepare([spec], store)[0].status == "compiled"
    entry = _entry(store)
    for p in entry.iterdir():
        os.chmod(p, 0o600)
    damage(entry)
    live = _frame(50, 1)
    assert _predict(spec, store, live)[0] == "LightGBMPredictor"
    assert prepare([spec], store)[0].status == "compiled"
    assert _predict(spec, store, live)[0] == "CompiledLightGBMPredictor"
    assert not list(store.root.glob(".tmp-*")) and not list(store.root.glob(".old-*"))


def test_with_a_compile_in_progress_models_use_lightgbm(env: tuple[CompiledStore, Path]) -> None:
    store, models = env
    artifact = _train(models / "m.txt")
    spec = _spec(models, artifact)
    holder = _hold_lock(store)  # as `models prepare` in another process, compiling
    try:
        assert store.compiling()
        started = time.monotonic()
        (busy,) = prepare([spec], store)
        kind, _ = _predict(spec, store, _frame(20, 2))
        assert time.monotonic() - started < 30  # nothing waited for the lock
    finally:
        holder.stdin.close()  # type: ignore[union-attr]
        holder.wait(timeout=30)
    assert busy.status == "busy" and kind == "LightGBMPredictor"
    assert not [p for p in store.root.iterdir() if p.is_dir() and p.name not in ("samples", "jit")]


def _hold_lock(store: CompiledStore) -> subprocess.Popen[bytes]:
    """Another process holding the compile lock until its stdin closes."""
    code = (
        "import sys, filelock; lock = filelock.FileLock(sys.argv[1]); lock.acquire(timeout=30); "
        "print('held', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(store.root / ".compile.lock")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"held"
    return proc


def test_binary_and_categorical_models_compile_and_agree(
    env: tuple[CompiledStore, Path],
) -> None:
    store, models = env
    binary = _train(models / "b.txt", objective="binary")
    cat = _train(models / "c.txt", categorical_feature=[0, 1])
    assert re.search(r"^num_cat=[1-9]", cat.read_text(), re.MULTILINE)  # categorical splits
    specs = [_spec(models, binary, "bin"), _spec(models, cat, "cat")]
    assert [p.status for p in prepare(specs, store)] == ["compiled", "compiled"]
    live = _frame(300, 4)
    for spec, artifact in zip(specs, (binary, cat), strict=True):
        kind, preds = _predict(spec, store, live)
        assert kind == "CompiledLightGBMPredictor"
        np.testing.assert_array_equal(preds.to_numpy(), _lightgbm(artifact, live))


def test_what_the_walk_does_not_reproduce_is_refused_with_a_reason(
    env: tuple[CompiledStore, Path],
) -> None:
    store, models = env
    multi = _train(models / "multi.txt", objective="multiclass", num_class=3)
    linear = _train(models / "linear.txt", linear_tree=True)
    got = prepare([_spec(models, multi, "multi"), _spec(models, linear, "linear")], store)
    assert [(p.status, p.detail.split()[0]) for p in got] == [
        ("refused", "multiclass"),
        ("refused", "linear"),
    ]


def test_a_compile_over_its_memory_bound_fails_and_leaves_nothing(
    env: tuple[CompiledStore, Path],
) -> None:
    store, models = env
    spec = _spec(models, _train(models / "m.txt"))
    (failed,) = prepare([spec], store, memory_mb=1)
    assert failed.status == "failed" and "memory bound of 1 MB" in failed.detail, failed
    assert not [
        p for p in store.root.iterdir() if p.name not in ("samples", "jit", ".compile.lock")
    ]
    assert _predict(spec, store, _frame(10, 0))[0] == "LightGBMPredictor"


def test_walks_missing_for_this_machine_are_compiled_even_with_every_entry_ready(
    env: tuple[CompiledStore, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries made before an upgrade (or on another machine) are ready, but a run can use
    them only with the walks compiled here: prepare compiles them."""
    store, models = env
    spec = _spec(models, _train(models / "m.txt"))
    assert prepare([spec], store)[0].status == "compiled"
    fresh = tmp_path / "another-machine-jit"
    monkeypatch.setenv("NUMERAI_JIT_DIR", str(fresh))  # as after an upgrade: no walks there
    assert _predict(spec, store, _frame(10, 0))[0] == "LightGBMPredictor"
    assert [p.status for p in prepare([spec], store)] == ["ready"]
    assert (fresh / "walks.json").exists()
    assert _predict(spec, store, _frame(10, 0))[0] == "CompiledLightGBMPredictor"


def test_a_walks_folder_others_may_write_fails_prepare_instead_of_ready(
    env: tuple[CompiledStore, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No run loads machine code from a folder others may write, so prepare must not call
    the model ready (found trying it: it said `ready` and every run used LightGBM)."""
    store, models = env
    spec = _spec(models, _train(models / "m.txt"))
    assert prepare([spec], store)[0].status == "compiled"
    shared = tmp_path / "shared-jit"
    shared.mkdir(mode=0o700)
    shared.chmod(0o770)
    monkeypatch.setenv("NUMERAI_JIT_DIR", str(shared))
    (failed,) = prepare([spec], store)
    assert failed.status == "failed" and "another user" in failed.detail, failed
    assert _predict(spec, store, _frame(10, 0))[0] == "LightGBMPredictor"
