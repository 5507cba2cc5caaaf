"""What a model's code can reach of the run that runs it (issue 16: secrets stay with the run).

The spy is an ordinary entry-point model: before predicting, it reads ``environ`` and
``cmdline`` of every process above it (its fork server, the run, ...) through ``/proc`` and
writes what it found to a file. The run is the real CLI process (``python -m
numerai_autopilot run``), against the sandbox, with every secret set."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.invariants import check_invariants
from support.receiver import HC_TOKEN, NOTIFY_TOKEN, Result
from support.rig import Rig, _summary

WEBHOOK_SECRET = "spy-webhook-secret-" + "v" * 30

_SPY = """

import re as _re


def _spy(out):
    found, pid = [], os.getpid()
    for _ in range(8):  # the fork server, the run, what started it: bounded
        status = Path(f"/proc/{pid}/status").read_text()
        ppid = int(_re.search(r"PPid:\\s+(\\d+)", status)[1])
        if ppid <= 1:
            break
        for what in ("environ", "cmdline"):
            try:
                text = Path(f"/proc/{ppid}/{what}").read_bytes().decode("utf-8", "replace")
            except OSError as exc:
                text = f"<{exc}>"
            found.append(f"{ppid} {what}: {text}")
        pid = ppid
    Path(out).write_text("\\n".join(found))


def m_spy(live):
    _spy(SPY_OUT)
    return _predict("corvus_corone", live)
"""


def _spy_models(rig: Rig, out: Path) -> None:
    module = rig.models_dir / "my_models.py"
    module.write_text(module.read_text() + f"\nSPY_OUT = {str(out)!r}\n" + _SPY)
    toml = rig.models_dir / "models.toml"
    toml.write_text(toml.read_text().replace("my_models:m_corvus_corone", "my_models:m_spy"))


@pytest.mark.parametrize("key_from", ["environment", "option"])
def test_a_models_code_finds_no_secret_in_the_runs_environ_or_cmdline(
    rig: Rig, tmp_path: Path, key_from: str
) -> None:
    out = tmp_path / "spied.txt"
    _spy_models(rig, out)
    env = rig.env(NUMERAI_WEBHOOK_SECRET=WEBHOOK_SECRET)
    args = []
    if key_from == "option":
        args = ["--secret-key", env.pop("NUMERAI_SECRET_KEY")]
    proc = subprocess.run(
        [sys.executable, "-m", "numerai_autopilot", "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    res = Result(proc.returncode, proc.stdout + proc.stderr, _summary(proc.stdout))
    res.requests = list(rig.receiver.requests)
    check_invariants(rig, res, exit_code=0)
    spied = out.read_text()
    # The spy did look at the run: its environment (non-secret variables) and command line.
    assert f"\0NUMERAI_API_URL={rig.sb.url}\0" in spied
    assert "numerai_autopilot\0run" in spied
    for secret in (rig.sb.secret_key, rig.sb.public_id, NOTIFY_TOKEN, HC_TOKEN, WEBHOOK_SECRET):
        assert secret not in spied
        assert secret[:12] not in spied


_CHECK = """
import ctypes, os, sys
from numerai_autopilot._harden import make_undumpable, wipe_start_args, wipe_start_environ

wiped = wipe_start_environ(["SPY_SECRET", "SPY_SECRET_FILE"])
args = wipe_start_args(["--token"])
set_ = make_undumpable()
env = open("/proc/self/environ", "rb").read()
cmd = open("/proc/self/cmdline", "rb").read()
print(wiped, args, set_, ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))
hidden = ("hunter" + "3").encode()  # not spelt out: this code is on the command line too
print(b"hunter2" in env, b"KEEP=visible" in env, hidden in cmd, b"--token" in cmd)
print(os.environ["SPY_SECRET"], sys.argv[-1])  # Python's own copies are left alone
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl: Linux")
def test_harden_wipes_the_start_environment_and_arguments_and_sets_undumpable() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _CHECK, "--token", "hunter3"],
        env={"SPY_SECRET": "hunter2", "SPY_SECRET_FILE": "/run/x", "KEEP": "visible"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert proc.stdout.splitlines() == [
        "2 1 True 0",
        "False True False True",
        "hunter2 hunter3",
    ]


def test_harden_is_a_no_op_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    from numerai_autopilot import _harden

    monkeypatch.setattr(sys, "platform", "darwin")  # the module reads sys.platform
    assert _harden.make_undumpable() is False
    assert _harden.wipe_start_environ(["X"]) == 0
    assert _harden.wipe_start_args(["--x"]) == 0
