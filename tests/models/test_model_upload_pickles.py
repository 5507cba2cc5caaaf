"""Model Upload pickles built as Numerai's example notebooks build them (numerai/example-scripts:
hello_numerai, feature_neutralization, target_ensemble, example_model), loaded and called the way
numerai-predict calls them: ``pd.read_pickle``, the whole live frame, arity by signature.

Each good case predicts what calling the function directly gives and is not reported; each
output Numerai would refuse is reported with the reason, and is an error when strict.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from numerai_autopilot.errors import ModelError
from numerai_autopilot.models import load_predictor
from support.frames import FEATURES, make_frame, spec_for, target_of

THIS = sys.modules[__name__]
SMALL = FEATURES[:4]
NEUTRAL = FEATURES[4:]


@pytest.fixture(scope="module", autouse=True)
def _by_value() -> Iterator[None]:
    """Functions defined here pickle by value, as a notebook's (defined in __main__) do."""
    cloudpickle.register_pickle_by_value(THIS)
    yield
    cloudpickle.unregister_pickle_by_value(THIS)


@pytest.fixture(scope="module")
def models() -> dict[str, lgb.LGBMRegressor]:
    frame = make_frame(300, seed=11)
    y = target_of(frame)
    out = {}
    for name, target in (("ender", y), ("teager", 1 - y)):
        m = lgb.LGBMRegressor(n_estimators=15, num_leaves=7, verbose=-1, n_jobs=1)
        m.fit(frame[SMALL], target)
        out[name] = m
    return out


def numerai_live(rows: int = 80) -> pd.DataFrame:
    """As live.parquet reads: index id, era, data_type, int8 features, NaN targets."""
    frame = make_frame(rows, seed=12)
    frame["target"] = np.nan
    frame["target_ender_20"] = np.nan
    return frame


def benchmarks(live: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {"v53_lgbm_ender20": rng.random(len(live)), "v52_lgbm_teager2b20": rng.random(len(live))},
        index=live.index,
    )


def cases(models: dict[str, lgb.LGBMRegressor]) -> dict[str, Callable[..., Any]]:
    model = models["ender"]

    def hello(live_features: pd.DataFrame) -> pd.DataFrame:
        live_predictions = model.predict(live_features[SMALL])
        submission = pd.Series(live_predictions, index=live_features.index)
        return submission.to_frame("prediction")

    def neutralize_pinv(df: pd.DataFrame, neutralizers: pd.DataFrame) -> pd.DataFrame:
        df[df.columns[df.std() == 0]] = np.nan  # in place, as the notebook's copy does
        x = np.hstack((neutralizers.values, np.ones((len(neutralizers), 1))))
        adjust = x.dot(np.linalg.pinv(x, rcond=1e-6).dot(df.values))
        return pd.DataFrame(df.values - adjust, index=df.index, columns=df.columns)

    def neutral_pinv(live_features: pd.DataFrame) -> pd.DataFrame:
        preds = pd.DataFrame(
            model.predict(live_features[SMALL]), index=live_features.index, columns=["prediction"]
        )
        return neutralize_pinv(preds, live_features[NEUTRAL]).rank(pct=True)

    def neutral_tools(live_features: pd.DataFrame) -> pd.DataFrame:
        from numerai_tools.scoring import neutralize

        preds = pd.DataFrame(
            model.predict(live_features[SMALL]), index=live_features.index, columns=["prediction"]
        )
        return neutralize(preds, live_features[NEUTRAL]).rank(pct=True)

    def ensemble(live_features: pd.DataFrame, live_benchmark_models: pd.DataFrame) -> pd.DataFrame:
        predictions = pd.DataFrame(index=live_features.index)
        for target, m in models.items():
            predictions[target] = m.predict(live_features[SMALL])
        mixed = predictions.rank(pct=True).mean(axis=1)
        return mixed.rank(pct=True, method="first").to_frame("prediction")

    def bench_blend(live_features: pd.DataFrame, live_benchmark_models: pd.DataFrame) -> Any:
        own = pd.Series(model.predict(live_features[SMALL]), index=live_features.index)
        bench = live_benchmark_models["v53_lgbm_ender20"].reindex(live_features.index)
        return (0.5 * own.rank(pct=True) + 0.5 * bench.rank(pct=True)).to_frame("prediction")

    def per_era(live_features: pd.DataFrame) -> pd.DataFrame:
        live_features["prediction"] = model.predict(live_features[SMALL])
        return live_features.groupby("era")[["prediction"]].rank(pct=True)

    def in_place(live_features: pd.DataFrame) -> pd.DataFrame:
        values = live_features[SMALL].values
        values -= 2  # centred in place: needs a writable array (pandas 2.3, not 3's CoW)
        live_features[SMALL] = values
        live_features.loc[:, "era"] = "0001"
        preds = pd.Series(values.sum(axis=1), index=live_features.index, dtype="float64")
        return preds.rank(pct=True).to_frame("prediction")

    def defaults_count(live_features: pd.DataFrame, live_benchmark_models: Any = None) -> Any:
        assert live_benchmark_models is not None, "a 2-parameter function gets the benchmarks"
        return live_benchmark_models[["v52_lgbm_teager2b20"]].rename(
            columns={"v52_lgbm_teager2b20": "prediction"}
        )

    def star_args(live_features: pd.DataFrame, *args: Any) -> pd.DataFrame:
        assert len(args) == 1, "*args counts as a parameter: the benchmarks come"
        return hello(live_features)

    return {
        "hello": hello,
        "neutral_pinv": neutral_pinv,
        "neutral_tools": neutral_tools,
        "ensemble": ensemble,
        "bench_blend": bench_blend,
        "per_era": per_era,
        "in_place": in_place,
        "defaults_count": defaults_count,
        "star_args": star_args,
        "callable_object": CallableWithPredict(model),
    }


