"""deploy azure --estimate from a ledger, and the deploy commands end to end (no az is run)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from numerai_autopilot.cli.app import run_cli
from numerai_autopilot.deploy.azure import AzureParams
from numerai_autopilot.deploy.estimate import (
    FREE_VCPU_SECONDS,
    REGISTRY_BASIC_PER_DAY,
    VCPU_SECOND,
    estimate,
    run_times,
)
from numerai_autopilot.deploy.files import bicep_text, packaged_bicep
from numerai_autopilot.run.ledger import Ledger


def _ledger(state: Path, working: list[float], idle: list[float]) -> Ledger:
    ledger = Ledger(state)
    for total, submitted in [(t, 3) for t in working] + [(t, 0) for t in idle]:
        run_id = ledger.start_run("run")
        summary = {"submitted": submitted, "already": 0, "failed": 0, "skipped": 3 - submitted}
        ledger.finish_run(run_id, 0 if submitted else 3, summary, {"total": total})
    return ledger


def test_run_times_are_medians_of_working_and_idle_runs(tmp_path: Path) -> None:
    with _ledger(tmp_path, working=[80.0, 95.0, 400.0], idle=[0.4, 0.5, 0.6, 9.0]) as ledger:
        assert run_times(ledger.runs(100)) == (95.0, 0.55)


def test_runs_stopped_by_an_error_count_as_neither_working_nor_idle(tmp_path: Path) -> None:
    with _ledger(tmp_path, working=[95.0], idle=[0.5]) as ledger:
        for code, error in ((2, "the API key is wrong"), (1, "the API is unreachable")):
            run_id = ledger.start_run("run")
            ledger.finish_run(run_id, code, {}, {"total": 30.0}, error=error)
        assert run_times(ledger.runs(100)) == (95.0, 0.5)


def test_estimate_from_a_sample_ledger_is_inside_the_free_grant_plus_the_registry(
    tmp_path: Path,
) -> None:
    with _ledger(tmp_path, working=[95.0] * 5, idle=[0.5] * 20) as ledger:
        est = estimate(AzureParams(), ledger.runs(100), models_gib=0.2, data_gib=0.1)
    job, registry, files, logs, vault = est.lines
    assert job.monthly_usd == 0.0  # ~5,600 vCPU-s a month, far under the 180,000 free
    assert registry.monthly_usd == pytest.approx(REGISTRY_BASIC_PER_DAY * 30.44)
    assert files.monthly_usd == pytest.approx(0.3 * 0.06)
    assert logs.monthly_usd == 0.0 and vault.monthly_usd < 0.01
    assert 5.0 < est.total_usd < 5.2
    assert any("measured median" in n for n in est.notes)


def test_estimate_charges_compute_beyond_the_free_grant(tmp_path: Path) -> None:
    # 4 vCPU and one-hour runs: 22 rounds * 3,610 s * 4 = ~314,000 vCPU-s, beyond the grant.
    with _ledger(tmp_path, working=[3600.0], idle=[1.0]) as ledger:
        est = estimate(AzureParams(cpu=4.0, image="ghcr.io/me/x:1"), ledger.runs(10))
    job = est.lines[0]
    assert job.monthly_usd > (300_000 - FREE_VCPU_SECONDS) * VCPU_SECOND
    assert not any("Registry" in line.item for line in est.lines)  # own image: no registry


def test_cli_estimate_reads_the_ledger_in_the_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _ledger(tmp_path / "data", working=[95.0], idle=[0.5]).close()
    code = run_cli(
        [
            "deploy",
            "azure",
            "--estimate",
            "--data-dir",
            str(tmp_path / "data"),
            "--models-dir",
            str(tmp_path / "models"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "2 runs in the ledger" in out and "total" in out and "$    5." in out


def test_cli_prints_the_setup_and_writes_the_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "azure"
    out_file = out_dir / "main.parameters.json"
    code = run_cli(["deploy", "azure", "--out", str(out_dir), "--cpu", "2", "--location", "eastus"])
    script = capsys.readouterr().out
    assert code == 0
    # --out DIR keeps both files, the packaged Bicep as shipped, and the script uses them.
    assert (out_dir / "main.bicep").read_text(encoding="utf-8") == bicep_text()
    assert f"--template-file {out_dir / 'main.bicep'}" in script
    params = json.loads(out_file.read_text(encoding="utf-8"))["parameters"]
    assert params["cpu"]["value"] == "2.0" and params["memory"]["value"] == "4Gi"
    assert "--location eastus" in script and f"@{out_file}" in script
    assert '"$NUMERAI_PUBLIC_ID_FILE"' in script and "export NUMERAI_PUBLIC_ID_FILE" in script


def test_cli_print_mode_writes_no_file_and_uses_the_packaged_bicep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # where the old print mode left main.parameters.local.json
    assert run_cli(["deploy", "azure", "--cpu", "2"]) == 0
    script = capsys.readouterr().out
    assert sorted(tmp_path.rglob("*")) == []
    assert f"--template-file {packaged_bicep()}" in script
    assert packaged_bicep().read_text(encoding="utf-8") == bicep_text()
    # The script carries the parameters itself, into a temporary file it removes.
    body = script.split("<<'JSON'\n", 1)[1].split("\nJSON\n", 1)[0]
    assert json.loads(body)["parameters"]["cpu"]["value"] == "2.0"
    assert '--parameters "@$PARAMS"' in script and "trap 'rm -rf \"$PARAMS_DIR\"' EXIT" in script
    path = tmp_path.parent / f"{tmp_path.name}-setup.sh"
    path.write_text(script, encoding="utf-8")
    subprocess.run(["bash", "-n", str(path)], check=True, timeout=30)


def test_cli_apply_without_az_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no az here: nothing can be run
    code = run_cli(["deploy", "azure", "--apply", "--out", str(tmp_path / "azure")])
    assert code == 2
    assert "Azure CLI" in capsys.readouterr().err


def test_cli_bad_cpu_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["deploy", "azure", "--cpu", "0.3", "--out", str(tmp_path / "azure")]) == 2
    assert "--cpu 0.3" in capsys.readouterr().err


def test_cli_installs_systemd_units_where_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["deploy", "systemd", "--install", "--unit-dir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "numerai-autopilot.service",
        "numerai-autopilot.timer",
    ]
    assert "systemctl --user enable --now numerai-autopilot.timer" in capsys.readouterr().out


def test_cli_prints_the_cron_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["deploy", "cron"]) == 0
    assert "flock -n -E 4" in capsys.readouterr().out
