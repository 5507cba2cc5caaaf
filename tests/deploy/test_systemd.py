"""The systemd units pass `systemd-analyze verify` and fire at the recommended slots."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from numerai_autopilot.deploy.slots import RECOMMENDED
from numerai_autopilot.deploy.triggers import systemd_units
from support.deploy_paths import DEPLOY, VENV_BIN


class _CaseKept(configparser.ConfigParser):
    """Keys as written: systemd's are case-sensitive (``OnCalendar``, ``ExecStart``)."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def _ini(text: str) -> configparser.ConfigParser:
    cp = _CaseKept(strict=False, interpolation=None)
    cp.read_string(text)
    return cp


def test_units_verify_cleanly(tmp_path: Path) -> None:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze is not installed")
    # The repository's copy points at ~/.local/bin; verify the same text with an executable
    # that exists here (verify checks ExecStart is runnable).
    units = systemd_units(RECOMMENDED, executable=str(VENV_BIN / "numerai-autopilot"))
    for name, text in units.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    res = subprocess.run(
        [exe, "verify", "--man=no", *(str(tmp_path / n) for n in units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if res.returncode != 0 and "Failed to" in res.stderr and "bus" in res.stderr.lower():
        pytest.skip(f"systemd-analyze cannot run here: {res.stderr.strip()[:200]}")
    assert res.returncode == 0, res.stderr
    # verify prints warnings for unknown keys and bad values without failing: none allowed.
    assert "Unknown" not in res.stderr and "Invalid" not in res.stderr, res.stderr


def test_a_broken_unit_is_caught_by_verify(tmp_path: Path) -> None:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze is not installed")
    bad = tmp_path / "numerai-autopilot.timer"
    bad.write_text("[Timer]\nOnCalendar=Tue..Sun 25:99\n", encoding="utf-8")
    res = subprocess.run(
        [exe, "verify", "--man=no", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode != 0 or "Failed to parse" in res.stderr


def test_service_is_oneshot_with_benign_exit_codes_and_a_deadline() -> None:
    svc = _ini((DEPLOY / "systemd" / "numerai-autopilot.service").read_text(encoding="utf-8"))
    assert svc["Service"]["Type"] == "oneshot"
    assert svc["Service"]["SuccessExitStatus"] == "3 4"
    assert svc["Service"]["ExecStart"].endswith("numerai-autopilot run")
    assert svc["Service"]["TimeoutStartSec"] == "45min"
    # A stop reaches the run itself, which stops its workers and records them as interrupted.
    assert svc["Service"]["KillMode"] == "mixed" and svc["Service"]["TimeoutStopSec"] == "30"
    assert "NUMERAI_SECRET_KEY=" not in svc["Service"].get("Environment", "")


def test_timer_uses_the_recommended_slots_in_utc_and_catches_up() -> None:
    timer = _ini((DEPLOY / "systemd" / "numerai-autopilot.timer").read_text(encoding="utf-8"))
    assert timer["Timer"]["OnCalendar"] == RECOMMENDED.on_calendar()
    assert timer["Timer"]["OnCalendar"].endswith(" UTC")
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
