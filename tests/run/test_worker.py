"""Prediction workers: one child per model; a model's failure (exception, NaN, wrong length,
segfault, hang, memory hog) fails that model alone; no secrets reach a model."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pytest

from numerai_autopilot.config import ModelSpec
from numerai_autopilot.errors import MissingFeatureError, ModelError, WorkerError
from numerai_autopilot.run.worker import LiveData, PredictionResult, predict_many
from numerai_autopilot.tournaments import Tournament
from support.frames import make_frame

FEATURES = ["feature_a", "feature_b", "feature_c", "feature_d"]


def make_live(rows: int = 50, seed: int = 0) -> pd.DataFrame:
    return make_frame(rows, seed, FEATURES, meta=False)


def fn_spec(tmp: Path, name: str, fn: Callable[..., Any], **kw: Any) -> ModelSpec:
    """A Model Upload style cloudpickled function (nested functions pickle by value)."""
    path = tmp / f"{name}.pkl"
    path.write_bytes(cloudpickle.dumps(fn))
    return ModelSpec(name=name, tournament=Tournament.CLASSIC, format=None, artifact=path, **kw)


def by_name(results: list[PredictionResult]) -> dict[str, PredictionResult]:
    return {r.name: r for r in results}


def good(live_features: pd.DataFrame) -> pd.Series:
    return live_features["feature_a"] / 4


def raising(live_features: pd.DataFrame) -> pd.Series:
    raise ValueError("boom in user code")


def nan(live_features: pd.DataFrame) -> pd.Series:
    out = live_features["feature_a"] / 4
    out.iloc[:3] = np.nan
    return out


def short(live_features: pd.DataFrame) -> np.ndarray[Any, Any]:
    return np.full(len(live_features) - 5, 0.5)


def segfault(live_features: pd.DataFrame) -> pd.Series:
    os.kill(os.getpid(), signal.SIGSEGV)
    return live_features["feature_a"]


def hang(live_features: pd.DataFrame) -> pd.Series:
    time.sleep(120)
    return live_features["feature_a"]


def hog(live_features: pd.DataFrame) -> pd.Series:
    blob = np.ones(64 * 2**20)  # 512 MB, well over its 64 MB bound
    out: pd.Series = live_features["feature_a"] + blob[0]
    return out


def exits(live_features: pd.DataFrame) -> pd.Series:
    os._exit(3)


def environment(live_features: pd.DataFrame) -> pd.Series:
    leaked = [k for k in os.environ if "SECRET" in k or k.startswith("NUMERAI_") or "TOKEN" in k]
    if leaked:
        raise RuntimeError(f"leaked: {leaked}")
    if os.environ.get("OMP_NUM_THREADS") is None:
        raise RuntimeError("thread cap not set")
    print("model says hello")
    return live_features["feature_b"] / 4


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One predict_many over a good model and every kind of broken one."""
    tmp = tmp_path_factory.mktemp("workers")
    live = make_live()
    specs = [
        fn_spec(tmp, "good", good),
        fn_spec(tmp, "raising", raising),
        fn_spec(tmp, "nan", nan),
        fn_spec(tmp, "short", short),
        fn_spec(tmp, "segfault", segfault),
        fn_spec(tmp, "hang", hang, timeout=2.0),
        fn_spec(tmp, "hog", hog, memory_mb=64),
        fn_spec(tmp, "exits", exits),
        fn_spec(tmp, "environment", environment),
    ]
    seen: list[str] = []
    saved = dict(os.environ)
    os.environ.update(NUMERAI_SECRET_KEY="s3cr3t-value", NUMERAI_PUBLIC_ID="pub", MY_API_TOKEN="t")
    started = time.monotonic()
    try:
        results = predict_many(
            specs,
            {Tournament.CLASSIC: LiveData(live)},
            workers=3,
            timeout=60.0,
            memory_mb=None,
            on_result=lambda r: seen.append(r.name),
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {
        "live": live,
        "specs": specs,
        "results": results,
        "seen": seen,
        "elapsed": time.monotonic() - started,
    }


def test_results_come_back_in_spec_order_and_each_reported_once(outcome: dict[str, Any]) -> None:
    assert [r.name for r in outcome["results"]] == [s.name for s in outcome["specs"]]
    assert sorted(outcome["seen"]) == sorted(s.name for s in outcome["specs"])
    assert outcome["elapsed"] < 30  # the hang was cut at its own 2 s timeout


def test_good_model_predicts_despite_broken_neighbours(outcome: dict[str, Any]) -> None:
    r = by_name(outcome["results"])["good"]
    assert r.error is None
    assert r.predictions is not None
    pd.testing.assert_series_equal(
        r.predictions, (outcome["live"]["feature_a"] / 4).rename("prediction")
    )
    assert r.seconds > 0


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("raising", ModelError, "model 'raising' raised ValueError: boom in user code"),
        ("nan", ModelError, "returned 3 NaN or infinite predictions of 50"),
        ("short", ModelError, "returned 45 predictions for 50 live rows"),
        ("segfault", WorkerError, "crashed with signal SIGSEGV"),
        ("hang", WorkerError, "timed out after 2s and was stopped (raise timeout = ... in its"),
        ("hog", WorkerError, "exceeded 64 MB of memory"),
        ("exits", WorkerError, "exited with code 3 without returning predictions"),
    ],
)
def test_broken_model_fails_alone_with_its_reason(
    outcome: dict[str, Any], name: str, kind: type[Exception], message: str
) -> None:
    r = by_name(outcome["results"])[name]
    assert r.predictions is None
    assert type(r.error) is kind
    assert message in str(r.error)


