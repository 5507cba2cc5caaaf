"""``numerai-autopilot upload-pickle MODEL FILE`` against the sandbox, in a real process: a
pickle Numerai's runner would refuse is refused here with the reason and nothing is uploaded;
a good one is uploaded with its data version and image, and the sandbox lists it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import pandas as pd
import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.models import this_python
from numerai_autopilot.sandbox import Sandbox
from support.rig import env_for

MODEL = "anas_platyrhynchos"
IMAGE = f"Python {this_python()}"


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "numerai_autopilot", "upload-pickle", *args],
        env={**env, "NUMERAI_LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _pickle(tmp_path: Path, name: str, fn: Callable[..., Any]) -> Path:
    path = tmp_path / f"{name}.pkl"
    path.write_bytes(cloudpickle.dumps(fn))
    return path


def _good(live_features: pd.DataFrame, live_benchmark_models: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in live_features.columns if c.startswith("feature_")][:5]
    own = live_features[cols].astype("float32").mean(axis=1).rank(pct=True)
    bench = live_benchmark_models.iloc[:, 0].rank(pct=True)
    return (0.5 * own + 0.5 * bench).to_frame("prediction")


def _series(live_features: pd.DataFrame) -> pd.Series:
    cols = [c for c in live_features.columns if c.startswith("feature_")][:5]
    return live_features[cols].mean(axis=1).rank(pct=True)


def _three(live: pd.DataFrame, bench: Any = None, extra: Any = None) -> pd.DataFrame:
    return live[["era"]]


@pytest.fixture
def env(sb: Sandbox, tmp_path: Path) -> Iterator[dict[str, str]]:
    (tmp_path / "models").mkdir()
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # as a notebook's functions
    yield env_for(sb, tmp_path)
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _uploads(api: NumeraiClient) -> list[Any]:
    return api.pickles.list()


def test_a_good_pickle_is_checked_then_uploaded_and_listed(
    env: dict[str, str], tmp_path: Path, api: NumeraiClient, sb: Sandbox
) -> None:
    path = _pickle(tmp_path, "good", _good)
    res = _cli(env, MODEL, str(path), "--data-version", "v5.2", "--image", IMAGE)
    assert res.returncode == 0, res.stderr[-3000:]
    [doc] = [json.loads(line) for line in res.stdout.splitlines() if "upload-pickle" in line]
    assert doc["model"] == MODEL and doc["rows"] > 100
    [listed] = _uploads(api)
    assert listed.id == doc["upload_id"]
    assert (listed.data_version, listed.image) == ("v5.2", IMAGE)
    model = sb.state.find_model_by_name(MODEL)
    assert model is not None and model.pickle_upload_id == listed.id
    assert sb.state.pickles[listed.id].path.read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    ("fn", "reason"),
    [
        (_series, "would be refused as a Model Upload: returns a Series"),
        (_three, "takes 3 parameters"),
    ],
)
def test_a_pickle_numerai_would_refuse_is_refused_and_nothing_uploaded(
    env: dict[str, str], tmp_path: Path, api: NumeraiClient, fn: Any, reason: str
) -> None:
    path = _pickle(tmp_path, "bad", fn)
    res = _cli(env, MODEL, str(path), "--data-version", "v5.2", "--image", IMAGE)
    assert res.returncode == 1, res.stderr[-3000:]
    assert reason in res.stderr and "not uploaded" in res.stderr
    assert "Traceback" not in res.stderr
    assert _uploads(api) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data-version", "v9.9", "--image", IMAGE], "--data-version 'v9.9' is not one"),
        (["--data-version", "v5.2", "--image", "Python 3.99"], "--image 'Python 3.99' is not"),
    ],
)
def test_a_wrong_choice_names_the_options_and_uploads_nothing(
    env: dict[str, str], tmp_path: Path, api: NumeraiClient, args: list[str], message: str
) -> None:
    path = _pickle(tmp_path, "good", _good)
    res = _cli(env, MODEL, str(path), *args)
    assert res.returncode == 2, res.stderr[-3000:]
    assert message in res.stderr and "choose one of" in res.stderr
    assert _uploads(api) == []


def test_another_pythons_image_is_refused_before_anything_runs(
    env: dict[str, str], tmp_path: Path, api: NumeraiClient
) -> None:
    other = "Python 3.12" if this_python() != "3.12" else "Python 3.11"
    path = _pickle(tmp_path, "good", _good)
    res = _cli(env, MODEL, str(path), "--data-version", "v5.2", "--image", other)
    assert res.returncode == 2, res.stderr[-3000:]
    assert f"this is {this_python()}" in res.stderr
    assert _uploads(api) == []
