"""``numerai-autopilot submit FILE --model NAME`` against the sandbox: the run's checks, its
look before uploading, a ledger row (command ``submit``) and its exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from numerai_autopilot.run.ledger import Ledger
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament
from support.rig import cli_process, env_for


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return cli_process(env, *args, timeout=180)


def summary(out: str) -> dict[str, Any]:
    (doc,) = [
        d
        for d in (json.loads(x) for x in out.splitlines() if x.startswith("{"))
        if d["event"] == "submit.summary"
    ]
    assert isinstance(doc, dict)
    return doc


def live_file(sb: Sandbox, path: Path, tournament: Tournament = Tournament.CLASSIC) -> Path:
    ids = sb.live_ids(int(tournament))
    values = np.linspace(0.01, 0.99, len(ids))
    frame = pd.DataFrame({tournament.rules.id_column: ids, "prediction": values})
    frame.to_csv(path, index=False)
    return path


def test_submit_uploads_once_records_a_submit_row_and_a_rerun_is_already(
    sb: Sandbox, tmp_path: Path
) -> None:
    env = env_for(sb, tmp_path)
    preds = live_file(sb, tmp_path / "preds.csv")
    first = cli(env, "submit", str(preds), "--model", "netta_rufina")
    assert first.returncode == 0, first.stderr
    doc = summary(first.stdout)
    assert doc["summary"]["submitted"] == 1
    (sub,) = sb.submissions("netta_rufina")
    assert sub["id"] == doc["outcomes"][0]["submission_id"]
    # What Numerai stored is the file's values, in the live ids' order.
    stored = sb.submission_frame(str(sub["id"]))
    sent = pd.read_csv(preds)
    assert list(stored["id"]) == list(sent["id"])
    assert np.allclose(stored["prediction"], sent["prediction"])
    again = cli(env, "submit", str(preds), "-m", "netta_rufina")
    assert again.returncode == 0, again.stderr
    assert summary(again.stdout)["summary"]["already"] == 1
    assert len(sb.submissions("netta_rufina")) == 1  # never twice
    with Ledger(tmp_path / "data") as ledger:
        runs = ledger.runs(5)
        assert [(r.command, r.exit_code) for r in runs] == [("submit", 0), ("submit", 0)]
        (outcome,) = ledger.outcomes(run_id=runs[1].id)
        assert (outcome.model, outcome.status) == ("netta_rufina", "submitted")


def test_submit_refuses_invalid_predictions_and_uploads_nothing(
    sb: Sandbox, tmp_path: Path
) -> None:
    env = env_for(sb, tmp_path)
    preds = live_file(sb, tmp_path / "flat.csv")
    frame = pd.read_csv(preds)
    frame["prediction"] = 0.5  # zero spread: Numerai refuses it
    frame.to_csv(preds, index=False)
    r = cli(env, "submit", str(preds), "--model", "anas_platyrhynchos")
    assert r.returncode == 1
    (outcome,) = summary(r.stdout)["outcomes"]
    assert outcome["stage"] == "validate" and "zero spread" in outcome["error"]
    old = live_file(sb, tmp_path / "old.csv")
    pd.read_csv(old).assign(id=lambda f: "x" + f["id"]).to_csv(old, index=False)
    r = cli(env, "submit", str(old), "--model", "anas_platyrhynchos")
    assert r.returncode == 1
    assert "is it from an earlier round?" in summary(r.stdout)["outcomes"][0]["error"]
    assert sb.submissions("anas_platyrhynchos") == []


def test_submit_mistakes_exit_2_with_one_line_naming_them(sb: Sandbox, tmp_path: Path) -> None:
    env = env_for(sb, tmp_path)
    preds = live_file(sb, tmp_path / "preds.csv")
    r = cli(env, "submit", str(preds), "--model", "anas_platyrhyncos")
    assert r.returncode == 2
    assert "no model named 'anas_platyrhyncos' in this account" in r.stderr
    assert "anas_platyrhynchos" in r.stderr and "Traceback" not in r.stderr
    r = cli(env, "submit", str(tmp_path / "nope.csv"), "--model", "anas_platyrhynchos")
    assert r.returncode == 2 and "nope.csv: no such file" in r.stderr
    r = cli(env, "submit", str(preds), "-m", "anas_platyrhynchos", "--tournament", "signal")
    assert r.returncode == 2 and "--tournament: unknown tournament 'signal'" in r.stderr
    # The model is classic: a signals submission for it is refused before any upload.
    r = cli(env, "submit", str(preds), "-m", "anas_platyrhynchos", "--tournament", "signals")
    assert r.returncode != 0
    assert sb.submissions() == []
    with Ledger(tmp_path / "data") as ledger:
        assert {r.command for r in ledger.runs(10)} == {"submit"}
