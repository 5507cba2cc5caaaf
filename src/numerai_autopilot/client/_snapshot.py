"""Everything an idle run needs in ONE request: each tournament's current round and every
model's latest submissions (aliased ``rounds`` fields beside ``account``).

A repeated trigger in a round where all is submitted thus costs one API request. When one
tournament is between rounds, Numerai may answer that field with an error, which fails the
whole document: then each part is asked on its own. When the server rejects the document itself
(a GraphQL validation error: Numerai's schema dropped or renamed a field or an argument we ask
for), each part is asked on its own too, and when the rejected part is ``latestSubmissions``,
each model's submissions are asked on their own (the slow fallback).

The document asks only for what ``_parse`` reads into the records: no field it could lose
without us noticing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import AuthError, NumeraiError, RoundClosedError
from ..tournaments import Tournament
from ._graphql import require, shape_error
from ._parse import account_models_of, parse_latest, parse_models, parse_round
from ._second_look import settle
from ._types import AccountModel, RoundInfo, SubmissionInfo

if TYPE_CHECKING:
    from ._client import NumeraiClient

log = logging.getLogger(__name__)

_ROUND_FIELDS = "number openTime closeTime closeStakingTime"
_SUB_FIELDS = "id roundNumber status filename timestamp"
# How GraphQL servers word a document they reject before running it: Absinthe (Numerai) with
# double quotes, graphql-js/graphql-core with single ones. Only the wording names the cause.
_Q = "[\"']"
_VALIDATION = re.compile(
    rf"Cannot query field {_Q}(?P<field>\w+){_Q} on type {_Q}(?P<type>\w+){_Q}"
    rf"|Unknown argument {_Q}(?P<arg>\w+){_Q} on field {_Q}(?:\w+\.)?(?P<on>\w+){_Q}"
    rf"|Field {_Q}(?P<sel>\w+){_Q} (?:of type .*? )?must (?:not )?have a (?:sub)?selection"
    rf"|Argument {_Q}(?P<bad>\w+){_Q} has invalid value"
    rf"|In argument {_Q}(?P<inarg>\w+){_Q}"
    rf"|Unknown (?:type|directive|fragment) {_Q}(?P<unknown>\w+){_Q}"
    rf"|Variable {_Q}\$(?P<var>\w+){_Q}",
)
_LATEST_PARTS = {"LatestSubmission", "latestSubmissions", "latestNRounds"}


@dataclass(frozen=True)
class Snapshot:
    rounds: dict[Tournament, RoundInfo | None]
    models: list[AccountModel]
    latest: dict[str, list[SubmissionInfo]]
    requests: int
    """How many API requests it took (1 in the common case)."""


def snapshot_query(tournaments: Sequence[Tournament], latest_rounds: int = 1) -> str:
    rounds = " ".join(
        f"r{int(t)}: rounds(tournament: {int(t)}, number: 0) {{ {_ROUND_FIELDS} }}"
        for t in tournaments
    )
    return (
        f"query {{ {rounds} account {{ models {{ id name tournament computePickleUpload {{ id }} "
        f"latestSubmissions(latestNRounds: {int(latest_rounds)}) {{ {_SUB_FIELDS} }} }} }} }}"
    )


def take_snapshot(
    client: NumeraiClient, tournaments: Sequence[Tournament], latest_rounds: int = 1
) -> Snapshot:
    """Rounds of ``tournaments``, the account's models and their submissions of the latest
    ``latest_rounds`` rounds (``status`` asks for more than the run's one)."""
    op = "snapshot"
    try:
        snap = client._call(
            op,
            snapshot_query(tournaments, latest_rounds),
            None,
            lambda data: _read_snapshot(op, tournaments, data),
            auth=True,
        )
    except RoundClosedError as exc:
        log.info("a tournament is between rounds (%s): asking each part on its own", exc)
        snap = _piecewise(client, tournaments, latest_rounds)
    except NumeraiError as exc:
        # Whatever class the message's other words gave it (a field named "timeout" reads as
        # transient), a rejected document is a validation error.
        field = None if isinstance(exc, AuthError) else rejected_field(str(exc))
        if field is None:
            raise
        per_model = any(part in field for part in _LATEST_PARTS)
        log.warning(
            "the API rejects the snapshot's %s (%s): asking %s on its own",
            field,
            exc,
            "each model" if per_model else "each part",
        )
        snap = _piecewise(client, tournaments, latest_rounds, per_model=per_model)
    # A doubtful entry (a null, an unknown status) is settled by a look at that model alone.
    latest, more = settle(client, snap.latest, snap.models)
    return Snapshot(snap.rounds, snap.models, latest, requests=snap.requests + more)


def rejected_field(message: str) -> str | None:
    """The field (``Type.field``) or argument (``field(arg:)``) a GraphQL validation error
    names; None when ``message`` is not a validation error."""
    m = _VALIDATION.search(message)
    if m is None:
        return None
    if m["field"]:
        return f"{m['type']}.{m['field']}"
    if m["arg"]:
        return f"{m['on']}({m['arg']}:)"
    return next(v for v in m.groupdict().values() if v)


def _read_snapshot(op: str, tournaments: Sequence[Tournament], data: dict[str, Any]) -> Snapshot:
    # Inside the retried attempt: a partial answer (TransientError) is asked again.
    rounds: dict[Tournament, RoundInfo | None] = {}
    for t in tournaments:
        raw = require(op, data, f"r{int(t)}")
        if raw is None or raw == [] or (isinstance(raw, list) and raw[0] is None):
            rounds[t] = None
        elif isinstance(raw, list):
            rounds[t] = parse_round(op, t, raw[0])
        else:
            raise shape_error(op, "rounds is not a list")
    raw_models = account_models_of(op, data)
    return Snapshot(rounds, parse_models(op, raw_models), parse_latest(op, raw_models), requests=1)


def _piecewise(
    client: NumeraiClient,
    tournaments: Sequence[Tournament],
    latest_rounds: int = 1,
    *,
    per_model: bool = False,
) -> Snapshot:
    rounds = {t: client.current_round(t) for t in tournaments}
    requests = len(tournaments)
    models = client.account_models()
    requests += 1
    if per_model:
        latest = {}
        for m in models:
            if m.tournament in rounds:
                latest[m.id] = client.model_submissions(m.id, m.tournament)
                requests += 1
    else:
        latest = client.latest_submissions(latest_rounds)
        requests += 1
    return Snapshot(rounds, models, latest, requests=requests)
