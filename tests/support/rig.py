"""The one rig: a sandbox, a models dir, a data dir, and the run pointed at them.

:func:`settings_for` and :func:`env_for` are the run's configuration (as library settings, or
as the ``NUMERAI_*`` environment a CLI process gets). A :class:`Rig` adds a models dir of cheap
entry-point models (their behaviour steered by a ``knobs.json`` file: sleep, wait for a gate
file, raise, NaN) and a local HTTP :class:`Receiver` that stands in for both the apprise
target (``json://``) and the healthcheck URL. Runs go through the real CLI, in this process
(:meth:`Rig.cli`) or as a child process that a driver may kill at a chosen point
(:meth:`Rig.spawn`, see ``kill_driver.py``). What every scenario asserts is in
``invariants.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from numerai_autopilot.cli.app import run_cli
from numerai_autopilot.clock import Clock
from numerai_autopilot.config import Settings, load_settings
from numerai_autopilot.run.runner import EventHook, LatePolicy
from numerai_autopilot.sandbox import Sandbox

from .receiver import HC_TOKEN, NOTIFY_TOKEN, Receiver, Result

CLASSIC = ("anas_platyrhynchos", "netta_rufina", "corvus_corone")
DRIVER = Path(__file__).with_name("kill_driver.py")
ARMED = "kill driver armed"
"""What the driver prints when the CLI's run went through its checkpoints (see finish)."""

_MODULE = '''
"""Test models: mean rank of the first five features; knobs.json steers faults."""
import json, os, time
from pathlib import Path

import numpy as np

KNOBS = Path(__file__).with_name("knobs.json")


def _predict(name, live):
    knobs = json.loads(KNOBS.read_text()) if KNOBS.exists() else {}
    time.sleep(float(knobs.get("sleep", {}).get(name, 0)))
    gate = knobs.get("gate", {}).get(name)  # held until the test creates this file (60 s)
    for _ in range(6000 if gate else 0):
        if os.path.exists(gate):
            break
        time.sleep(0.01)
    if name in knobs.get("raise", []):
        raise RuntimeError(f"model {name} exploded on purpose")
    cols = [c for c in live.columns if c.startswith("feature_")][:5]
    out = live[cols].astype("float32").mean(axis=1).rank(pct=True)
    if name in knobs.get("nan", []):
        out[:] = np.nan
    return out
'''


def settings_for(sb: Sandbox, base: Path, **extra: object) -> Settings:
    """Library settings of a run against ``sb``, its models and data under ``base``."""
    return load_settings(
        {
            "api_url": sb.url,
            "public_id": sb.public_id,
            "secret_key": sb.secret_key,
            "models_dir": base / "models",
            "data_dir": base / "data",
            "workers": 2,
            "model_timeout": 60,
            **extra,
        },
        environ={},
    )


