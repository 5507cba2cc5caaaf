"""The admin API under ``/_sandbox/``: JSON in, JSON out; documented in docs/sandbox.md."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import AutopilotError

if TYPE_CHECKING:
    from .server import Handler


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def handle_admin(
    handler: Handler, method: str, path: str, query: dict[str, str], body: bytes
) -> None:
    """Route one admin request; answers 400 with a message for a bad request."""
    app = handler.app
    try:
        payload: dict[str, Any] = json.loads(body) if body else {}
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object")
        route = (method, path.rstrip("/"))
        result: Any
        if route == ("GET", "/_sandbox/state"):
            result = {
                "url": app.url,
                "public_id": app.public_id,
                "models": app.models,
                "rounds": {t: app.current_round(t) for t in (8, 11, 12)},
                "between_rounds": app.rounds.between,
                "late_submissions": app.state.late_accepted,
                "bandwidth": app.bandwidth,
                "faults": app.faults.armed(),
            }
        elif route == ("GET", "/_sandbox/rounds"):
            result = {t: app.current_round(t) for t in (8, 11, 12)}
        elif route == ("POST", "/_sandbox/rounds/open"):
            app.open_round(
                _int_or_none(payload.get("tournament")),
                duration=float(payload.get("duration", 3600)),
                open_in=float(payload.get("open_in", 0)),
            )
            result = {t: app.current_round(t) for t in (8, 11, 12)}
        elif route == ("POST", "/_sandbox/rounds/close"):
            app.close_round(_int_or_none(payload.get("tournament")))
            result = {t: app.current_round(t) for t in (8, 11, 12)}
        elif route == ("POST", "/_sandbox/rounds/between"):
            app.set_between_rounds(payload["mode"])
            result = {"between_rounds": app.rounds.between}
        elif route == ("POST", "/_sandbox/late"):
            app.set_late_submissions(bool(payload["accepted"]))
            result = {"late_submissions": app.state.late_accepted}
        elif route == ("GET", "/_sandbox/faults"):
            result = app.faults.armed()
        elif route == ("POST", "/_sandbox/faults"):
            params = dict(payload)
            kind = params.pop("kind")
            count = int(params.pop("count", 1))
            match = params.pop("match", None)
            app.inject(kind, count=count, match=match, **params)
            result = app.faults.armed()
        elif route == ("DELETE", "/_sandbox/faults"):
            app.clear_faults()
            result = []
        elif route == ("POST", "/_sandbox/bandwidth"):
            app.bandwidth = _int_or_none(payload.get("bytes_per_second"))
            result = {"bandwidth": app.bandwidth}
        elif route == ("GET", "/_sandbox/counters"):
            result = app.counters()
        elif route == ("DELETE", "/_sandbox/counters"):
            app.reset_counters()
            result = app.counters()
        elif route == ("GET", "/_sandbox/submissions"):
            result = app.submissions(query.get("model"))
        elif route == ("POST", "/_sandbox/models"):
            result = {"id": app.add_model(payload["name"], int(payload["tournament"]))}
        elif route == ("POST", "/_sandbox/keys"):
            public_id, secret = app.add_key(list(payload["scopes"]))
            result = {"public_id": public_id, "secret_key": secret}
        elif route == ("POST", "/_sandbox/accounts"):
            public_id, secret, models = app.add_account(payload["name"])
            result = {"public_id": public_id, "secret_key": secret, "models": models}
        else:
            handler.send_json(404, {"error": f"no admin route {method} {path}"})
            return
    except (KeyError, ValueError, TypeError, AutopilotError) as exc:
        handler.send_json(400, {"error": f"{type(exc).__name__}: {exc}"})
        return
    handler.send_json(200, result)
