"""Runs the CLI like ``python -m numerai_autopilot``, but kills its whole process group (the run,
its fork server and workers) with SIGKILL at a chosen point: the test-only seam that makes
crash points exact instead of timed.

It patches no private name. The CLI's run goes through a :class:`Runner` subclass that only
passes public parameters: ``on_event`` (the run's checkpoints) to ``Runner.run`` and a
``client`` whose httpx ``transport`` sees each request go out and each response come back
(the points between the wire and the run: inside a download, after the PUT, after the create).

FAULTS_KILL_AT: ``download`` (some bytes of a data file written), ``after-put`` (the upload PUT
succeeded, no create yet), ``after-create`` (the submission exists, the ledger does not know),
``mid-ledger`` (a transaction recording the submission open in the ledger, before COMMIT),
``after-submit`` (one model fully recorded, the others not). FAULTS_KILL_NTH: on the Nth
occurrence (default 1). Without FAULTS_KILL_AT it is the plain CLI.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.config import Settings
from numerai_autopilot.run import runner
from numerai_autopilot.run.ledger import Ledger
from numerai_autopilot.run.report import Outcome, RunReport, Status

KILL_AT = os.environ.get("FAULTS_KILL_AT", "")
NTH = int(os.environ.get("FAULTS_KILL_NTH", "1"))
POINTS = ("download", "after-put", "after-create", "mid-ledger", "after-submit")
ARMED = "kill driver armed"  # support.rig.ARMED: the rig checks the run came through here
_seen = {"n": 0}


def _die() -> None:
    os.killpg(os.getpgid(0), signal.SIGKILL)


def _hit() -> bool:
    _seen["n"] += 1
    return _seen["n"] >= NTH


class _Counting(httpx.SyncByteStream):
    """A download's body: dies when asked for more after two chunks reached the caller (who
    writes each chunk to the part file before asking for the next)."""

    def __init__(self, inner: httpx.SyncByteStream) -> None:
        self.inner = inner

    def __iter__(self) -> Iterator[bytes]:
        for given, chunk in enumerate(self.inner, start=1):
            yield chunk  # resumed when the caller has written it and wants the next one
            if given >= 2 and _hit():
                _die()

    def close(self) -> None:
        self.inner.close()


class _Wire(httpx.BaseTransport):
    """The real transport, with the kill points that lie on the wire."""

    def __init__(self, state_dir: Path) -> None:
        self.inner = httpx.HTTPTransport()
        self.ledger = state_dir / Ledger.FILENAME

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.inner.handle_request(request)
        if KILL_AT == "download" and request.method == "GET" and "/files/" in request.url.path:
            assert isinstance(resp.stream, httpx.SyncByteStream)
            return httpx.Response(
                resp.status_code,
                headers=resp.headers,
                stream=_Counting(resp.stream),
                extensions=resp.extensions,
            )
        if KILL_AT == "after-put" and request.method == "PUT" and resp.status_code < 300:
            resp.read()
            if _hit():
                _die()
        if KILL_AT in ("after-create", "mid-ledger") and _created(request, resp) and _hit():
            if KILL_AT == "mid-ledger":
                self._open_transaction()
            _die()
        return resp

    def _open_transaction(self) -> None:
        """Begin what recording the submission begins, write, and never COMMIT."""
        db = sqlite3.connect(self.ledger, timeout=30, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE outcomes SET status = 'submitted', stage = 'done'")

    def close(self) -> None:
        self.inner.close()


# Numerai's own spelling of the mutation, and the camelCase one GraphQL tools show.
_CREATE = ("create_submission", "createSubmission")


def _created(request: httpx.Request, resp: httpx.Response) -> bool:
    """True for a create-submission mutation the server answered with a submission id."""
    if request.method != "POST" or not any(f.encode() in request.content for f in _CREATE):
        return False
    resp.read()
    try:
        data = json.loads(resp.content).get("data") or {}
    except ValueError:
        return False
    created: list[dict[str, Any]] = [d for f in _CREATE if isinstance(d := data.get(f), dict)]
    return resp.status_code == 200 and any(c.get("id") for c in created)


def _on_event(event: str, o: Outcome) -> None:
    if KILL_AT == "after-submit" and event == "done" and o.status is Status.SUBMITTED and _hit():
        _die()


class CheckpointRunner(runner.Runner):
    """The CLI's runner, with the kill points attached through public parameters only."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        if kwargs.get("client") is None:
            public_id, secret = settings.require_credentials()
            kwargs["client"] = NumeraiClient(
                settings.api_url,
                public_id,
                secret,
                timeout=settings.http_timeout,
                clock=kwargs.get("clock"),
                transport=_Wire(settings.state_path),
            )
        self._wire_client: NumeraiClient = kwargs["client"]
        super().__init__(settings, **kwargs)
        print(f"{ARMED} at {KILL_AT}", file=sys.stderr, flush=True)

    def run(self, **kwargs: Any) -> RunReport:
        given = kwargs.pop("on_event", None)  # the run lifecycle passes its own (or None)

        def both(event: str, o: Outcome) -> None:
            if given is not None:
                given(event, o)
            _on_event(event, o)

        return super().run(**kwargs, on_event=both)

    def close(self) -> None:
        super().close()
        self._wire_client.close()


def main(argv: Sequence[str]) -> int:
    if KILL_AT and KILL_AT not in POINTS:
        raise SystemExit(f"unknown FAULTS_KILL_AT {KILL_AT!r}: one of {', '.join(POINTS)}")
    if KILL_AT:
        # Before the CLI is imported, so that it finds this runner however it imports it.
        runner.Runner = CheckpointRunner  # type: ignore[misc]
    from numerai_autopilot.cli.app import run_cli

    return run_cli(list(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
