"""Reading a model's submissions and the webhook answer (the client's per-model fallbacks)."""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, NotFoundError
from ..tournaments import Tournament
from ._graphql import require, shape_error
from ._parse import parse_submission, parse_tournament
from ._types import SubmissionInfo


def submissions_of_model(op: str, model_id: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """``model.submissions`` of the answer; NotFoundError when the account has no such model."""
    model = require(op, data, "model")
    if model is None:
        raise NotFoundError(f"{op}: no model with id {model_id} in this account")
    if not isinstance(model, dict):
        raise shape_error(op, "model is not an object")
    subs = model.get("submissions") or []
    if not isinstance(subs, list):
        raise shape_error(op, "submissions is not a list")
    return [s for s in subs if isinstance(s, dict)]


def selected_in(
    op: str, model_id: str, subs: list[dict[str, Any]], tournament: Tournament
) -> list[SubmissionInfo]:
    """The selected submissions of ``tournament`` (a round without a tournament counts)."""
    out = []
    for s in subs:
        raw_round = s.get("round")
        rnd: dict[str, Any] = raw_round if isinstance(raw_round, dict) else {}
        if s.get("selected") is False:
            continue  # numerapi's rule: only selected submissions count
        if rnd.get("tournament") is not None and parse_tournament(rnd["tournament"]) != tournament:
            continue
        flat = {**s, "roundNumber": rnd.get("number")}
        out.append(
            parse_submission(
                op,
                model_id,
                flat,
                round_key="roundNumber",
                time_key="insertedAt",
                with_status=False,
            )
        )
    return out


def webhook_accepted(op: str, value: Any) -> bool:
    """``setSubmissionWebhook``'s answer as a bool: Numerai answers the string "true"."""
    if value is True or value == "true":
        return True
    if value is False or value == "false" or value is None:
        return False
    raise ApiError(f"{op}: unexpected answer {value!r}")
