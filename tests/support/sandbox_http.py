"""Talking to the sandbox without our client: raw GraphQL, upload URLs, valid predictions;
and one submission through our client (the client and sandbox tests share them)."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pandas as pd

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament


def model_id(sb: Sandbox, name: str) -> str:
    return next(str(m["id"]) for m in sb.models if m["name"] == name)


def gql(
    client: httpx.Client,
    sb: Sandbox,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    auth: bool = True,
) -> httpx.Response:
    headers = {"Authorization": f"Token {sb.public_id}${sb.secret_key}"} if auth else {}
    return client.post("/", json={"query": query, "variables": variables}, headers=headers)


def predictions(ids: list[str], id_col: str, pred_col: str) -> pd.DataFrame:
    """A valid submission frame: every id once, distinct values inside (0, 1)."""
    n = len(ids)
    return pd.DataFrame({id_col: ids, pred_col: [(i + 0.5) / n for i in range(n)]})


ROUND_QUERY = (
    "query($t: Int!) { rounds(tournament: $t, number: 0) { number openTime closeStakingTime } }"
)
AUTH_QUERY = """query($filename: String!, $tournament: Int!, $modelId: String) {
  submissionUploadAuth(filename: $filename, tournament: $tournament, modelId: $modelId) {
    filename url } }"""
CREATE_MUTATION = """mutation($filename: String!, $tournament: Int!, $modelId: String) {
  createSubmission(filename: $filename, tournament: $tournament, modelId: $modelId) { id } }"""


def upload_auth(client: httpx.Client, sb: Sandbox, model: str) -> dict[str, str]:
    """Ask for a Classic upload URL for ``model`` (a name); returns {filename, url}."""
    variables = {"filename": "p.csv", "tournament": 8, "modelId": model_id(sb, model)}
    auth: dict[str, str] = gql(client, sb, AUTH_QUERY, variables).json()["data"][
        "submissionUploadAuth"
    ]
    return auth


def create(client: httpx.Client, sb: Sandbox, model: str, filename: str) -> httpx.Response:
    variables = {"filename": filename, "tournament": 8, "modelId": model_id(sb, model)}
    return gql(client, sb, CREATE_MUTATION, variables)


def classic_csv(sb: Sandbox) -> bytes:
    return predictions(sb.live_ids(8), "id", "prediction").to_csv(index=False).encode()


def model_of(sb: Sandbox, tournament: Tournament) -> str:
    """The id of the demo account's first model in ``tournament``."""
    return next(str(m["id"]) for m in sb.models if m["tournament"] == int(tournament))


def predictions_csv(sb: Sandbox, tournament: Tournament) -> bytes:
    """A valid submission of the tournament's current live ids, as CSV bytes."""
    ids = sb.live_ids(int(tournament))
    rules = tournament.rules
    frame = pd.DataFrame(
        {rules.id_column: ids, rules.prediction_column: np.linspace(0.01, 0.99, len(ids))}
    )
    return frame.to_csv(index=False).encode()


def submit(
    api: NumeraiClient, sb: Sandbox, tournament: Tournament, *, trigger_id: str | None = None
) -> str:
    """Submit :func:`predictions_csv` for the first model of ``tournament``; its id."""
    rnd = api.current_round(tournament)
    assert rnd is not None
    return api.upload_submission(
        model_id=model_of(sb, tournament),
        tournament=tournament,
        round_number=rnd.number,
        data=predictions_csv(sb, tournament),
        filename="predictions.csv",
        trigger_id=trigger_id,
    )
