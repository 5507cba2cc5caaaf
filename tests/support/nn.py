"""Neural-network artifacts (Keras) trained in the test, for the loaders' and the run's tests.

Keras picks its backend once, at import: the tests train on jax (the numpy backend cannot
train) with the variable set only for that import, so the runs' workers still start Keras on
its default for them, numpy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from numerai_autopilot.tournaments import Tournament

from .workshop import Workshop

TRAIN_BACKEND = "jax"


def keras_module() -> Any:
    """Keras, imported on the training backend (when not imported already)."""
    saved = os.environ.get("KERAS_BACKEND")
    os.environ["KERAS_BACKEND"] = TRAIN_BACKEND
    try:
        import keras
    finally:
        if saved is None:
            del os.environ["KERAS_BACKEND"]
        else:
            os.environ["KERAS_BACKEND"] = saved
    return keras


def train_keras(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], path: Path) -> None:
    """A small MLP fit for a few epochs (seeded), saved as ``.keras`` or legacy ``.h5``."""
    keras = keras_module()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((x.shape[1],)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(x.astype(np.float32), y.astype(np.float32), epochs=3, batch_size=64, verbose=0)
    model.save(str(path))


def keras_predict(path: Path, x: pd.DataFrame) -> np.ndarray[Any, Any]:
    """The library's own predict on ``x`` (the reference the runs are compared with)."""
    keras = keras_module()
    model = keras.models.load_model(str(path), compile=False)
    out: np.ndarray[Any, Any] = np.asarray(
        model.predict(x.to_numpy(dtype=np.float32), verbose=0)
    ).reshape(-1)
    return out


def add_keras(w: Workshop, name: str, *, legacy: bool = False) -> None:
    """A Keras model trained on the sandbox's training data, as ``.keras`` or ``.h5``."""
    suffix = ".h5" if legacy else ".keras"
    path = w.dir / f"{name}{suffix}"
    w.artifacts.artifact(
        w.digest, ("keras", suffix), path, lambda p: train_keras(w.X.to_numpy(), w.y.to_numpy(), p)
    )
    feats = list(w.small)

    def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
        return pd.Series(keras_predict(path, live[feats]), index=live.index)

    w.add(name, Tournament.CLASSIC, f'artifact = "{path.name}"\nfeatures = "small"\n', ref)
