"""Helpers of the scheduling tests: a clock whose sleep is instant, and cheap function models
(one that fails its first attempt through a flag file, one that is slow)."""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cloudpickle
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from e2e_support import Workshop, env_for, settings_for

from numerai_autopilot.tournaments import Tournament

__all__ = ["C", "JumpClock", "Workshop", "env_for", "flaky", "settings_for", "slow"]

C = Tournament.CLASSIC


class JumpClock:
    """Real time plus an offset; ``sleep`` moves the offset on at once (thread-safe).

    Shared by the sandbox (``time_source``) and the scheduler, it lets a test live through
    hours of a schedule in a second, while runs still take their real time."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return datetime.now(UTC) + timedelta(seconds=offset)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(0.0, seconds)
            self.sleeps.append(seconds)

    def monotonic(self) -> float:
        with self._lock:
            return time.monotonic() + self._offset

    @property
    def slept(self) -> float:
        with self._lock:
            return sum(self.sleeps)


def _write(w: Workshop, name: str, predict: object) -> None:
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

    _write(w, name, predict)


def slow(w: Workshop, name: str, seconds: float, flag: Path) -> None:
    """A model that takes ``seconds`` to predict while ``flag`` exists (to stop a run in its
    middle), and is quick once the flag is removed."""
    feats = list(w.small)
    flag.write_text("slow")

    def predict(live: pd.DataFrame) -> pd.DataFrame:
        if flag.exists():
            time.sleep(seconds)
        return live[feats].astype("float32").sum(axis=1).rank(pct=True).to_frame("prediction")

    _write(w, name, predict)