class CallableWithPredict:
    """A callable object that also has ``predict``: Numerai calls it, never its predict."""

    def __init__(self, model: lgb.LGBMRegressor) -> None:
        self.model = model

    def __call__(self, live_features: pd.DataFrame) -> pd.DataFrame:
        out = pd.Series(self.model.predict(live_features[SMALL]), index=live_features.index)
        return out.rank(pct=True).to_frame("prediction")

    def predict(self, x: Any) -> Any:
        raise AssertionError("Numerai's runner never calls predict on a callable")


def _write(tmp: Path, name: str, obj: Any) -> Path:
    path = tmp / f"{name}.pkl"
    path.write_bytes(cloudpickle.dumps(obj))
    return path


def _call_directly(fn: Callable[..., Any], live: pd.DataFrame, bench: pd.DataFrame) -> pd.Series:
    args = (live.copy(), bench) if len(inspect.signature(fn).parameters) == 2 else (live.copy(),)
    out: pd.DataFrame = fn(*args)
    return out["prediction"].astype("float64")


GOOD = [
    "hello",
    "neutral_pinv",
    "neutral_tools",
    "ensemble",
    "bench_blend",
    "per_era",
    "in_place",
    "defaults_count",
    "star_args",
    "callable_object",
]


@pytest.mark.parametrize("case", GOOD)
def test_notebook_pickle_predicts_what_calling_it_gives_and_is_not_reported(
    case: str, models: dict[str, lgb.LGBMRegressor], tmp_path: Path
) -> None:
    fn = cases(models)[case]
    live, bench = numerai_live(), None
    bench = benchmarks(live)
    expected = _call_directly(fn, live, bench)
    predictor = load_predictor(spec_for(case, _write(tmp_path, case, fn)), None)
    got = predictor.predict(live.copy(), bench)
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert getattr(predictor, "refusal", "unset") is None


def _refused(models: dict[str, lgb.LGBMRegressor]) -> dict[str, tuple[Callable[..., Any], str]]:
    model = models["ender"]

    def raw(live: pd.DataFrame) -> Any:
        return model.predict(live[SMALL]).clip(0, 1)

    def frame(live: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"prediction": raw(live)}, index=live.index)

    def positional(live: pd.DataFrame) -> pd.DataFrame:
        return frame(live).reset_index(drop=True)

    def ids_as_column(live: pd.DataFrame) -> pd.DataFrame:
        return frame(live).reset_index()

    return {
        "series": (lambda live: frame(live)["prediction"], "returns a Series"),
        "ndarray": (raw, "returns a numpy ndarray"),
        "score": (lambda live: frame(live).rename(columns={"prediction": "score"}), "'score'"),
        "extra": (lambda live: frame(live).assign(era=live["era"]), "returns 2 columns"),
        "nan_column": (
            lambda live: frame(live).assign(target=live["target"]),
            "NaN in column 'target'",
        ),
        "no_ids": (positional, "index is not named 'id'"),
        "ids_column": (ids_as_column, "its first column 'id' is not numbers"),
        "outside": (lambda live: frame(live) * 3, "values outside [0, 1]"),
    }


REFUSED = ["series", "ndarray", "score", "extra", "nan_column", "no_ids", "ids_column", "outside"]


@pytest.mark.parametrize("case", REFUSED)
def test_output_numerai_would_refuse_is_reported_and_strict_fails(
    case: str, models: dict[str, lgb.LGBMRegressor], tmp_path: Path
) -> None:
    fn, reason = _refused(models)[case]
    path = _write(tmp_path, case, fn)
    live = numerai_live()
    lenient = load_predictor(spec_for(case, path), None)
    with contextlib.suppress(ModelError):  # the autopilot cannot use some either (wide frames)
        lenient.predict(live.copy(), None)
    assert reason in str(getattr(lenient, "refusal", None))
    strict = load_predictor(spec_for(case, path, strict_model_upload=True), None)
    with pytest.raises(ModelError, match="would be refused as a Model Upload") as err:
        strict.predict(live.copy(), None)
    assert reason in str(err.value)


