"""The forest walk against LightGBM itself, model kind by model kind: the same doubles (not
merely close), for integer and float rows, missing and tiny values, categories out of range."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from numerai_autopilot.compiled import _kernel
from numerai_autopilot.compiled._forest import Forest, read_forest
from numerai_autopilot.compiled._kinds import CATEGORICAL, NUM_ZERO
from numerai_autopilot.compiled._support import unsupported_reason

RNG = np.random.default_rng(20261202)


def predict_raw(forest: Forest, x: np.ndarray[Any, Any], threads: int = 1) -> Any:
    """The walks of the session's folder (tests/conftest.py), compiled on first use."""
    jit = Path(os.environ["NUMERAI_JIT_DIR"])
    return _kernel.predict_raw(forest, x, threads=threads, jit=jit, build=True)


def _data(n: int, width: int, seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    x = rng.integers(-1, 6, size=(n, width)).astype(np.float64)
    x[rng.random(x.shape) < 0.1] = np.nan
    y = np.nan_to_num(x) @ np.linspace(0.1, 0.6, width) + np.isin(x[:, 0], [1, 3]) * 0.5
    return x, y + rng.normal(size=n) * 0.1


def _model(tmp_path: Path, params: dict[str, Any], cat: Any = "auto") -> Path:
    x, y = _data(1500, 6, seed=len(str(params)))
    if params.get("objective") in ("binary", "cross_entropy"):
        y = (y > np.median(y)).astype(float)
    base = {"verbose": -1, "num_leaves": 15, "min_data_in_leaf": 5, "num_threads": 1}
    if cat != "auto":
        base |= {"min_data_per_group": 5, "cat_smooth": 1, "max_cat_to_onehot": 1}
    path = tmp_path / "m.txt"
    booster = lgb.train(base | params, lgb.Dataset(x, y, categorical_feature=cat), 25)
    booster.save_model(str(path))
    return path


def _rows(n: int, width: int) -> np.ndarray[Any, Any]:
    """Rows LightGBM never saw: out-of-range, negative, fractional, huge, tiny and NaN."""
    x = RNG.integers(-3, 9, size=(n, width)).astype(np.float64)
    x[RNG.random(x.shape) < 0.1] = np.nan
    x[:40, 0] = RNG.normal(size=40) * 3
    x[40:50, 1] = 1e-40
    x[50:60, 0] = 3e9
    x[60:70, 0] = -0.5
    return x


KINDS = [
    {"objective": "regression"},
    {"objective": "binary"},
    {"objective": "cross_entropy"},
    {"objective": "huber"},
    {"objective": "regression", "zero_as_missing": True},
    {"objective": "regression", "boosting": "rf", "bagging_freq": 1, "bagging_fraction": 0.5},
    {"objective": "regression", "num_leaves": 63, "max_depth": -1, "min_data_in_leaf": 2},
]


@pytest.mark.parametrize("cat", ["auto", [0, 1]], ids=["numerical", "categorical"])
@pytest.mark.parametrize("params", KINDS, ids=lambda p: "-".join(str(v) for v in p.values()))
def test_the_walk_gives_lightgbms_own_doubles(
    tmp_path: Path, params: dict[str, Any], cat: Any
) -> None:
    path = _model(tmp_path, params, cat)
    forest = read_forest(path)
    if params.get("boosting") != "rf":  # rf's bagged trees here split the numbers only
        assert (forest.kind == CATEGORICAL).any() == (cat != "auto")
    assert (forest.kind == NUM_ZERO).any() == bool(params.get("zero_as_missing"))
    booster = lgb.Booster(model_file=str(path))
    x = _rows(2500, 6)
    np.testing.assert_array_equal(predict_raw(forest, x), booster.predict(x))
    ints = RNG.integers(-2, 7, size=(3000, 6)).astype(np.int8)
    expected = booster.predict(ints.astype(np.float64))
    np.testing.assert_array_equal(predict_raw(forest, ints), expected)
    np.testing.assert_array_equal(predict_raw(forest, ints, threads=2), expected)
    again = Forest.from_bytes(forest.to_bytes())
    np.testing.assert_array_equal(predict_raw(again, x), booster.predict(x))


def test_numerai_shaped_models_take_the_one_comparison_walk(tmp_path: Path) -> None:
    """int8 features 0..4 and no missing values: the fast walk, still LightGBM's doubles."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, size=(2000, 40)).astype(np.int8)
    y = x[:, :8] @ rng.normal(size=8) + rng.normal(size=2000)
    params = {"verbose": -1, "max_depth": 5, "num_leaves": 31, "colsample_bytree": 0.5}
    path = tmp_path / "numerai.txt"
    lgb.train(params, lgb.Dataset(x.astype(np.float32), y), 50).save_model(str(path))
    forest = read_forest(path)
    assert forest.fast and int(forest.depths.max()) <= 5
    assert forest.heap is not None  # shallow: walked as complete trees
    live = rng.integers(0, 5, size=(5000, 40)).astype(np.int8)
    expected = lgb.Booster(model_file=str(path)).predict(live.astype(np.float32))
    np.testing.assert_array_equal(predict_raw(forest, live), expected)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_complete_trees_with_missing_values_give_lightgbms_doubles(
    tmp_path: Path, depth: int
) -> None:
    """Shallow trees with NaN-aware splits and shorter paths (padded) walked as complete
    trees, on float rows with NaN, and on integers. (Trained on values >= 0, as Numerai's:
    a split between -1 and 0 has threshold -1e-35, which takes the exact walk.)"""
    x, y = _data(1500, 6, seed=depth)
    x = np.abs(x)
    params = {"verbose": -1, "max_depth": depth, "num_leaves": 2**depth, "min_data_in_leaf": 40}
    path = tmp_path / "shallow.txt"
    lgb.train(params, lgb.Dataset(x, y), 30).save_model(str(path))
    forest = read_forest(path)
    assert forest.heap is not None and forest.heap.depth == depth
    booster = lgb.Booster(model_file=str(path))
    rows = _rows(2000, 6)
    np.testing.assert_array_equal(predict_raw(forest, rows), booster.predict(rows))
    ints = RNG.integers(-2, 7, size=(2000, 6)).astype(np.int8)
    np.testing.assert_array_equal(predict_raw(forest, ints), booster.predict(ints.astype(float)))
    again = Forest.from_bytes(forest.to_bytes())
    assert again.heap is not None
    np.testing.assert_array_equal(predict_raw(again, rows), booster.predict(rows))


def test_thresholds_next_to_zero_take_the_exact_walk(tmp_path: Path) -> None:
    """LightGBM reads |v| <= 1e-35 as 0; a threshold in that band would make the one
    comparison wrong for such values, so that model takes the general walk."""
    x = np.zeros((3000, 2))
    tiny = float(np.float32(1e-35))
    choices = [0.0, 1e-36, -1e-36, 1e-35, -1e-35, tiny, -tiny, 1e-30, -1e-30, np.nan, 1.0, -1.0]
    x[:, 0] = RNG.choice(choices, size=3000)
    x[:, 1] = RNG.normal(size=3000)
    y = (x[:, 0] > 0) * 1.0 + x[:, 1] + np.isnan(x[:, 0]) * 2
    path = tmp_path / "zero.txt"
    params = {"verbose": -1, "num_leaves": 7, "min_data_in_leaf": 3}
    lgb.train(params, lgb.Dataset(x, y), 10).save_model(str(path))
    forest = read_forest(path)
    assert not forest.fast
    np.testing.assert_array_equal(
        predict_raw(forest, x), lgb.Booster(model_file=str(path)).predict(x)
    )


def test_the_width_of_the_rows_is_checked(tmp_path: Path) -> None:
    forest = read_forest(_model(tmp_path, {"objective": "regression"}))
    with pytest.raises(ValueError, match="6 features"):
        predict_raw(forest, np.zeros((3, 5)))


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"objective": "multiclass", "num_class": 3}, "multiclass models (3 classes)"),
        ({"objective": "regression", "linear_tree": True}, "linear trees"),
        ({"objective": "poisson"}, "objective 'poisson'"),
        ({"objective": "regression", "reg_sqrt": True}, "objective 'regression sqrt'"),
    ],
    ids=["multiclass", "linear", "poisson", "sqrt"],
)
def test_what_the_walk_does_not_reproduce_is_named(
    tmp_path: Path, params: dict[str, Any], reason: str
) -> None:
    x, y = _data(600, 4, seed=3)
    if params["objective"] == "multiclass":
        y = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    if params["objective"] == "poisson":
        y = np.abs(y)
    path = tmp_path / "m.txt"
    base = {"verbose": -1, "num_leaves": 7, "min_data_in_leaf": 5}
    lgb.train(base | params, lgb.Dataset(np.nan_to_num(x), y), 5).save_model(str(path))
    why = unsupported_reason(path)
    assert why is not None and why.startswith(reason), why


_NO_NUMBA = """
import sys
sys.modules["numba"] = None  # a run: the compiled walks must not need numba's runtime
from pathlib import Path
import numpy as np
from numerai_autopilot.compiled import _kernel
from numerai_autopilot.compiled._forest import read_forest
jit, model, rows, want = map(Path, sys.argv[1:5])
forest = read_forest(model)
x = np.load(rows)
got = _kernel.predict_raw(forest, x, jit=jit)
print(float(np.abs(got - np.load(want)).max()))
"""


@pytest.mark.parametrize(
    ("params", "cat"),
    [
        ({"max_depth": 3, "num_leaves": 8}, "auto"),  # complete trees
        ({"num_leaves": 31, "min_data_in_leaf": 2}, "auto"),  # deeper: the node walk
        ({"zero_as_missing": True}, [0, 1]),  # categorical and zero-as-missing: general
    ],
    ids=["heap", "fast", "general"],
)
@pytest.mark.parametrize("dtype", ["int8", "float32", "float64"])
def test_a_run_walks_without_numba(
    tmp_path: Path, params: dict[str, Any], cat: Any, dtype: str
) -> None:
    """The objects call nothing of numba's runtime: a process that cannot import numba loads
    them and predicts LightGBM's doubles (a slice assignment once made them call numba's
    allocator, which crashed a run without numba loaded)."""
    x, y = _data(1500, 6, seed=9)
    path = tmp_path / "m.txt"
    base = {"verbose": -1, "min_data_in_leaf": 5, "num_threads": 1}
    if cat != "auto":
        base |= {"min_data_per_group": 5, "cat_smooth": 1, "max_cat_to_onehot": 1}
    lgb.train(base | params, lgb.Dataset(np.abs(x), y, categorical_feature=cat), 20).save_model(
        str(path)
    )
    jit = Path(os.environ["NUMERAI_JIT_DIR"])
    predict_raw(read_forest(path), np.zeros((1, 6)))  # compiled here, with numba, if missing
    rows = _rows(800, 6) if dtype != "int8" else RNG.integers(-2, 7, size=(800, 6))
    rows = rows.astype(dtype)
    np.save(tmp_path / "rows.npy", rows)
    np.save(tmp_path / "want.npy", lgb.Booster(model_file=str(path)).predict(rows.astype(float)))
    args = [str(p) for p in (jit, path, tmp_path / "rows.npy", tmp_path / "want.npy")]
    proc = subprocess.run(
        [sys.executable, "-c", _NO_NUMBA, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert float(proc.stdout.strip()) == 0.0


def test_a_forest_file_is_read_as_views_and_anything_else_is_refused() -> None:
    from numerai_autopilot.compiled._forest_file import pack, unpack

    arrays = {
        "a": np.arange(7, dtype=np.int32),
        "b": np.array([[1.5, -np.inf], [np.nan, 0.0]]),
        "c": np.array([True, False, True]),
    }
    data = pack(arrays, {"features": ["f1", "f2"], "sigmoid": 0.0})
    got, info = unpack(data)
    assert info == {"features": ["f1", "f2"], "sigmoid": 0.0}
    for name, a in arrays.items():
        np.testing.assert_array_equal(got[name], a)
        assert got[name].dtype == a.dtype and not got[name].flags.writeable  # no copy
        assert got[name].ctypes.data % 8 == 0  # aligned for the walks
    for bad in (b"PK\x03\x04 an old npz", data[: len(data) // 2], data[:40]):
        with pytest.raises((ValueError, KeyError)):
            unpack(bad)
    with pytest.raises(ValueError, match="cannot be stored"):
        pack({"o": np.array(["x"], dtype=object)}, {})
    forged = data.replace(b'"<i4"', b'"|O8"', 1)
    with pytest.raises(ValueError, match="not a forest's"):
        unpack(forged)
