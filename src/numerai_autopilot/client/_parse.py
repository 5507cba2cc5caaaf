"""Reading API answers into records; a missing field is transient (a partial answer), a wrong
one is a shape change (permanent)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..clock import parse_time
from ..errors import ApiError, NumeraiError, TransientError
from ..tournaments import Tournament
from ._graphql import shape_error
from ._types import KNOWN_STATUSES, AccountModel, RoundInfo, SubmissionInfo

log = logging.getLogger(__name__)
# GraphQL's Int is 32-bit signed: a round number outside 1..2**31-1 is no real round (and a
# bigger one would overflow the ledger's SQLite integers further down).
MAX_INT = 2**31 - 1


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


def parse_int(op: str, key: str, value: Any) -> int:
    """``value`` as a round number in 1..MAX_INT (an int or a string of digits); an ApiError
    naming ``key`` for a bool, a float, a negative or a huge number."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise shape_error(op, f"{key} is not an integer")
    try:
        num = int(value)
    except ValueError as exc:
        raise shape_error(op, f"{key} is not an integer") from exc
    if not 1 <= num <= MAX_INT:
        raise shape_error(op, f"{key} {str(num)[:24]} is out of range (1..{MAX_INT})")
    return num


def parse_round(op: str, tournament: Tournament, raw: Any) -> RoundInfo:
    """A ``rounds`` entry as RoundInfo; ``number`` and ``openTime`` are required."""
    if not isinstance(raw, dict):
        raise shape_error(op, "round is not an object")
    number = raw.get("number")
    if number is None:
        raise TransientError(f"{op}: answer lacks the round number")
    num = parse_int(op, "round number", number)
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
    op: str,
    model_id: str,
    raw: dict[str, Any],
    *,
    round_key: str,
    time_key: str,
    with_status: bool = True,
) -> SubmissionInfo:
    """A submission entry as SubmissionInfo; absent fields are None. What makes the entry
    unfit to say whether the model submitted is kept in ``doubt``, never guessed: a null
    round number or status, a null id beside a real status, an unknown status, a round
    number out of range. ``with_status``: the query asked for the status."""
    status = None if raw.get("status") is None else str(raw["status"])
    doubts: list[str] = []
    round_number = None
    if raw.get(round_key) is None:
        doubts.append(f"{round_key} is null")
    else:
        try:
            round_number = parse_int(op, round_key, raw[round_key])
        except NumeraiError as exc:
            doubts.append(str(exc))
    if with_status and status is None:
        doubts.append("status is null")
    elif status is not None and status not in KNOWN_STATUSES:
        doubts.append(f"status {status[:40]!r} is not one this tool knows")
    if raw.get("id") is None and status != "none":
        doubts.append("id is null")
    return SubmissionInfo(
        id=None if raw.get("id") is None else str(raw["id"]),
        model_id=model_id,
        round_number=round_number,
        filename=None if raw.get("filename") is None else str(raw["filename"]),
        status=status,
        timestamp=parse_time_field(op, raw, time_key),
        doubt="; ".join(doubts) or None,
    )


def parse_ident(op: str, what: str, value: Any) -> str:
    """A model id or name: a non-empty string (or an integer id); ApiError otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise shape_error(op, f"a model's {what} is not a string")
    return str(value)


def parse_url(op: str, what: str, value: Any) -> str:
    """A URL the API handed out (download, upload): http(s) with a host, or ApiError. The
    value is never echoed: a presigned URL carries a signature."""
    if not isinstance(value, str):
        raise shape_error(op, f"the {what} URL is not a string")
    try:
        url = httpx.URL(value)
        host = urlsplit(value).hostname
    except (httpx.InvalidURL, ValueError) as exc:
        raise ApiError(f"{op}: the API answered a malformed {what} URL ({exc})") from None
    if url.scheme not in ("http", "https") or not host:
        raise ApiError(f"{op}: the API answered a malformed {what} URL (not http(s) with a host)")
    return value


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
        upload = m.get("computePickleUpload")
        out.append(
            AccountModel(
                id=parse_ident(op, "id", m["id"]),
                name=parse_ident(op, "name", m["name"]),
                tournament=t,
                model_upload=(
                    str(upload["id"]) if isinstance(upload, dict) and upload.get("id") else None
                ),
            )
        )
    return out


def parse_latest(op: str, raw_models: list[Any]) -> dict[str, list[SubmissionInfo]]:
    """model id -> ``latestSubmissions`` entries. A missing list, status or round number key is
    a partial answer (TransientError): read as "nothing submitted" it would cause a duplicate.
    A null or unknown value is kept as the entry's ``doubt`` (see :func:`parse_submission`),
    for a second look at that model alone."""
    out: dict[str, list[SubmissionInfo]] = {}
    for m in raw_models:
        if not isinstance(m, dict) or m.get("id") is None or "latestSubmissions" not in m:
            raise TransientError(f"{op}: answer lacks a model's id or latestSubmissions")
        model_id = parse_ident(op, "id", m["id"])
        subs = m["latestSubmissions"]
        if subs is None:
            # Not "no submissions" (that is a list of status "none" entries): unknown.
            doubt = "latestSubmissions is null"
            out[model_id] = [SubmissionInfo(None, model_id, None, None, None, None, doubt=doubt)]
            continue
        if not isinstance(subs, list):
            raise shape_error(op, "latestSubmissions is not a list")
        infos = []
        for s in subs:
            if not isinstance(s, dict) or "status" not in s or "roundNumber" not in s:
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
