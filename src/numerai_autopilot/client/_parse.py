"""Reading API answers into records; a missing field is transient (a partial answer), a wrong
one is a shape change (permanent)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ..clock import parse_time
from ..errors import TransientError
from ..tournaments import Tournament
from ._graphql import shape_error
from ._types import AccountModel, RoundInfo, SubmissionInfo

log = logging.getLogger(__name__)


def parse_tournament(value: Any) -> Tournament | None:
    """The Tournament for an API ``tournament`` value, None when unknown."""
    try:
        return Tournament(int(value))
    except (TypeError, ValueError):
        return None


def parse_time_field(op: str, obj: dict[str, Any], key: str) -> datetime | None:
    """``obj[key]`` as an aware UTC datetime (naive times are taken as UTC); None if absent."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise shape_error(op, f"{key} is not a time string")
    try:
        return parse_time(value)
    except ValueError as exc:
        raise shape_error(op, f"{key} is not an ISO-8601 time: {value[:40]!r}") from exc


def parse_round(op: str, tournament: Tournament, raw: Any) -> RoundInfo:
    """A ``rounds`` entry as RoundInfo; ``number`` and ``openTime`` are required."""
    if not isinstance(raw, dict):
        raise shape_error(op, "round is not an object")
    number = raw.get("number")
    if number is None:
        raise TransientError(f"{op}: answer lacks the round number")
    if isinstance(number, bool) or not isinstance(number, int | str):
        raise shape_error(op, "round number is not an integer")
    try:
        num = int(number)
    except ValueError as exc:
        raise shape_error(op, "round number is not an integer") from exc
    open_time = parse_time_field(op, raw, "openTime")
    if open_time is None:
        raise TransientError(f"{op}: answer lacks the open time of round {num}")
    return RoundInfo(
        tournament=tournament,
        number=num,
        open_time=open_time,
        close_time=parse_time_field(op, raw, "closeTime"),
        close_staking_time=parse_time_field(op, raw, "closeStakingTime"),
    )


def parse_submission(
    op: str, model_id: str, raw: dict[str, Any], *, round_key: str, time_key: str
) -> SubmissionInfo:
    """A submission entry as SubmissionInfo; absent fields are None."""
    number = raw.get(round_key)
    try:
        round_number = None if number is None else int(number)
    except (TypeError, ValueError) as exc:
        raise shape_error(op, f"{round_key} is not an integer") from exc
    return SubmissionInfo(
        id=None if raw.get("id") is None else str(raw["id"]),
        model_id=model_id,
        round_number=round_number,
        filename=None if raw.get("filename") is None else str(raw["filename"]),
        status=None if raw.get("status") is None else str(raw["status"]),
        timestamp=parse_time_field(op, raw, time_key),
    )


def parse_models(op: str, raw_models: list[Any]) -> list[AccountModel]:
    """``account.models`` as AccountModels. Models of unknown tournaments are skipped (logged);
    a model lacking its id, name or tournament is a partial answer: TransientError, never a
    shorter list (that would hide models from the run)."""
    out: list[AccountModel] = []
    for m in raw_models:
        if not isinstance(m, dict):
            raise shape_error(op, "a model is not an object")
        for key in ("id", "name", "tournament"):
            if m.get(key) is None:
                raise TransientError(f"{op}: answer lacks the {key} of a model")
        t = parse_tournament(m["tournament"])
        if t is None:
            log.info("skipping model %r of tournament %r", m["name"], m["tournament"])
            continue
        out.append(AccountModel(id=str(m["id"]), name=str(m["name"]), tournament=t))
    return out


def parse_latest(op: str, raw_models: list[Any]) -> dict[str, list[SubmissionInfo]]:
    """model id -> ``latestSubmissions`` entries. A missing list, status or round number is a
    partial answer (TransientError): read as "nothing submitted" it would cause a duplicate."""
    out: dict[str, list[SubmissionInfo]] = {}
    for m in raw_models:
        if not isinstance(m, dict) or m.get("id") is None or "latestSubmissions" not in m:
            raise TransientError(f"{op}: answer lacks a model's id or latestSubmissions")
        model_id = str(m["id"])
        subs = m["latestSubmissions"] or []
        if not isinstance(subs, list):
            raise shape_error(op, "latestSubmissions is not a list")
        infos = []
        for s in subs:
            if not isinstance(s, dict) or s.get("status") is None or "roundNumber" not in s:
                raise TransientError(f"{op}: answer lacks a submission's status or round")
            infos.append(
                parse_submission(op, model_id, s, round_key="roundNumber", time_key="timestamp")
            )
        out[model_id] = infos
    return out


def account_models_of(op: str, data: dict[str, Any]) -> list[Any]:
    """``data.account.models``; a missing account or list is a partial answer."""
    account = data.get("account")
    if not isinstance(account, dict) or "models" not in account:
        raise TransientError(f"{op}: answer has no account models")
    models = account["models"]
    if not isinstance(models, list):
        raise shape_error(op, "account.models is not a list")
    return models
