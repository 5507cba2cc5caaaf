"""Cheap function models for the scheduling tests: one that fails its first attempt (through
a flag file), one that is slow until its flag file is removed."""

from __future__ import annotations

import time
from pathlib import Path

import cloudpickle
import pandas as pd

from .workshop import C, Workshop


def _write_function(w: Workshop, name: str, predict: object) -> None:
    (w.dir / f"{name}.pkl").write_bytes(cloudpickle.dumps(predict))
    w.add(name, C, f'artifact = "{name}.pkl"\nformat = "function"\n', None)


def flaky(w: Workshop, name: str, flag: Path) -> None:
    """A model that fails while ``flag`` exists, removing it: the first attempt fails."""
    feats = list(w.small)
    flag.write_text("fail once")

    def predict(live: pd.DataFrame) -> pd.DataFrame:
        if flag.exists():
            flag.unlink()
            raise RuntimeError("flaky model: failing its first attempt on purpose")
        return live[feats].astype("float32").mean(axis=1).rank(pct=True).to_frame("prediction")

    _write_function(w, name, predict)


def slow(w: Workshop, name: str, seconds: float, flag: Path) -> None:
    """A model that takes ``seconds`` to predict while ``flag`` exists (to stop a run in its
    middle), and is quick once the flag is removed."""
    feats = list(w.small)
    flag.write_text("slow")

    def predict(live: pd.DataFrame) -> pd.DataFrame:
        if flag.exists():
            time.sleep(seconds)  # the model's own work, not a wait for another thread
        return live[feats].astype("float32").sum(axis=1).rank(pct=True).to_frame("prediction")

    _write_function(w, name, predict)
