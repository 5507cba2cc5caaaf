"""Helpers shared by the sandbox tests (imported by module name: tests have no packages)."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd

from numerai_autopilot.sandbox import Sandbox


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
