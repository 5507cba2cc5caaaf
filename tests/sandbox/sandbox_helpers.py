"""The old home of these helpers (now in support.sandbox_http):
tests elsewhere may still import them from ``sandbox_helpers``."""

from __future__ import annotations

from support.sandbox_http import (
    AUTH_QUERY,
    CREATE_MUTATION,
    ROUND_QUERY,
    classic_csv,
    create,
    gql,
    model_id,
    predictions,
    upload_auth,
)

__all__ = [
    "AUTH_QUERY",
    "CREATE_MUTATION",
    "ROUND_QUERY",
    "classic_csv",
    "create",
    "gql",
    "model_id",
    "predictions",
    "upload_auth",
]
