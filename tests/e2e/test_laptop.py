"""A laptop that is not Linux (issue 9): `plan` and a full `run` of the CLI succeed on a host
without sched_getaffinity, /dev/shm, /proc or glibc's prctl, its models predicted in spawned
workers, their submissions in the sandbox."""

from __future__ import annotations

import multiprocessing.context
import os
from pathlib import Path
from typing import Any

import pytest

from numerai_autopilot import _platform
from numerai_autopilot.cli import main
from numerai_autopilot.data import load_frame
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament
from support.rig import env_for
from support.workshop import Workshop


@pytest.fixture
def started(
    non_linux_host: _platform.Host, monkeypatch: pytest.MonkeyPatch
) -> dict[str, list[str]]:
    """On a pretend macOS host, the worker processes started, by start method (a spy on the
    standard library)."""
    seen: dict[str, list[str]] = {"spawn": [], "forkserver": []}
    for method, cls in (
        ("spawn", multiprocessing.context.SpawnProcess),
        ("forkserver", multiprocessing.context.ForkServerProcess),
    ):

        def start(self: Any, _orig: Any = cls.start, _method: str = method) -> None:
            seen[_method].append(self.name)
            _orig(self)

        monkeypatch.setattr(cls, "start", start)
    return seen


def test_plan_and_run_on_a_host_without_linux_calls(
    sb: Sandbox,
    tmp_path: Path,
    started: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    w = Workshop(sb, tmp_path / "models", tmp_path / "train-cache")
    w.lightgbm("mac_lgbm")
    w.sklearn_pickle("mac_sklearn")
    w.write_toml()
    w.close()
    for name, value in env_for(sb, tmp_path).items():
        if name.startswith("NUMERAI_"):
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("NUMERAI_WORKERS", raising=False)  # the default: counted without affinity
    assert not hasattr(os, "sched_getaffinity")

    assert main(["plan"]) == 0, capfd.readouterr()
    assert main(["run"]) == 0, capfd.readouterr()

    assert sorted(started["spawn"]) == ["predict-mac_lgbm", "predict-mac_sklearn"]
    assert started["forkserver"] == []
    t = Tournament.CLASSIC
    rules = t.rules
    path = f"{rules.dataset_prefix}v5.2/{rules.live_file}"
    live = load_frame(
        sb.data.dataset_path(int(t), sb.rounds.latest(int(t)).number, path),
        index=rules.id_column,
    )
    for entry in w.entries:
        (sub,) = sb.submissions(entry.name)
        got = sb.submission_frame(str(sub["id"])).set_index(rules.id_column)["prediction"]
        assert set(got.index) == set(live.index)
        assert entry.reference is not None
        want = entry.reference(live, None).reindex(got.index)
        assert got.corr(want, method="spearman") > 0.999, entry.name
