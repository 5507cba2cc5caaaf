"""Each loader predicts exactly what the model's own library predicts on the same features,
whatever the order of the live columns."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

import cloudpickle
import joblib
import numpy as np
import pandas as pd
import pytest

from numerai_autopilot.errors import (
    ConfigError,
    MissingExtraError,
    MissingFeatureError,
    ModelError,
)
from numerai_autopilot.models import load_predictor
from support.frames import FEATURES, spec_for

Train = tuple[pd.DataFrame, np.ndarray[Any, np.dtype[np.float64]]]
# The LightGBM model uses a subset in an order unlike the live frame's.
LGB_FEATURES = ["feature_fjord", "feature_amber", "feature_dune", "feature_birch"]


@pytest.fixture(scope="session")
def art(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("artifacts")


@pytest.fixture(scope="session")
def lgb_model(art: Path, train: Train) -> tuple[Path, Any]:
    import lightgbm as lgb

    x, y = train
    booster = lgb.train(
        {"objective": "regression", "verbose": -1, "num_leaves": 8, "min_data_in_leaf": 5},
        lgb.Dataset(x[LGB_FEATURES], y),
        num_boost_round=20,
    )
    path = art / "model.txt"
    booster.save_model(str(path))
    return path, booster


def reversed_columns(live: pd.DataFrame) -> pd.DataFrame:
    return live[list(reversed(live.columns))]


def test_lightgbm_text_equals_booster_predict_on_its_own_features(
    lgb_model: tuple[Path, Any], live: pd.DataFrame
) -> None:
    path, booster = lgb_model
    got = load_predictor(spec_for("lgb", path), None).predict(live, None)
    expected = booster.predict(live[LGB_FEATURES].to_numpy())
    np.testing.assert_array_equal(got.to_numpy(), expected)
    assert got.index.equals(live.index)
    assert got.dtype == np.float64


def test_lightgbm_reordered_live_columns_give_identical_predictions(
    lgb_model: tuple[Path, Any], live: pd.DataFrame
) -> None:
    path, booster = lgb_model
    predictor = load_predictor(spec_for("lgb", path), None)
    shuffled = reversed_columns(live)
    np.testing.assert_array_equal(
        predictor.predict(live, None).to_numpy(), predictor.predict(shuffled, None).to_numpy()
    )
    # The trap this guards against: LightGBM on the same columns in another order is wrong.
    naive = booster.predict(shuffled[[c for c in shuffled.columns if c in LGB_FEATURES]].to_numpy())
    assert not np.allclose(naive, predictor.predict(live, None).to_numpy())


def test_lightgbm_missing_feature_names_it(lgb_model: tuple[Path, Any], live: pd.DataFrame) -> None:
    path, _ = lgb_model
    predictor = load_predictor(spec_for("lgb", path), None)
    with pytest.raises(MissingFeatureError, match=r"lacks 1 of its 4 features \(feature_dune\)"):
        predictor.predict(live.drop(columns=["feature_dune"]), None)


def test_lightgbm_trained_on_array_uses_configured_features_by_position(
    art: Path, train: Train, live: pd.DataFrame
) -> None:
    import lightgbm as lgb

    x, y = train
    cols = ["feature_cedar", "feature_amber"]
    booster = lgb.train({"verbose": -1}, lgb.Dataset(x[cols].to_numpy(), y), num_boost_round=5)
    path = art / "positional.txt"
    booster.save_model(str(path))
    spec = spec_for("pos", path, features="pair")
    got = load_predictor(spec, {"pair": cols}).predict(reversed_columns(live), None)
    np.testing.assert_array_equal(got.to_numpy(), booster.predict(live[cols].to_numpy()))
    with pytest.raises(ModelError, match="takes 2 features but every feature_\\* column"):
        load_predictor(spec_for("pos", path), None).predict(live, None)


def test_xgboost_json_and_ubj_equal_booster_predict(
    art: Path, train: Train, live: pd.DataFrame
) -> None:
    import xgboost as xgb

    x, y = train
    model = xgb.XGBRegressor(n_estimators=10, max_depth=3).fit(x, y)
    expected = model.predict(live[FEATURES])
    for suffix in ("json", "ubj"):
        path = art / f"xgb.{suffix}"
        model.save_model(str(path))
        got = load_predictor(spec_for("xgb", path), None).predict(reversed_columns(live), None)
        np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-6)


def test_catboost_cbm_classifier_gives_positive_class_probability(
    art: Path, train: Train, live: pd.DataFrame
) -> None:
    import catboost

    x, y = train
    model = catboost.CatBoostClassifier(iterations=10, depth=3, verbose=False)
    model.fit(x, (y > 0.5).astype(int))
    path = art / "cat.cbm"
    model.save_model(str(path))
    got = load_predictor(spec_for("cat", path), None).predict(reversed_columns(live), None)
    np.testing.assert_allclose(got.to_numpy(), model.predict_proba(live[FEATURES])[:, 1])


def test_catboost_cbm_regressor_equals_predict(art: Path, train: Train, live: pd.DataFrame) -> None:
    import catboost

    x, y = train
    model = catboost.CatBoostRegressor(iterations=10, depth=3, verbose=False).fit(x, y)
    path = art / "catr.cbm"
    model.save_model(str(path))
    got = load_predictor(spec_for("catr", path), None).predict(live, None)
    np.testing.assert_allclose(got.to_numpy(), model.predict(live[FEATURES]))


@pytest.mark.parametrize("fmt", ["pickle", "joblib"])
def test_sklearn_classifier_pickle_and_joblib_give_predict_proba(
    fmt: str, art: Path, train: Train, live: pd.DataFrame
) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = train
    model = LogisticRegression().fit(x, (y > 0.5).astype(int))
    path = art / ("clf.pkl" if fmt == "pickle" else "clf.joblib")
    if fmt == "pickle":
        path.write_bytes(pickle.dumps(model))
    else:
        joblib.dump(model, path)
    got = load_predictor(spec_for("clf", path), None).predict(reversed_columns(live), None)
    np.testing.assert_array_equal(got.to_numpy(), model.predict_proba(live[FEATURES])[:, 1])


def test_pickled_lgbm_regressor_respects_its_feature_names(
    art: Path, train: Train, live: pd.DataFrame
) -> None:
    import lightgbm as lgb

    x, y = train
    model = lgb.LGBMRegressor(n_estimators=10, verbose=-1).fit(x[LGB_FEATURES], y)
    path = art / "lgbm.pkl"
    path.write_bytes(pickle.dumps(model))
    got = load_predictor(spec_for("lgbm", path), None).predict(reversed_columns(live), None)
    np.testing.assert_array_equal(got.to_numpy(), model.predict(live[LGB_FEATURES]))


def test_sklearn_pipeline_trained_on_array_uses_every_feature_column(
    art: Path, train: Train, live: pd.DataFrame
) -> None:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = train
    model = make_pipeline(StandardScaler(), Ridge()).fit(x.to_numpy(), y)
    path = art / "pipe.pkl"
    path.write_bytes(pickle.dumps(model))
    live_six = live.drop(columns=["feature_unused"])
    got = load_predictor(spec_for("pipe", path), None).predict(live_six, None)
    np.testing.assert_allclose(got.to_numpy(), model.predict(live_six[FEATURES].to_numpy()))


def test_onnx_from_sklearn_equals_sklearn_within_float32(
    art: Path, train: Train, live: pd.DataFrame
) -> None:
    import onnx
    from skl2onnx import to_onnx
    from sklearn.linear_model import Ridge

    x, y = train
    cols = ["feature_ember", "feature_amber", "feature_cedar"]
    model = Ridge().fit(x[cols].to_numpy(dtype=np.float32), y)
    proto = to_onnx(model, x[cols].to_numpy(dtype=np.float32)[:1])
    entry = proto.metadata_props.add()
    entry.key, entry.value = "feature_names", ",".join(cols)
    path = art / "ridge.onnx"
    onnx.save(proto, str(path))
    got = load_predictor(spec_for("onnx", path), None).predict(reversed_columns(live), None)
    np.testing.assert_allclose(got.to_numpy(), model.predict(live[cols].to_numpy()), rtol=1e-5)


def test_onnx_classifier_without_metadata_uses_configured_features(
    art: Path, train: Train, live: pd.DataFrame
) -> None:
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    x, y = train
    cols = ["feature_birch", "feature_dune"]
    model = LogisticRegression().fit(x[cols].to_numpy(dtype=np.float32), (y > 0.5).astype(int))
    path = art / "clf.onnx"
    path.write_bytes(to_onnx(model, x[cols].to_numpy(dtype=np.float32)[:1]).SerializeToString())
    got = load_predictor(spec_for("oc", path, features="two"), {"two": cols}).predict(live, None)
    np.testing.assert_allclose(
        got.to_numpy(), model.predict_proba(live[cols].to_numpy())[:, 1], rtol=1e-5
    )


def _dump_function(path: Path, fn: Any) -> Path:
    path.write_bytes(cloudpickle.dumps(fn))
    return path


def test_cloudpickled_one_parameter_function_gets_the_live_frame(
    tmp_path: Path, live: pd.DataFrame
) -> None:
    def predict(live_features: pd.DataFrame) -> pd.DataFrame:
        score = live_features["feature_amber"] / 4
        return score.to_frame("prediction")

    path = _dump_function(tmp_path / "fn.pkl", predict)
    got = load_predictor(spec_for("fn", path), None).predict(live, None)
    np.testing.assert_array_equal(got.to_numpy(), live["feature_amber"].to_numpy() / 4)


def test_cloudpickled_two_parameter_function_gets_benchmarks(
    tmp_path: Path, live: pd.DataFrame
) -> None:
    def predict(live_features: pd.DataFrame, live_benchmark_models: pd.DataFrame) -> pd.Series:
        return live_benchmark_models["v52_lgbm_ender20"].rename("whatever")

    path = _dump_function(tmp_path / "fn2.cloudpickle", predict)
    bench = pd.DataFrame({"v52_lgbm_ender20": np.linspace(0.1, 0.9, len(live))}, index=live.index)
    predictor = load_predictor(spec_for("fn2", path), None)
    shuffled_bench = bench.iloc[::-1]  # aligned by id, not position
    got = predictor.predict(live, shuffled_bench)
    np.testing.assert_array_equal(got.to_numpy(), bench["v52_lgbm_ender20"].to_numpy())
    with pytest.raises(ModelError, match="takes live_benchmark_models"):
        predictor.predict(live, None)


def test_function_with_three_parameters_is_refused(tmp_path: Path) -> None:
    path = _dump_function(tmp_path / "fn3.pkl", lambda a, b, c: a)
    with pytest.raises(ModelError, match="takes 3 parameters"):
        load_predictor(spec_for("fn3", path), None)


def test_entry_point_is_imported_from_the_models_dir(tmp_path: Path, live: pd.DataFrame) -> None:
    (tmp_path / "ep_model_alpha.py").write_text(
        "def predict(live_features):\n    return live_features['feature_cedar'] / 4\n"
    )
    spec = spec_for("ep", None, format="entrypoint", entrypoint="ep_model_alpha:predict")
    try:
        got = load_predictor(spec, None, models_dir=tmp_path).predict(live, None)
    finally:
        sys.modules.pop("ep_model_alpha", None)
    np.testing.assert_array_equal(got.to_numpy(), live["feature_cedar"].to_numpy() / 4)


def test_entry_point_missing_module_says_where_it_looked(tmp_path: Path) -> None:
    spec = spec_for("ep", None, format="entrypoint", entrypoint="no_such_model_zz:predict")
    with pytest.raises(ModelError, match=f"no module 'no_such_model_zz' in {tmp_path}"):
        load_predictor(spec, None, models_dir=tmp_path)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_predictions_file_is_served_in_live_order(
    suffix: str, tmp_path: Path, live: pd.DataFrame
) -> None:
    values = pd.Series(np.linspace(0, 1, len(live)), index=live.index, name="prediction")
    frame = values.iloc[::-1].reset_index()  # another order, id as a column
    path = tmp_path / f"preds.{suffix}"
    if suffix == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    got = load_predictor(spec_for("file", path), None).predict(live, None)
    np.testing.assert_allclose(got.to_numpy(), values.to_numpy())
    bigger = pd.concat([live, live.iloc[:10].rename(index=lambda i: i + "x")])
    with pytest.raises(ModelError, match=r"lacks 10 of the 70 live ids.*earlier round"):
        load_predictor(spec_for("file", path), None).predict(bigger, None)


def test_missing_library_names_the_extra(
    lgb_model: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # import now fails as if not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'numerai-autopilot\[lightgbm\]'"):
        load_predictor(spec_for("lgb", lgb_model[0]), None)


def test_corrupt_artifact_fails_with_a_model_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.pkl"
    path.write_bytes(b"\x80\x04not a pickle")
    with pytest.raises(ModelError, match="cannot unpickle"):
        load_predictor(spec_for("broken", path), None)


def test_unknown_feature_set_is_a_config_error(tmp_path: Path, live: pd.DataFrame) -> None:
    from sklearn.linear_model import Ridge

    path = tmp_path / "ridge.pkl"
    path.write_bytes(pickle.dumps(Ridge().fit(np.zeros((3, 2)), [0, 1, 0])))
    spec = spec_for("r", path, features="huge")
    with pytest.raises(ConfigError, match=r"no feature set 'huge'.*known: small"):
        load_predictor(spec, {"small": FEATURES[:2]}).predict(live, None)


def _library_estimators() -> list[tuple[str, Any]]:
    import catboost
    import lightgbm as lgb
    import xgboost as xgb

    return [
        ("lgbm_classifier", lgb.LGBMClassifier(n_estimators=5, verbose=-1)),
        ("xgb_classifier", xgb.XGBClassifier(n_estimators=5, max_depth=2)),
        ("catboost_classifier", catboost.CatBoostClassifier(iterations=5, verbose=False)),
        ("xgb_regressor", xgb.XGBRegressor(n_estimators=5, max_depth=2)),
    ]


@pytest.mark.parametrize("index", range(4))
def test_pickled_library_estimators_equal_their_own_predictions(
    index: int, tmp_path: Path, train: Train, live: pd.DataFrame
) -> None:
    name, model = _library_estimators()[index]
    x, y = train
    cols = LGB_FEATURES
    target = (y > 0.5).astype(int) if "classifier" in name else y
    model.fit(x[cols], target)
    path = tmp_path / f"{name}.pkl"
    path.write_bytes(pickle.dumps(model))
    got = load_predictor(spec_for(name, path), None).predict(reversed_columns(live), None)
    expected = (
        model.predict_proba(live[cols])[:, 1] if "classifier" in name else model.predict(live[cols])
    )
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-6)


def test_pickled_boosters_are_fed_their_stored_features(
    lgb_model: tuple[Path, Any], tmp_path: Path, train: Train, live: pd.DataFrame
) -> None:
    import xgboost as xgb

    _, lgb_booster = lgb_model
    x, y = train
    xgb_booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x[LGB_FEATURES], y), 5)
    for name, booster in (("lgb_booster", lgb_booster), ("xgb_booster", xgb_booster)):
        path = tmp_path / f"{name}.pkl"
        path.write_bytes(pickle.dumps(booster))
        got = load_predictor(spec_for(name, path), None).predict(reversed_columns(live), None)
        if name == "lgb_booster":
            expected = booster.predict(live[LGB_FEATURES].to_numpy())
        else:
            expected = booster.predict(xgb.DMatrix(live[LGB_FEATURES]))
        np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-6)


def test_onnx_with_one_input_per_column_is_fed_by_name(
    art: Path, train: Train, live: pd.DataFrame
) -> None:
    from onnx import TensorProto, helper, numpy_helper
    from sklearn.linear_model import Ridge

    x, y = train
    cols = ["feature_dune", "feature_birch"]
    model = Ridge().fit(x[cols].to_numpy(dtype=np.float32), y)
    # A linear model taking its two columns as two named inputs (as from a DataFrame).
    coef = numpy_helper.from_array(model.coef_.astype(np.float32).reshape(2, 1), "coef")
    bias = numpy_helper.from_array(np.array([model.intercept_], dtype=np.float32), "bias")
    graph = helper.make_graph(
        [
            helper.make_node("Concat", cols, ["x"], axis=1),
            helper.make_node("MatMul", ["x", "coef"], ["xw"]),
            helper.make_node("Add", ["xw", "bias"], ["variable"]),
        ],
        "per_column",
        [helper.make_tensor_value_info(c, TensorProto.FLOAT, [None, 1]) for c in cols],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
        initializer=[coef, bias],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    proto.ir_version = 8
    path = art / "per_column.onnx"
    path.write_bytes(proto.SerializeToString())
    got = load_predictor(spec_for("pc", path), None).predict(reversed_columns(live), None)
    np.testing.assert_allclose(got.to_numpy(), model.predict(live[cols].to_numpy()), rtol=1e-5)


def test_pickle_needing_a_missing_library_names_the_extra(
    tmp_path: Path, train: Train, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lightgbm as lgb

    x, y = train
    path = tmp_path / "lgbm.pkl"
    path.write_bytes(pickle.dumps(lgb.LGBMRegressor(n_estimators=2, verbose=-1).fit(x, y)))
    for module in [m for m in sys.modules if m == "lightgbm" or m.startswith("lightgbm.")]:
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingExtraError, match=r"numerai-autopilot\[lightgbm\]"):
        load_predictor(spec_for("lgbm", path), None)


def test_xgboost_trained_on_array_maps_configured_features_by_position(
    art: Path, train: Train, live: pd.DataFrame
) -> None:
    import xgboost as xgb

    x, y = train
    cols = ["feature_ember", "feature_birch", "feature_amber"]
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x[cols].to_numpy(), y), 5)
    path = art / "positional.json"
    booster.save_model(str(path))
    spec = spec_for("xpos", path, features="three")
    got = load_predictor(spec, {"three": cols}).predict(reversed_columns(live), None)
    expected = booster.predict(xgb.DMatrix(live[cols].to_numpy()))
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-6)
