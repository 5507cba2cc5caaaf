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


def test_deploy_systemd_renders_the_configured_folders_absolute_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from numerai_autopilot.cli.app import run_cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NUMERAI_MODELS_DIR", "my models/100%")  # relative, a space and a %
    monkeypatch.delenv("NUMERAI_STATE_DIR", raising=False)
    units = tmp_path / "units"
    assert run_cli(["deploy", "systemd", "--install", "--unit-dir", str(units)]) == 0
    assert run_cli(["deploy", "systemd", "--data-dir", "d", "--state-dir", "/srv/st"]) == 0
    printed = capsys.readouterr().out
    svc = _ini((units / "numerai-autopilot.service").read_text(encoding="utf-8"))
    env = svc["Service"]["Environment"]  # configparser keeps the last of repeated keys
    text = (units / "numerai-autopilot.service").read_text(encoding="utf-8")
    models = tmp_path / "my models" / "100%"
    assert f'Environment="NUMERAI_MODELS_DIR={str(models).replace("%", "%%")}"' in text
    assert f'Environment="NUMERAI_DATA_DIR={tmp_path / "data"}"' in text
    assert "%h/numerai" not in text and "Your configured folders when rendered" in text
    assert env == "NUMERAI_LOG_FORMAT=json"
    # The printed form takes the same options: --data-dir made absolute, a state dir if set.
    assert f'Environment="NUMERAI_DATA_DIR={tmp_path / "d"}"' in printed
    assert 'Environment="NUMERAI_STATE_DIR=/srv/st"' in printed
    exe = shutil.which("systemd-analyze")
    if exe is None:
        return
    (units / "numerai-autopilot.service").write_text(
        text.replace(text.split("ExecStart=")[1].split()[0], str(VENV_BIN / "numerai-autopilot")),
        encoding="utf-8",
    )
    res = subprocess.run(
        [exe, "verify", "--man=no", *(str(p) for p in sorted(units.iterdir()))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if res.returncode != 0 and "bus" in res.stderr.lower():
        return  # no systemd bus here: the text checks above stand
    assert res.returncode == 0 and "Invalid" not in res.stderr, res.stderr


def test_deploy_cron_renders_the_configured_folders_as_crontab_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from numerai_autopilot.cli.app import run_cli

    monkeypatch.chdir(tmp_path)
    for name in ("NUMERAI_MODELS_DIR", "NUMERAI_DATA_DIR", "NUMERAI_STATE_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert run_cli(["deploy", "cron", "--models-dir", "m"]) == 0
    lines = capsys.readouterr().out.splitlines()
    tz = lines.index("CRON_TZ=UTC")
    assert lines[tz + 1].startswith("# Your configured folders when rendered")
    assert lines[tz + 2 : tz + 4] == [
        f"NUMERAI_MODELS_DIR={tmp_path / 'm'}",
        f"NUMERAI_DATA_DIR={tmp_path / 'data'}",
    ]
    assert "flock -n -E 4" in lines[tz + 4]
