"""Everything an idle run needs in ONE request: each tournament's current round and every
model's latest submissions (aliased ``rounds`` fields beside ``account``).

A repeated trigger in a round where all is submitted thus costs one API request. When one
tournament is between rounds, Numerai may answer that field with an error, which fails the
whole document: then each part is asked on its own. When the server does not know
``latestSubmissions``, each model's submissions are asked on their own (the slow fallback).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ApiError, RoundClosedError
from ..tournaments import Tournament
from ._graphql import require, shape_error
from ._parse import account_models_of, parse_latest, parse_models, parse_round
from ._second_look import settle
from ._types import AccountModel, RoundInfo, SubmissionInfo

if TYPE_CHECKING:
    from ._client import NumeraiClient

log = logging.getLogger(__name__)

_ROUND_FIELDS = "number openTime closeTime closeStakingTime"
_SUB_FIELDS = "id roundNumber roundOpen roundCloseStaking status filename timestamp"


@dataclass(frozen=True)
class Snapshot:
    rounds: dict[Tournament, RoundInfo | None]
    models: list[AccountModel]
    latest: dict[str, list[SubmissionInfo]]
    requests: int
    """How many API requests it took (1 in the common case)."""


def snapshot_query(tournaments: Sequence[Tournament]) -> str:
    rounds = " ".join(
        f"r{int(t)}: rounds(tournament: {int(t)}, number: 0) {{ {_ROUND_FIELDS} }}"
        for t in tournaments
    )
    return (
        f"query {{ {rounds} account {{ models {{ id name tournament "
        f"latestSubmissions(latestNRounds: 1) {{ {_SUB_FIELDS} }} }} }} }}"
    )


def take_snapshot(client: NumeraiClient, tournaments: Sequence[Tournament]) -> Snapshot:
    """Rounds of ``tournaments``, the account's models and their latest submissions."""
    op = "snapshot"
    try:
        snap = client._call(
            op,
            snapshot_query(tournaments),
            None,
            lambda data: _read_snapshot(op, tournaments, data),
            auth=True,
        )
    except RoundClosedError as exc:
        log.info("a tournament is between rounds (%s): asking each part on its own", exc)
        snap = _piecewise(client, tournaments)
    except ApiError as exc:
        if "latestSubmissions" not in str(exc):
            raise
        log.warning("the API does not answer latestSubmissions: asking each model on its own")
        snap = _piecewise(client, tournaments, per_model=True)
    # A doubtful entry (a null, an unknown status) is settled by a look at that model alone.
    latest, more = settle(client, snap.latest, snap.models)
    return Snapshot(snap.rounds, snap.models, latest, requests=snap.requests + more)


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
    client: NumeraiClient, tournaments: Sequence[Tournament], *, per_model: bool = False
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
        latest = client.latest_submissions()
        requests += 1
    return Snapshot(rounds, models, latest, requests=requests)