def test_an_estimator_declared_a_function_is_reported_as_not_callable(
    models: dict[str, lgb.LGBMRegressor], tmp_path: Path
) -> None:
    path = _write(tmp_path, "est", models["ender"])
    lenient = load_predictor(spec_for("est", path, format="function"), None)
    assert "not callable" in str(getattr(lenient, "refusal", None))
    lenient.predict(numerai_live()[SMALL], None)  # it still predicts here
    with pytest.raises(ModelError, match=r"would be refused as a Model Upload: .*not callable"):
        load_predictor(spec_for("est", path, format="function", strict_model_upload=True), None)
    plain = load_predictor(spec_for("est", path, format="pickle"), None)
    assert getattr(plain, "refusal", None) is None  # an estimator pickle is fine as such


def test_three_parameters_are_refused_as_numerai_refuses_them(tmp_path: Path) -> None:
    def three(live: pd.DataFrame, bench: Any = None, extra: Any = None) -> pd.DataFrame:
        return live[["feature_amber"]]

    with pytest.raises(ModelError, match="takes 3 parameters"):
        load_predictor(spec_for("three", _write(tmp_path, "three", three)), None)


def test_a_pickle_that_records_numpy_linalg_linalg_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Numerai's published feature_neutralization pickle names ``numpy.linalg.linalg`` (an
    imported submodule, recorded by name): the pinned numpy still has it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import numpy.linalg.linalg as old_linalg

    def predict(live_features: pd.DataFrame) -> pd.DataFrame:
        x = live_features[SMALL].to_numpy(dtype="float64")
        inv = old_linalg.pinv(x)
        return (
            pd.Series(x @ inv.sum(axis=1), index=live_features.index)
            .rank(pct=True)
            .to_frame("prediction")
        )

    blob = cloudpickle.dumps(predict)
    assert b"numpy.linalg.linalg" in blob
    path = tmp_path / "neutral.pkl"
    path.write_bytes(blob)
    got = load_predictor(spec_for("neutral", path), None).predict(numerai_live(), None)
    assert got.between(0, 1).all()
    # The same pickle under a numpy that lacks the module: the message says what is wrong.
    path.write_bytes(blob.replace(b"numpy.linalg.linalg", b"numpy.linalg.lanalg"))
    with pytest.raises(ModelError) as err:
        load_predictor(spec_for("neutral", path), None)
    text = str(err.value)
    assert "numpy.linalg.lanalg" in text and f"numpy {np.__version__} installed" in text
    assert "pickled with another numpy version" in text
    assert "pip install" not in text and "install numpy" not in text  # numpy is installed
    # As under numpy 2.4, which removed it: the message names the versions that have it.
    path.write_bytes(blob)
    monkeypatch.setitem(sys.modules, "numpy.linalg.linalg", None)
    with pytest.raises(ModelError) as err:
        load_predictor(spec_for("neutral", path), None)
    assert "needs module numpy.linalg.linalg" in str(err.value)
    assert "pickled with numpy < 2.4" in str(err.value)


class _CodeType:
    """Unpickles as ``types.CodeType`` (callable here only because pickle requires it)."""

    def __call__(self, *args: Any) -> Any:
        raise AssertionError("only its unpickled form is called")

    def __reduce__(self) -> tuple[Any, ...]:
        import types

        return (getattr, (types, "CodeType"))


class _Py310Code:
    """A code object as cloudpickle writes it under Python 3.8-3.10: 16 arguments, no qualname
    before firstlineno."""

    def __reduce__(self) -> tuple[Any, ...]:
        args = (1, 0, 0, 1, 1, 67, b"|\x00S\x00", (None,), (), ("live",), "<nb>", "predict", 1)
        return (_CodeType(), (*args, b"", (), ()))


def test_a_function_pickled_by_an_older_python_says_which(tmp_path: Path) -> None:
    path = tmp_path / "old.pkl"
    path.write_bytes(cloudpickle.dumps(_Py310Code()))
    with pytest.raises(ModelError) as err:
        load_predictor(spec_for("old", path), None)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"pickled by Python 3.8-3.10; this is {version}" in str(err.value)


@pytest.mark.parametrize("key", ["numerai_ticker", "symbol"])
def test_signals_and_crypto_outputs_are_keyed_by_their_own_id_column(key: str) -> None:
    """The demo's Crypto function was reported 'not named id': each tournament has its own."""
    from numerai_autopilot.models._output import model_upload_refusal

    ids = pd.Index(["a", "b", "c"], name=key)
    good = pd.DataFrame({"prediction": [0.1, 0.5, 0.9]}, index=ids)
    assert model_upload_refusal(good, ids) is None
    refusal = model_upload_refusal(good.rename_axis("id"), ids)
    assert (
        refusal
        == f"its index is not named {key!r}: the CSV Numerai writes would have no {key} column"
    )