def cli_process(
    env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``numerai-autopilot ARGS`` as a process of its own with ``env`` (see env_for)."""
    return subprocess.run(
        [sys.executable, "-m", "numerai_autopilot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def env_for(sb: Sandbox, base: Path) -> dict[str, str]:
    """The environment a CLI process gets: everything through NUMERAI_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMERAI_")}
    env.update(
        NUMERAI_API_URL=sb.url,
        NUMERAI_PUBLIC_ID=sb.public_id,
        NUMERAI_SECRET_KEY=sb.secret_key,
        NUMERAI_MODELS_DIR=str(base / "models"),
        NUMERAI_DATA_DIR=str(base / "data"),
        NUMERAI_LOG_FORMAT="json",
    )
    return env


@dataclass
class Rig:
    sb: Sandbox
    base: Path
    receiver: Receiver
    models: list[str] = field(default_factory=lambda: list(CLASSIC))
    extra_env: dict[str, str] = field(default_factory=dict)
    _mark: int = 0
    _kill_at: str | None = None

    @property
    def models_dir(self) -> Path:
        return self.base / "models"

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    def write_models(self, names: Sequence[str] | None = None, extra_toml: str = "") -> None:
        """Entry-point models, one function each, all classic (unless ``extra_toml`` adds)."""
        names = list(names if names is not None else self.models)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        funcs = "".join(f"\n\ndef m_{n}(live):\n    return _predict({n!r}, live)\n" for n in names)
        (self.models_dir / "my_models.py").write_text(textwrap.dedent(_MODULE) + funcs)
        toml = "".join(
            f'[[model]]\nname = "{n}"\nentrypoint = "my_models:m_{n}"\n\n' for n in names
        )
        (self.models_dir / "models.toml").write_text(toml + extra_toml)

    def knobs(self, **knobs: Any) -> None:
        (self.models_dir / "knobs.json").write_text(json.dumps(knobs))

    def env(self, **extra: str) -> dict[str, str]:
        """Everything through NUMERAI_* variables, alerts pointed at the receiver."""
        env = env_for(self.sb, self.base)
        env.update(
            NUMERAI_WORKERS="2",
            NUMERAI_MODEL_TIMEOUT="30",
            NUMERAI_HTTP_TIMEOUT="2",
            NUMERAI_NOTIFY_URLS=self.receiver.notify_url,
            NUMERAI_HEALTHCHECK_URL=self.receiver.healthcheck_url,
        )
        env.update(self.extra_env)
        env.update(extra)
        return env

    def secrets(self) -> list[str]:
        return [self.sb.secret_key, self.sb.public_id, NOTIFY_TOKEN, HC_TOKEN]

    def cli(self, *args: str, capfd: pytest.CaptureFixture[str], **env: str) -> Result:
        """``numerai-autopilot run ARGS`` in this process; output captured at the fd level."""
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.env(**env))
        try:
            capfd.readouterr()
            mark = len(self.receiver.requests)
            code = run_cli(["run", *args])
        finally:
            os.environ.clear()
            os.environ.update(saved)
        cap = capfd.readouterr()
        return Result(code, cap.out + cap.err, _summary(cap.out), self.receiver.requests[mark:])

    def lib(
        self,
        capfd: pytest.CaptureFixture[str],
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        on_event: EventHook | None = None,
        late: LatePolicy = "skip",
    ) -> Result:
        """The run through the library, as the CLI does it (alerts around ``Runner.run``), for
        scenarios that need a seam the CLI has no option for (clock, transport, events)."""
        from numerai_autopilot.cli.logs import configure
        from numerai_autopilot.client import NumeraiClient
        from numerai_autopilot.notify import Alerts
        from numerai_autopilot.run.runner import Runner

        settings = load_settings(environ=self.env())
        configure("json", settings.secret_values())
        capfd.readouterr()
        mark = len(self.receiver.requests)
        alerts = Alerts.from_settings(settings)
        alerts.start()
        public_id, secret = settings.require_credentials()
        with (
            NumeraiClient(
                settings.api_url,
                public_id,
                secret,
                timeout=settings.http_timeout,
                clock=clock,
                transport=transport,
            ) as client,
            Runner(settings, client=client, clock=clock) as runner,
        ):
            report = runner.run(on_event=on_event, late=late)
        alerts.finished(report)
        cap = capfd.readouterr()
        doc = {"event": "run.summary", **report.to_json()}
        out = cap.out + cap.err + json.dumps(doc, default=str)
        return Result(report.exit_code, out, doc, self.receiver.requests[mark:])

    def spawn(self, *args: str, kill_at: str | None = None, **env: str) -> subprocess.Popen[str]:
        """The CLI in a child process (its own session) through the driver, which kills the
        whole process group at ``kill_at`` (see kill_driver.py) when given."""
        extra = {"FAULTS_KILL_AT": kill_at} if kill_at else {}
        self._mark, self._kill_at = len(self.receiver.requests), kill_at
        return subprocess.Popen(
            [sys.executable, str(DRIVER), "run", *args],
            env=self.env(**extra, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def finish(self, proc: subprocess.Popen[str], timeout: float = 120) -> Result:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            out, err = proc.communicate(timeout=10)
        _reap(proc)
        # A driver that was never called back would let a crash test pass as a clean run.
        assert not self._kill_at or ARMED in err, f"the run bypassed the kill driver: {err[-2000:]}"
        reqs = self.receiver.requests[self._mark :]
        return Result(proc.returncode, out + err, _summary(out), reqs)

    def round_number(self) -> int:
        return int(str(self.sb.current_round(8)["number"]))


def _reap(proc: subprocess.Popen[str]) -> None:
    """Kill what is left of the child's process group (its fork server, workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, 9)


def _summary(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and str(doc.get("event", "")).endswith("summary"):
            return doc
    return None
