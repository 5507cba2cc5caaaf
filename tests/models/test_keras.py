"""Keras models (.keras and legacy .h5): trained here, predicted by the registry's loader,
compared with Keras' own predict."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from numerai_autopilot.errors import MissingExtraError, ModelError
from numerai_autopilot.models import infer_format, load_predictor
from support.frames import FEATURES, spec_for
from support.nn import keras_predict, train_keras

Train = tuple[pd.DataFrame, np.ndarray[Any, np.dtype[np.float64]]]


@pytest.fixture(scope="module", params=[".keras", ".h5"])
def artifact(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from support.frames import make_frame, target_of

    frame = make_frame(400, seed=1)
    path = tmp_path_factory.mktemp("keras") / f"mlp{request.param}"
    train_keras(frame[FEATURES].to_numpy(), target_of(frame), path)
    return path


def _features_file(tmp_path: Path) -> str:
    path = tmp_path / "features.json"
    path.write_text(json.dumps(FEATURES))
    return str(path)


def test_keras_is_inferred_from_its_suffixes(artifact: Path) -> None:
    assert infer_format(spec_for("nn", artifact)) == "keras"


def test_keras_predicts_what_keras_predicts_on_reordered_int8_live(
    artifact: Path, live: pd.DataFrame, tmp_path: Path
) -> None:
    spec = spec_for("nn", artifact, features=_features_file(tmp_path))
    shuffled = live[list(reversed(live.columns))]
    assert (shuffled[FEATURES].dtypes == np.int8).all()
    got = load_predictor(spec, None).predict(shuffled, None)
    expected = keras_predict(artifact, live[FEATURES])
    assert list(got.index) == list(live.index)
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-5, atol=1e-6)
    assert got.std() > 0  # a real model, not a constant


def test_keras_without_features_names_the_width_and_the_fix(
    artifact: Path, live: pd.DataFrame
) -> None:
    # live has feature_unused besides the six the model was trained on
    with pytest.raises(ModelError, match=r"takes 6 features but .* gives 7: set 'features'"):
        load_predictor(spec_for("nn", artifact), None).predict(live, None)


def test_keras_missing_library_names_its_extra(
    artifact: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "keras", None)  # import keras now raises ImportError
    with pytest.raises(MissingExtraError, match=r"numerai-autopilot\[keras\]"):
        load_predictor(spec_for("nn", artifact), None)


def test_a_corrupt_keras_file_is_one_model_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.keras"
    path.write_bytes(b"not a zip archive")
    with pytest.raises(ModelError, match=r"cannot load .* as a Keras model"):
        load_predictor(spec_for("nn", path), None)
