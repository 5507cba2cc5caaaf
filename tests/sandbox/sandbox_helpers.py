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
