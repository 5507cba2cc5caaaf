"""``watch``: every model of the account in one request; one alert per missing model per round,
naming what is known of it; nothing for a submitted model or while there is time left."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from numerai_autopilot.cli.app import run_cli
from numerai_autopilot.client import AccountModel, RoundInfo, SubmissionInfo
from numerai_autopilot.config import parse_models
from numerai_autopilot.run.ledger import Ledger
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.sandbox.state import PendingUpload
from numerai_autopilot.tournaments import Tournament
from numerai_autopilot.watch import Kind, Watch, look
from support.receiver import Receiver, Result
from support.rig import Rig


@pytest.fixture
def rig(sb: Sandbox, tmp_path: Path) -> Iterator[Rig]:
    receiver = Receiver()
    r = Rig(sb, tmp_path, receiver, models=["anas_platyrhynchos"])
    r.write_models()
    yield r
    receiver.close()
    root = logging.getLogger()  # the in-process CLI configured logging: undo it
    for h in list(root.handlers):
        if h.get_name() == "numerai-autopilot":
            root.removeHandler(h)
    sys.excepthook = sys.__excepthook__


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


def _watch(rig: Rig, capfd: pytest.CaptureFixture[str], *args: str) -> Result:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(rig.env())
    try:
        capfd.readouterr()
        mark = len(rig.receiver.requests)
        code = run_cli(["watch", *args])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    out = capfd.readouterr().out
    docs = [json.loads(x) for x in out.splitlines() if x.startswith('{"event": "watch"')]
    return Result(code, out, docs[-1] if docs else None, rig.receiver.requests[mark:])


def _states(res: Result) -> dict[str, tuple[str, str, bool]]:
    assert res.report is not None, res.out
    return {m["model"]: (m["state"], m["kind"], m["alerted"]) for m in res.report["models"]}


def test_a_model_upload_without_a_submission_near_the_close_raises_one_alert(
    rig: Rig, capfd: pytest.CaptureFixture[str]
) -> None:
    rig.sb.open_round(8, duration=600)  # closes in 10 minutes: inside the 15-minute margin
    upload_id = _give_a_model_upload(rig, "netta_rufina")
    assert rig.cli(capfd=capfd).code == 0  # anas (configured here) is submitted
    rig.sb.reset_counters()

    first = _watch(rig, capfd)
    assert first.code == 1, first.out
    assert rig.sb.counters()["requests"] == 1  # every model of the account, one request
    states = _states(first)
    assert states["anas_platyrhynchos"] == ("submitted", "configured", False)
    assert states["netta_rufina"] == ("missing", "model-upload", True)
    assert states["corvus_corone"] == ("missing", "unknown", True)
    # Signals and Crypto models: their rounds have most of an hour left.
    assert states["pica_pica"] == ("pending", "unknown", False)
    (note,) = first.notifications()
    text = note["title"] + "\n" + note["message"]
    assert f"netta_rufina (classic, a Numerai Model Upload ({upload_id}))" in text
    assert "corvus_corone (classic, not configured here" in text
    assert "anas_platyrhynchos" not in text and "pica_pica" not in text
    assert first.pings() == ["fail"]

    second = _watch(rig, capfd)  # the same round: nothing new to say
    assert second.code == 1 and second.notifications() == []
    assert second.pings() == ["fail"]  # the dead-man's switch still hears it is failing
    assert {m for m, s in _states(second).items() if s[2]} == set()
    with Ledger(rig.data_dir) as ledger:
        netta = rig.sb.state.find_model_by_name("netta_rufina")
        assert netta is not None
        assert ledger.watch_alerted(netta.id, 8, rig.round_number())
        assert not ledger.watch_alerted(netta.id, 8, rig.round_number() + 1)


def test_no_alert_while_there_is_time_or_once_submitted(
    rig: Rig, capfd: pytest.CaptureFixture[str]
) -> None:
    _give_a_model_upload(rig, "netta_rufina")
    res = _watch(rig, capfd)  # the sandbox's round has an hour left
    assert res.code == 0, res.out
    assert set(s[0] for s in _states(res).values()) == {"pending"}
    assert res.notifications() == [] and res.pings() == ["success"]
    # A margin wider than the time left: now they are missing.
    wide = _watch(rig, capfd, "--watch-margin", "7200")
    assert wide.code == 1 and len(wide.notifications()) == 1
    assert _states(wide)["netta_rufina"] == ("missing", "model-upload", True)


def test_run_with_watch_alerts_about_the_models_it_does_not_run(
    rig: Rig, capfd: pytest.CaptureFixture[str]
) -> None:
    rig.sb.open_round(8, duration=600)
    _give_a_model_upload(rig, "netta_rufina")
    res = rig.cli("--watch", capfd=capfd)
    assert res.code == 0, res.out  # the run's own exit code: its model was submitted
    notes = res.notifications()
    assert len(notes) == 1 and "netta_rufina" in notes[0]["message"]
    assert "anas_platyrhynchos" not in notes[0]["message"]


def test_a_bad_margin_names_the_setting(
    rig: Rig, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    res = _watch(rig, capfd, "--watch-margin", "-5")
    assert res.code == 2 and res.report is None and res.requests == []
    said = capfd.readouterr().err + res.out + caplog.text
    assert "watch_margin (NUMERAI_WATCH_MARGIN / --watch-margin)" in said


# -- the look itself (pure) --------------------------------------------------------------------

NOW = datetime(2026, 7, 21, 12, 50, tzinfo=UTC)


def _round(close_in: float) -> RoundInfo:
    close = NOW + timedelta(seconds=close_in)
    return RoundInfo(Tournament.CLASSIC, 1000, NOW - timedelta(hours=1), close, None)


def _sub(model_id: str, number: int, status: str = "on-time") -> SubmissionInfo:
    return SubmissionInfo("s", model_id, number, "p.csv", status, NOW)


def test_look_names_each_kind_and_counts_the_margin_to_the_deadline() -> None:
    models = [
        AccountModel("1", "Hosted", Tournament.CLASSIC, model_upload="up-1"),
        AccountModel("2", "here", Tournament.CLASSIC),
        AccountModel("3", "elsewhere", Tournament.CLASSIC),
        AccountModel("4", "done", Tournament.CLASSIC),
        AccountModel("5", "queued_old", Tournament.CLASSIC),
        AccountModel("6", "sig", Tournament.SIGNALS),
    ]
    configured = parse_models(
        {"model": [{"name": "HERE", "entrypoint": "m:f"}]}, Path("/m/models.toml")
    ).models
    latest: dict[str, Any] = {
        "4": [_sub("4", 1000)],
        "5": [_sub("5", 999), SubmissionInfo(None, "5", 1000, None, "none", None)],
    }
    rounds = {Tournament.CLASSIC: _round(close_in=600), Tournament.SIGNALS: None}
    seen = {m.name: m for m in look(models, rounds, latest, configured, now=NOW, margin=900)}
    assert {n: (m.state, m.kind) for n, m in seen.items()} == {
        "Hosted": (Watch.MISSING, Kind.MODEL_UPLOAD),
        "here": (Watch.MISSING, Kind.CONFIGURED),
        "elsewhere": (Watch.MISSING, Kind.UNKNOWN),
        "done": (Watch.SUBMITTED, Kind.UNKNOWN),
        "queued_old": (Watch.MISSING, Kind.UNKNOWN),  # "none" for this round is no submission
        "sig": (Watch.NO_ROUND, Kind.UNKNOWN),
    }
    assert seen["done"].submission == "on-time"
    # 601 s before a 600 s margin: still pending; at exactly the margin: missing.
    later = look(models, rounds, latest, configured, now=NOW, margin=599)
    assert {m.state for m in later if m.name != "sig"} == {Watch.PENDING, Watch.SUBMITTED}
    at = look(models, {Tournament.CLASSIC: _round(600)}, latest, [], now=NOW, margin=600)
    assert next(m for m in at if m.name == "elsewhere").state is Watch.MISSING
    # A tournament not looked at is left out.
    assert [m.name for m in look(models, {}, latest, [], now=NOW, margin=900)] == []


def test_schedule_with_the_watch_setting_watches_after_its_run(rig: Rig) -> None:
    rig.sb.open_round(8, duration=600)
    _give_a_model_upload(rig, "netta_rufina")
    proc = subprocess.run(
        [sys.executable, "-m", "numerai_autopilot", "schedule", "--max-runs", "1", "--poll", "1"],
        # A loaded machine's requests may take longer than the rig's 2 s: no retry storms.
        env=rig.env(NUMERAI_WATCH="true", NUMERAI_HTTP_TIMEOUT="15"),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [
        str(s["model_name"]) for s in rig.sb.submissions() if s["round"] == rig.round_number()
    ] == ["anas_platyrhynchos"]
    notes = [json.loads(b) for _m, p, b in rig.receiver.requests if p.startswith("/notify/")]
    assert len(notes) == 1 and "netta_rufina" in notes[0]["message"], notes
