"""Runs the CLI like ``python -m numerai_autopilot``, but kills its whole process group (the run,
its fork server and workers) with SIGKILL at a chosen point: the test-only seam that makes
crash points exact instead of timed.

FAULTS_KILL_AT: ``download`` (some bytes of a data file written), ``after-put`` (the upload PUT
succeeded, no create yet), ``after-create`` (the submission exists, the ledger does not know),
``mid-ledger`` (inside the ledger transaction recording a submission, before COMMIT),
``after-submit`` (one model fully recorded, the others not). FAULTS_KILL_NTH: on the Nth
occurrence (default 1).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

KILL_AT = os.environ.get("FAULTS_KILL_AT", "")
NTH = int(os.environ.get("FAULTS_KILL_NTH", "1"))
_seen = {"n": 0}


def _die() -> None:
    os.killpg(os.getpgid(0), signal.SIGKILL)


def _hit() -> bool:
    _seen["n"] += 1
    return _seen["n"] >= NTH


def _install() -> None:
    from numerai_autopilot.client import _upload
    from numerai_autopilot.data import _cache
    from numerai_autopilot.run import ledger
    from numerai_autopilot.run.runner import Runner

    if KILL_AT == "download":
        original = _cache.download_once

        def download_once(http: Any, url: str, part: Any, on_bytes: Any) -> None:
            got = {"n": 0}

            def counting(n: int) -> None:
                on_bytes(n)
                got["n"] += 1
                if got["n"] >= 2 and _hit():
                    _die()

            original(http, url, part, counting)

        _cache.download_once = download_once  # type: ignore[assignment]
    elif KILL_AT in ("after-put", "after-create"):
        name = "_put" if KILL_AT == "after-put" else "_create"
        step = getattr(_upload.Uploader, name)

        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            out = step(self, *args, **kwargs)
            if _hit():
                _die()
            return out

        setattr(_upload.Uploader, name, wrapped)
    elif KILL_AT == "mid-ledger":
        record = ledger.Ledger.record

        def record_then_die(self: Any, run_id: str, model: str, **kw: Any) -> None:
            if kw.get("status") == "submitted" and _hit():
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(
                    "UPDATE outcomes SET status = 'submitted', stage = 'done', submission_id = ?"
                    " WHERE run_id = ? AND model = ?",
                    (kw.get("submission_id"), run_id, model),
                )
                _die()
            record(self, run_id, model, **kw)

        ledger.Ledger.record = record_then_die  # type: ignore[method-assign]
    elif KILL_AT == "after-submit":
        # Through the public checkpoint seam: the 'done' event of a submitted model comes
        # after its ledger row is committed.
        run = Runner.run

        def run_then_die(self: Runner, **kw: Any) -> Any:
            hook = kw.get("on_event")

            def on_event(event: str, outcome: Any) -> None:
                if hook is not None:
                    hook(event, outcome)
                if event == "done" and outcome.status == "submitted" and _hit():
                    _die()

            return run(self, **{**kw, "on_event": on_event})

        Runner.run = run_then_die  # type: ignore[method-assign]
    elif KILL_AT:
        raise SystemExit(f"unknown FAULTS_KILL_AT {KILL_AT!r}")


if __name__ == "__main__":
    from numerai_autopilot.cli.app import run_cli

    _install()
    sys.exit(run_cli(sys.argv[1:]))
