"""Reading API answers into records; a missing field is transient (a partial answer), a wrong
one is a shape change (permanent)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..clock import parse_time
from ..errors import TransientError
from ..tournaments import Tournament
from ._graphql import shape_error
from ._types import RoundInfo, SubmissionInfo


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
