"""The fault suite's rig and its one invariant checker.

A :class:`Rig` is a sandbox, a models dir of cheap entry-point models (their behaviour steered by
a ``knobs.json`` file: sleep, raise, NaN), a data dir, and a local HTTP :class:`Receiver` that
stands in for both the apprise target (``json://``) and the healthcheck URL. Runs go through the
real CLI, in this process (:meth:`Rig.cli`) or as a child process that a driver may kill at a
chosen point (:meth:`Rig.spawn`, see ``faults_driver.py``).

:func:`check_invariants` is what every scenario asserts: each configured model submitted exactly
once for the round or reported failed with its reason and notified; no partial file used; the
exit code; no secret in any captured output, alert, ledger or cache file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from numerai_autopilot.cli.app import run_cli
from numerai_autopilot.clock import Clock
from numerai_autopilot.data import load_frame
from numerai_autopilot.sandbox import Sandbox

CLASSIC = ("anas_platyrhynchos", "netta_rufina", "corvus_corone")
DRIVER = Path(__file__).with_name("faults_driver.py")
HC_TOKEN = "hc-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
NOTIFY_TOKEN = "tok-9a8b7c6d5e4f"

_MODULE = '''
"""Test models: mean rank of the first five features; knobs.json steers faults."""
import json, os, time
from pathlib import Path

import numpy as np

KNOBS = Path(__file__).with_name("knobs.json")


def _predict(name, live):
    knobs = json.loads(KNOBS.read_text()) if KNOBS.exists() else {}
    time.sleep(float(knobs.get("sleep", {}).get(name, 0)))
    if name in knobs.get("raise", []):
        raise RuntimeError(f"model {name} exploded on purpose")
    cols = [c for c in live.columns if c.startswith("feature_")][:5]
    out = live[cols].astype("float32").mean(axis=1).rank(pct=True)
    if name in knobs.get("nan", []):
        out[:] = np.nan
    return out
'''


class Receiver:
    """A loopback HTTP server recording every request: the apprise target and healthcheck."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[str, str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
                outer.requests.append((self.command, self.path, body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            do_GET = do_POST = do_HEAD = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def notify_url(self) -> str:
        return f"json://127.0.0.1:{self.port}/notify/{NOTIFY_TOKEN}"

    @property
    def healthcheck_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hc/{HC_TOKEN}"


@dataclass
class Result:
    code: int
    out: str
    report: dict[str, Any] | None = None
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    """What the alert receiver got during this run."""

    def notifications(self) -> list[dict[str, Any]]:
        return [json.loads(b) for _m, p, b in self.requests if p.startswith("/notify/")]

    def pings(self) -> list[str]:
        """Healthcheck pings in order: 'start', 'success' or 'fail'."""
        out = []
        for _m, p, _b in self.requests:
            if p.startswith("/hc/"):
                tail = p.removeprefix(f"/hc/{HC_TOKEN}")
                out.append({"/start": "start", "/fail": "fail", "": "success"}.get(tail, tail))
        return out

    def outcomes(self) -> dict[str, dict[str, Any]]:
        return {o["name"]: o for o in (self.report or {}).get("outcomes", [])}


@dataclass
class Rig:
    sb: Sandbox
    base: Path
    receiver: Receiver
    models: list[str] = field(default_factory=lambda: list(CLASSIC))
    extra_env: dict[str, str] = field(default_factory=dict)
    _mark: int = 0

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
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMERAI_")}
        env.update(
            NUMERAI_API_URL=self.sb.url,
            NUMERAI_PUBLIC_ID=self.sb.public_id,
            NUMERAI_SECRET_KEY=self.sb.secret_key,
            NUMERAI_MODELS_DIR=str(self.models_dir),
            NUMERAI_DATA_DIR=str(self.data_dir),
            NUMERAI_LOG_FORMAT="json",
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

    def cli(self, *args: str, capfd: Any, **env: str) -> Result:
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

    def lib(self, capfd: Any, *, clock: Clock | None = None, **run: Any) -> Result:
        """The run through the library, as the CLI does it (alerts around ``Runner.run``), for
        scenarios that need a seam the CLI has no option for (the clock)."""
        from numerai_autopilot.cli.logs import configure
        from numerai_autopilot.config import load_settings
        from numerai_autopilot.notify import Alerts
        from numerai_autopilot.run.runner import Runner

        settings = load_settings(environ=self.env())
        configure("json", settings.secret_values())
        capfd.readouterr()
        mark = len(self.receiver.requests)
        alerts = Alerts.from_settings(settings)
        alerts.start()
        with Runner(settings, clock=clock) as runner:
            report = runner.run(**run)
        alerts.finished(report)
        cap = capfd.readouterr()
        doc = {"event": "run.summary", **report.to_json()}
        out = cap.out + cap.err + json.dumps(doc, default=str)
        return Result(report.exit_code, out, doc, self.receiver.requests[mark:])

    def spawn(self, *args: str, kill_at: str | None = None, **env: str) -> subprocess.Popen[str]:
        """The CLI in a child process (its own session) through the driver, which kills the
        whole process group at ``kill_at`` (see faults_driver.py) when given."""
        extra = {"FAULTS_KILL_AT": kill_at} if kill_at else {}
        self._mark = len(self.receiver.requests)
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


# -- the invariants ------------------------------------------------------------------------------


def reference(sb: Sandbox, round_number: int) -> pd.Series:
    """What every test model must have submitted: computed here from the sandbox's own file."""
    live = load_frame(sb.data.dataset_path(8, round_number, "v5.2/live.parquet"), index="id")
    cols = [c for c in live.columns if c.startswith("feature_")][:5]
    return live[cols].astype("float32").mean(axis=1).rank(pct=True)


def check_invariants(
    rig: Rig,
    res: Result,
    *,
    exit_code: int,
    failed: Mapping[str, str] | None = None,
    crashed: str | None = None,
    notified: bool = True,
    models: Sequence[str] | None = None,
    outputs: Sequence[str] = (),
) -> None:
    """The promises every scenario keeps.

    ``failed``: model -> a piece of the reason it must be reported with (every other configured
    model must be submitted exactly once for the round). ``crashed``: the run stopped before
    any model (configuration, key): a piece of the message, alerts sent, nothing submitted.
    ``notified``: alerts are expected to have reached the receiver. ``outputs``: more captured
    text (earlier runs) to search for secrets.
    """
    failed = dict(failed or {})
    models = list(models if models is not None else rig.models)
    assert res.code == exit_code, (res.code, res.out[-3000:])
    rnd = rig.round_number()
    subs = [s for s in rig.sb.submissions() if s["round"] == rnd and s["tournament"] == 8]
    per_model: dict[str, list[dict[str, object]]] = {}
    for s in subs:
        per_model.setdefault(str(s["model_name"]), []).append(s)
    # Never two submissions for one model in one round.
    dupes = {m: len(v) for m, v in per_model.items() if len(v) > 1}
    assert not dupes, f"duplicated submissions: {dupes}"
    check_one_submission_per_model(rig.sb)
    alerts = res.notifications()
    alert_text = "\n".join(f"{a.get('title')}\n{a.get('message')}" for a in alerts)
    if crashed is not None:
        assert crashed in res.out, res.out[-3000:]
        if notified:
            assert any(crashed in a.get("message", "") for a in alerts), alerts
            assert res.pings()[-1:] == ["fail"], res.pings()
    else:
        outcomes = res.outcomes()
        assert outcomes, f"no JSON summary in the output: {res.out[-2000:]}"
        for name in models:
            o = outcomes[name]
            if name in failed:
                assert o["status"] == "failed", o
                assert failed[name] in (o["error"] or ""), (failed[name], o["error"])
                if notified:
                    assert name in alert_text, alert_text
                    assert failed[name] in alert_text, (failed[name], alert_text)
            else:
                assert o["status"] in ("submitted", "already"), o
                assert len(per_model.get(name, [])) == 1, (name, per_model.get(name))
                assert o["submission_id"] == per_model[name][0]["id"], (o, per_model[name])
        if notified:
            assert res.pings()[-1:] == ["fail" if failed else "success"]
            assert res.pings()[:1] == ["start"], res.pings()
            if not failed:
                assert not any(a.get("type") == "failure" for a in alerts), alerts
        _check_submitted_content(rig, per_model, rnd)
        _check_ledger(rig, per_model, rnd)
    _check_cache(rig)
    _check_no_secret(rig, [res.out, *outputs, alert_text, *(b for *_x, b in rig.receiver.requests)])


def check_one_submission_per_model(sb: Sandbox) -> None:
    """No model of the account, in any tournament, has two submissions in its tournament's
    current round: asked of the sandbox's state by model id, not through the API (whose answer
    a fault may bend) nor by the names a models file uses."""
    current = {int(m["tournament"]) for m in sb.models}
    rounds = {t: int(str(sb.current_round(t)["number"])) for t in current}
    seen: dict[str, list[object]] = {}
    for m in sb.models:
        subs = sb.submissions(str(m["id"]))
        mine = [s["id"] for s in subs if s["round"] == rounds[int(m["tournament"])]]
        if len(mine) > 1:
            seen[f"{m['name']} ({m['id']})"] = mine
    assert not seen, f"models with two submissions in the round: {seen}"


def _check_submitted_content(rig: Rig, per_model: Mapping[str, list[Any]], rnd: int) -> None:
    """What reached Numerai is the model's prediction on the whole live file (no partial)."""
    if not per_model:
        return
    ref = reference(rig.sb, rnd)
    for subs in per_model.values():
        frame = rig.sb.submission_frame(str(subs[0]["id"]))
        got = frame.set_index("id")["prediction"].reindex(ref.index)
        assert not got.isna().any(), "submission misses live ids"
        np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-6)


def _check_ledger(rig: Rig, per_model: Mapping[str, list[Any]], rnd: int) -> None:
    """The ledger agrees with the API: its newest outcome of a submitted model names that
    submission (uploaded this run or found already there)."""
    path = rig.data_dir / "ledger.sqlite"
    if not path.exists():
        return
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for name, subs in per_model.items():
            row = db.execute(
                "SELECT status, submission_id FROM outcomes WHERE model = ? AND round = ?"
                " ORDER BY updated_at DESC LIMIT 1",
                (name, rnd),
            ).fetchone()
            if row is None:
                continue
            assert row[0] in ("submitted", "already"), (name, row)
            assert row[1] == subs[0]["id"], (name, row, subs[0]["id"])


def _check_cache(rig: Rig) -> None:
    """Every cached data file matches its sha256 manifest: nothing partial is kept as good."""
    cache = rig.data_dir / "cache"
    if not cache.exists():
        return
    for f in cache.rglob("*"):
        if not f.is_file() or f.suffix in (".part", ".lock", ".sha256", ".etag", ".tmp"):
            continue
        manifest = f.with_name(f.name + ".sha256")
        assert manifest.exists(), f"{f} has no manifest"
        want = json.loads(manifest.read_text())["sha256"]
        assert hashlib.sha256(f.read_bytes()).hexdigest() == want, f"{f} is not what was verified"


def _check_no_secret(rig: Rig, texts: Sequence[str]) -> None:
    blob = "\n".join(texts)
    for secret in rig.secrets():
        at = blob.find(secret)
        where = blob[max(0, at - 300) : at + 60].replace(secret, "<SECRET>")
        assert at < 0, f"a secret leaked into the output or an alert: ...{where}..."
    for f in rig.data_dir.rglob("*") if rig.data_dir.exists() else []:
        if f.is_file() and f.suffix not in (".parquet",):
            data = f.read_bytes()
            for secret in rig.secrets():
                assert secret.encode() not in data, f"a secret leaked into {f}"


def submissions_count(rig: Rig) -> dict[str, int]:
    rnd = rig.round_number()
    counts: dict[str, int] = {}
    for s in rig.sb.submissions():
        if s["round"] == rnd:
            counts[str(s["model_name"])] = counts.get(str(s["model_name"]), 0) + 1
    return counts


def iter_lines(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict):
            yield doc