def test_worker_environment_has_no_secrets_and_a_thread_cap(outcome: dict[str, Any]) -> None:
    r = by_name(outcome["results"])["environment"]
    assert r.error is None, r.error


def test_model_prints_are_kept_on_its_result_not_on_the_runs_streams(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (result,) = predict_many(
        [fn_spec(tmp_path, "environment", environment)],
        {Tournament.CLASSIC: LiveData(make_live())},
        workers=1,
        timeout=30,
        memory_mb=None,
    )
    out, err = capfd.readouterr()
    # Was: on the run's stderr. Now neither stream (a JSON log must stay JSON): the result.
    assert "model says hello" not in out
    assert "model says hello" not in err
    assert result.output == "model says hello\n"


def test_a_model_printing_more_than_a_pipe_holds_is_kept_bounded(tmp_path: Path) -> None:
    def chatty(live_features: pd.DataFrame) -> pd.Series:
        import os

        os.write(2, b"first line\n")
        for i in range(20_000):  # ~400 kB: far more than a pipe buffers
            print(f"line {i:06d} of chatter")
        os.write(2, b"last line\n")
        return live_features["feature_a"]

    (result,) = predict_many(
        [fn_spec(tmp_path, "chatty", chatty)],
        {Tournament.CLASSIC: LiveData(make_live())},
        workers=1,
        timeout=60,
        memory_mb=None,
    )
    assert result.error is None, result.error
    assert result.output.startswith("first line\n")
    assert result.output.rstrip().endswith("last line")
    assert "bytes left out" in result.output
    assert len(result.output) < 9_000


def test_model_mutating_its_frame_changes_nothing_for_others(tmp_path: Path) -> None:
    def vandal(live_features: pd.DataFrame) -> pd.Series:
        live_features.iloc[:, :] = 0
        live_features.drop(columns=["feature_a"], inplace=True)
        return pd.Series(0.5, index=live_features.index)

    live = make_live()
    before = live.copy()
    results = predict_many(
        [fn_spec(tmp_path, "vandal", vandal), fn_spec(tmp_path, "good", good)],
        {Tournament.CLASSIC: LiveData(live)},
        workers=1,  # one after the other: the second runs after the vandal is done
        timeout=30,
        memory_mb=None,
    )
    assert [r.error for r in results] == [None, None]
    pd.testing.assert_frame_equal(live, before)
    assert results[1].predictions is not None
    np.testing.assert_array_equal(results[1].predictions, before["feature_a"] / 4)


def test_at_most_workers_models_run_at_once(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()

    def sleepy(live_features: pd.DataFrame) -> pd.Series:
        start = time.monotonic()
        time.sleep(0.4)
        (marks / f"{os.getpid()}").write_text(f"{start} {time.monotonic()}")
        return live_features["feature_c"] / 4

    specs = [fn_spec(tmp_path, f"s{i}", sleepy) for i in range(4)]
    results = predict_many(
        specs, {Tournament.CLASSIC: LiveData(make_live())}, workers=2, timeout=30, memory_mb=None
    )
    assert all(r.error is None for r in results)
    spans = [tuple(map(float, p.read_text().split())) for p in marks.iterdir()]
    assert len(spans) == 4
    for start, _ in spans:
        overlapping = sum(1 for s, e in spans if s <= start < e)
        assert overlapping <= 2


def test_lightgbm_in_a_worker_ignores_live_column_order(tmp_path: Path) -> None:
    import lightgbm as lgb

    train = make_live(300, seed=1)
    y = (train["feature_a"] * 0.5 + train["feature_c"] * 0.2 - train["feature_d"] * 0.1) / 4
    cols = ["feature_d", "feature_a", "feature_c"]
    booster = lgb.train({"verbose": -1, "min_data_in_leaf": 5}, lgb.Dataset(train[cols], y), 10)
    path = tmp_path / "model.txt"
    booster.save_model(str(path))
    spec = ModelSpec(name="lgb", tournament=Tournament.CLASSIC, format=None, artifact=path)
    live = make_live()
    shuffled = live[list(reversed(FEATURES))]
    results = predict_many(
        [spec, replace(spec, name="lgb2")],
        {Tournament.CLASSIC: LiveData(shuffled)},
        workers=2,
        timeout=60,
        memory_mb=None,
    )
    expected = booster.predict(live[cols].to_numpy())
    for r in results:
        assert r.error is None, r.error
        assert r.predictions is not None
        np.testing.assert_array_equal(r.predictions.to_numpy(), expected)
        assert r.predictions.index.equals(shuffled.index)


def test_missing_feature_comes_back_as_missing_feature_error(tmp_path: Path) -> None:
    def needs(live_features: pd.DataFrame) -> pd.Series:
        return live_features["feature_a"]

    from sklearn.linear_model import Ridge

    train = make_live(40, seed=3)
    path = tmp_path / "ridge.pkl"
    path.write_bytes(cloudpickle.dumps(Ridge().fit(train, train["feature_a"] / 4)))
    spec = ModelSpec(name="ridge", tournament=Tournament.CLASSIC, format=None, artifact=path)
    (result,) = predict_many(
        [spec],
        {Tournament.CLASSIC: LiveData(make_live().drop(columns=["feature_b"]))},
        workers=1,
        timeout=30,
        memory_mb=None,
    )
    assert isinstance(result.error, MissingFeatureError)
    assert "feature_b" in str(result.error)


def test_tournament_without_live_data_fails_without_a_worker(tmp_path: Path) -> None:
    spec = replace(fn_spec(tmp_path, "sig", good), tournament=Tournament.SIGNALS)
    (result,) = predict_many(
        [spec], {Tournament.CLASSIC: LiveData(make_live())}, workers=1, timeout=5, memory_mb=None
    )
    assert isinstance(result.error, ModelError)
    assert "no live data loaded for signals" in str(result.error)


def test_failing_callback_stops_the_run_and_kills_running_workers(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"

    def slow(live_features: pd.DataFrame) -> pd.Series:
        pid_file.write_text(str(os.getpid()))
        time.sleep(120)
        return live_features["feature_a"]

    def later(live_features: pd.DataFrame) -> pd.Series:
        # Return (and so fail the callback) only once the slow one runs: a worker to kill.
        for _ in range(3000):  # at most 30 s
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.01)
        return live_features["feature_a"] / 4

    def callback(result: PredictionResult) -> None:
        raise RuntimeError("upload exploded")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="upload exploded"):
        predict_many(
            [fn_spec(tmp_path, "slow", slow), fn_spec(tmp_path, "later", later)],
            {Tournament.CLASSIC: LiveData(make_live())},
            workers=2,
            timeout=120,
            memory_mb=None,
            on_result=callback,
        )
    assert time.monotonic() - started < 20
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_default_timeout_applies_to_specs_without_their_own(tmp_path: Path) -> None:
    (result,) = predict_many(
        [fn_spec(tmp_path, "hang", hang)],
        {Tournament.CLASSIC: LiveData(make_live())},
        workers=1,
        timeout=1.5,
        memory_mb=None,
    )
    assert isinstance(result.error, WorkerError)
    assert "timed out after 1.5s" in str(result.error)
    assert "raise NUMERAI_MODEL_TIMEOUT or --model-timeout" in str(result.error)
    assert result.seconds < 10


def test_leftover_threads_of_a_model_do_not_hold_its_result(tmp_path: Path) -> None:
    def threaded(live_features: pd.DataFrame) -> pd.Series:
        import threading

        threading.Thread(target=time.sleep, args=(60,), daemon=False).start()
        return live_features["feature_d"] / 4

    started = time.monotonic()
    (result,) = predict_many(
        [fn_spec(tmp_path, "threaded", threaded)],
        {Tournament.CLASSIC: LiveData(make_live())},
        workers=1,
        timeout=30,
        memory_mb=None,
    )
    assert result.error is None, result.error
    assert time.monotonic() - started < 4  # not the 5 s join-then-kill of a stuck worker


def test_a_huge_non_ascii_error_message_still_comes_back(tmp_path: Path) -> None:
    def verbose(live_features: pd.DataFrame) -> pd.Series:
        raise ValueError("😱" * 50_000)

    (result,) = predict_many(
        [fn_spec(tmp_path, "verbose", verbose)],
        {Tournament.CLASSIC: LiveData(make_live(5))},
        workers=1,
        timeout=30,
        memory_mb=None,
    )
    assert type(result.error) is ModelError
    assert "raised ValueError: 😱😱" in str(result.error)
