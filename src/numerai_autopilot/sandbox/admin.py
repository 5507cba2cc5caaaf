"""The admin API under ``/_sandbox/``: a route table from (method, path) to a function of the
sandbox's controls and the request, answering ``(status, body)``; documented in docs/sandbox.md
(tests/sandbox/test_admin_routes.py holds the two to each other).

It knows nothing of HTTP: the server hands it the method, path, query and body, and sends back
what it answers as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import AutopilotError
from .faults import Faults
from .rounds import BetweenMode, RoundClock
from .state import SandboxState

TOURNAMENTS = (8, 11, 12)


class Controls(Protocol):
    """The sandbox's Python controls the admin API mirrors (``Sandbox`` provides them)."""

    url: str
    public_id: str
    bandwidth: int | None

    @property
    def rounds(self) -> RoundClock: ...
    @property
    def state(self) -> SandboxState: ...
    @property
    def faults(self) -> Faults: ...
    @property
    def models(self) -> list[dict[str, object]]: ...
    def current_round(self, tournament: int) -> dict[str, object]: ...
    def open_round(
        self, tournament: int | None = None, *, duration: float = 3600, open_in: float = 0
    ) -> None: ...
    def close_round(self, tournament: int | None = None) -> None: ...
    def set_between_rounds(self, mode: BetweenMode) -> None: ...
    def set_late_submissions(self, accepted: bool) -> None: ...
    def inject(
        self, kind: str, *, count: int = 1, match: str | None = None, **params: Any
    ) -> None: ...
    def clear_faults(self) -> None: ...
    def counters(self) -> dict[str, Any]: ...
    def reset_counters(self) -> None: ...
    def submissions(self, model: str | None = None) -> list[dict[str, object]]: ...
    def add_model(self, name: str, tournament: int) -> str: ...
    def add_key(self, scopes: list[str]) -> tuple[str, str]: ...
    def add_account(self, name: str) -> tuple[str, str, list[dict[str, object]]]: ...


@dataclass(frozen=True)
class Request:
    """An admin request's JSON object body (``{}`` when empty) and its query parameters."""

    body: dict[str, Any]
    query: Mapping[str, str]


Route = Callable[[Controls, Request], object]


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _rounds(app: Controls, _: Request) -> object:
    return {t: app.current_round(t) for t in TOURNAMENTS}


def _state(app: Controls, req: Request) -> object:
    return {
        "url": app.url,
        "public_id": app.public_id,
        "models": app.models,
        "rounds": _rounds(app, req),
        "between_rounds": app.rounds.between,
        "late_submissions": app.state.late_accepted,
        "bandwidth": app.bandwidth,
        "faults": app.faults.armed(),
    }


def _open(app: Controls, req: Request) -> object:
    app.open_round(
        _int_or_none(req.body.get("tournament")),
        duration=float(req.body.get("duration", 3600)),
        open_in=float(req.body.get("open_in", 0)),
    )
    return _rounds(app, req)


def _close(app: Controls, req: Request) -> object:
    app.close_round(_int_or_none(req.body.get("tournament")))
    return _rounds(app, req)


def _between(app: Controls, req: Request) -> object:
    app.set_between_rounds(req.body["mode"])
    return {"between_rounds": app.rounds.between}


def _late(app: Controls, req: Request) -> object:
    app.set_late_submissions(bool(req.body["accepted"]))
    return {"late_submissions": app.state.late_accepted}


def _faults(app: Controls, _: Request) -> object:
    return app.faults.armed()


def _arm(app: Controls, req: Request) -> object:
    params = dict(req.body)
    kind = params.pop("kind")
    count = int(params.pop("count", 1))
    match = params.pop("match", None)
    app.inject(kind, count=count, match=match, **params)
    return app.faults.armed()


def _clear(app: Controls, _: Request) -> object:
    app.clear_faults()
    return []


def _bandwidth(app: Controls, req: Request) -> object:
    app.bandwidth = _int_or_none(req.body.get("bytes_per_second"))
    return {"bandwidth": app.bandwidth}


def _counters(app: Controls, _: Request) -> object:
    return app.counters()


def _reset_counters(app: Controls, _: Request) -> object:
    app.reset_counters()
    return app.counters()


def _submissions(app: Controls, req: Request) -> object:
    return app.submissions(req.query.get("model"))


def _add_model(app: Controls, req: Request) -> object:
    return {"id": app.add_model(req.body["name"], int(req.body["tournament"]))}


def _add_key(app: Controls, req: Request) -> object:
    public_id, secret = app.add_key(list(req.body["scopes"]))
    return {"public_id": public_id, "secret_key": secret}


def _add_account(app: Controls, req: Request) -> object:
    public_id, secret, models = app.add_account(req.body["name"])
    return {"public_id": public_id, "secret_key": secret, "models": models}


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/_sandbox/state"): _state,
    ("GET", "/_sandbox/rounds"): _rounds,
    ("POST", "/_sandbox/rounds/open"): _open,
    ("POST", "/_sandbox/rounds/close"): _close,
    ("POST", "/_sandbox/rounds/between"): _between,
    ("POST", "/_sandbox/late"): _late,
    ("GET", "/_sandbox/faults"): _faults,
    ("POST", "/_sandbox/faults"): _arm,
    ("DELETE", "/_sandbox/faults"): _clear,
    ("POST", "/_sandbox/bandwidth"): _bandwidth,
    ("GET", "/_sandbox/counters"): _counters,
    ("DELETE", "/_sandbox/counters"): _reset_counters,
    ("GET", "/_sandbox/submissions"): _submissions,
    ("POST", "/_sandbox/models"): _add_model,
    ("POST", "/_sandbox/keys"): _add_key,
    ("POST", "/_sandbox/accounts"): _add_account,
}


def answer(
    app: Controls, method: str, path: str, query: Mapping[str, str], body: bytes
) -> tuple[int, object]:
    """``(status, JSON-able body)`` for one admin request: 404 for an unknown route, 400 with
    a message for a bad body or a refused control."""
    route = ROUTES.get((method, path.rstrip("/")))
    if route is None:
        return 404, {"error": f"no admin route {method} {path}"}
    try:
        payload = json.loads(body) if body else {}
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object")
        return 200, route(app, Request(payload, query))
    except (KeyError, ValueError, TypeError, AutopilotError) as exc:
        return 400, {"error": f"{type(exc).__name__}: {exc}"}
