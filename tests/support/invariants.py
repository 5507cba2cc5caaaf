"""What every fault scenario asserts after a run (:func:`check_invariants`): each configured
model submitted exactly once for the round or reported failed with its reason and notified; no
partial file used; the exit code; no secret in any captured output, alert, ledger or cache file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from numerai_autopilot.data import load_frame
from numerai_autopilot.sandbox import Sandbox

from .receiver import Result
from .rig import Rig


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
    check_run_row(rig, res.code)
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


def check_one_submission_per_model(sb: Sandbox) -> None:
    """No model of the account, in any tournament, has two submissions in its tournament's
    current round: asked of the sandbox's state by model id, not through the API (whose answer
    a fault may bend) nor by the names a models file uses."""
    current = {int(str(m["tournament"])) for m in sb.models}
    rounds = {t: int(str(sb.current_round(t)["number"])) for t in current}
    seen: dict[str, list[object]] = {}
    for m in sb.models:
        subs = sb.submissions(str(m["id"]))
        mine = [s["id"] for s in subs if s["round"] == rounds[int(str(m["tournament"]))]]
        if len(mine) > 1:
            seen[f"{m['name']} ({m['id']})"] = mine
    assert not seen, f"models with two submissions in the round: {seen}"


def check_run_row(rig: Rig, code: int) -> None:
    """The ledger's newest run row carries the exit code the run really ended with (a killed
    run has none; a run refused by the lock writes none; a configuration error before the
    ledger's place is known writes none)."""
    path = rig.data_dir / "ledger.sqlite"
    if code < 0 or code == 4 or not path.exists():
        return
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT id, exit_code, finished_at, error FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    if row is None:
        return
    assert row[2] is not None, f"run {row[0]} never finished in the ledger"
    assert row[1] == code, f"run {row[0]}: ledger says exit {row[1]}, the run exited {code}"


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
