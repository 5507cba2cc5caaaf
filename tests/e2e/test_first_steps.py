"""A newcomer's first commands, as the README's quick start gives them: ``--version``, the
demo and what it says to try next, and ``sandbox serve`` whose printed ``export`` line is
pasted as is into another shell that then runs ``init`` and ``plan``."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import numerai_autopilot
from numerai_autopilot.cli import main

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMERAI_")}
    return env | extra


def cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "numerai_autopilot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert out.startswith(f"numerai-autopilot {version('numerai-autopilot')} (Python ")
    # The metadata, the package's __version__ and pyproject.toml say the same.
    assert version("numerai-autopilot") == numerai_autopilot.__version__ == pyproject


def _serve(cwd: Path) -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``sandbox serve`` (no --state) and read its stdout up to the models line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "numerai_autopilot", "sandbox", "serve"],
        env=clean_env(),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    # readline blocks until serve prints; the bound is the line count and, after it, the time.
    for _ in range(20):
        line = proc.stdout.readline()
        if not line or time.monotonic() > deadline:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("# then:"):
            break
    return proc, lines


def test_sandbox_serve_prints_an_export_line_that_works_pasted(tmp_path: Path) -> None:
    proc, lines = _serve(tmp_path)
    try:
        (state_line,) = [line for line in lines if line.startswith("state file: ")]
        assert state_line.endswith("(a temporary folder, removed on exit)")
        state_file = Path(state_line.removeprefix("state file: ").split("  (")[0])
        info = json.loads(state_file.read_text())
        (export,) = [line for line in lines if line.startswith("export ")]
        # What a shell would do with the pasted line.
        pasted = dict(word.split("=", 1) for word in shlex.split(export)[1:])
        assert set(pasted) == {"NUMERAI_API_URL", "NUMERAI_PUBLIC_ID", "NUMERAI_SECRET_KEY_FILE"}
        assert pasted["NUMERAI_API_URL"] == info["url"]
        assert pasted["NUMERAI_PUBLIC_ID"] == info["public_id"]
        key_file = Path(pasted["NUMERAI_SECRET_KEY_FILE"])
        assert key_file.read_text().strip() == info["secret_key"]
        assert key_file.stat().st_mode & 0o077 == 0  # owner-only
        assert info["secret_key"] not in "\n".join(lines)  # the key itself is never printed
        shell = clean_env(**pasted, NUMERAI_LOG_FORMAT="json")
        init = cli(shell, tmp_path, "init")
        assert init.returncode == 0, init.stderr
        assert init.stdout.startswith("wrote models/models.toml: 7 models")
        plan = cli(shell, tmp_path, "plan")  # the artifacts are still to fill in: exit 1
        assert plan.returncode == 1, plan.stderr
        (doc,) = [json.loads(x) for x in plan.stdout.splitlines() if x.startswith("{")]
        assert doc["pending"] == 7
        assert all("does not exist" in str(p["problem"]) for p in doc["problems"])
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in err and "Traceback" not in err
    assert not state_file.parent.exists()  # the temporary state dir went with it


def test_sandbox_serve_with_state_keeps_the_key_file_there(tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, "-m", "numerai_autopilot", "sandbox", "serve", "--state", str(state)],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first == f"state file: {state / 'sandbox.json'}\n"
    finally:
        proc.terminate()  # SIGTERM is handled from before the first line
        proc.communicate(timeout=30)
    info = json.loads((state / "sandbox.json").read_text())
    assert (state / "secret_key").read_text().strip() == info["secret_key"]
    assert proc.returncode == 0  # --state is the user's: kept after the stop
    assert (state / "secret_key").stat().st_mode & 0o077 == 0


def test_sandbox_serve_stopped_by_sigterm_removes_its_temporary_state(tmp_path: Path) -> None:
    proc, lines = _serve(tmp_path)
    (state_line,) = [line for line in lines if line.startswith("state file: ")]
    state_dir = Path(state_line.removeprefix("state file: ").split("  (")[0]).parent
    assert (state_dir / "secret_key").is_file()
    proc.terminate()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "stopped" in err, err
    assert not state_dir.exists()


@pytest.mark.slow
def test_demo_keeps_its_folder_and_ends_with_the_next_command(tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    r = cli(clean_env(), tmp_path, "demo", "--keep", str(keep), "--log-format", "json")
    assert r.returncode == 0, r.stderr
    summaries = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    runs = [s["summary"] for s in summaries if s["event"].endswith(".summary")]
    assert [(s["submitted"], s["already"]) for s in runs] == [(3, 0), (0, 3)]
    # JSON mode keeps stdout JSON lines only: the next steps go to stderr.
    assert "numerai-autopilot sandbox serve" in r.stderr
    assert f"The demo's models and data are in {keep.resolve()}" in r.stderr
    assert (keep / "models" / "models.toml").is_file()
    plain = re.sub(r"\s+", " ", r.stderr)
    assert "numerai-autopilot init" in plain
