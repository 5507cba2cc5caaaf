"""A model Numerai runs as a Model Upload (a pickle) cannot submit through the API: ``plan``
says so before the round (exit 1), ``run`` fails it by name and submits the others (issue 9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from numerai_autopilot.cli.app import run_cli
from numerai_autopilot.sandbox.state import PendingUpload
from support.invariants import check_invariants, iter_lines
from support.receiver import Result
from support.rig import Rig


def _give_a_model_upload(rig: Rig, name: str) -> str:
    """As Numerai's createComputePickleUpload leaves the model (the sandbox's own record)."""
    model = rig.sb.state.find_model_by_name(name)
    assert model is not None
    upload_id = rig.sb.state.new_uuid()
    pickle = rig.base / "model.pkl"
    pickle.write_bytes(b"\x80\x05N.")
    rig.sb.state.pickles[upload_id] = PendingUpload(
        "model.pkl", model.id, 8, "pickle", Path(pickle), arrived=True
    )
    model.pickle_upload_id = upload_id
    return upload_id


def test_plan_names_a_model_that_runs_a_model_upload_and_run_fails_only_it(
    rig: Rig, capfd: Any, monkeypatch: Any
) -> None:
    upload_id = _give_a_model_upload(rig, "netta_rufina")
    for name, value in rig.env().items():
        monkeypatch.setenv(name, value)
    capfd.readouterr()
    assert run_cli(["plan"]) == 1
    [doc] = [d for d in iter_lines(capfd.readouterr().out) if d.get("event") == "plan"]
    problems = {m["model"]: m.get("problem") for m in doc["models"]}
    assert "Model Upload" in str(problems["netta_rufina"]) and upload_id in problems["netta_rufina"]
    assert problems["anas_platyrhynchos"] is None
    res: Result = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=1, failed={"netta_rufina": "runs a Numerai Model Upload"})
    assert rig.sb.submissions("netta_rufina") == []
