"""Model Uploads: the pickles Numerai runs itself. Choices (data versions, images), the upload
(auth -> PUT -> create), and the account's uploads.

The create is not retried blindly: a create whose answer was lost may have gone through, so
the model's uploads are looked at first (as for submissions, see _upload.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from ..errors import ApiError, TransientError
from ..tournaments import Tournament
from . import _queries as q
from ._graphql import GraphQL, require, shape_error
from ._parse import parse_url
from ._retry import RetryPolicy
from ._upload import Uploader

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PickleUpload:
    """One Model Upload as Numerai lists it."""

    id: str
    filename: str | None
    data_version: str | None
    image: str | None
    validation_status: str | None


class PickleUploads:
    """The Model Upload calls, sharing the client's pool, GraphQL and retry bounds."""

    def __init__(self, http: httpx.Client, gql: GraphQL, retry: RetryPolicy) -> None:
        self._gql = gql
        self._retry = retry
        self._uploader = Uploader(http, gql, retry)  # its PUT: checked, classified

    def _read(self, op: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        return self._retry.call(
            op, lambda: require(op, self._gql.execute(op, query, variables, auth=True), op)
        )

    def choices(self, what: str) -> dict[str, str]:
        """name -> id of ``data_versions`` or ``images`` Numerai offers for Model Uploads."""
        op, query = (
            ("computePickleDataVersions", q.PICKLE_DATA_VERSIONS)
            if what == "data_versions"
            else ("computePickleDockerImages", q.PICKLE_DOCKER_IMAGES)
        )
        rows = self._read(op, query)
        if not isinstance(rows, list):
            raise shape_error(op, "a list expected")
        return {
            str(r["name"]): str(r["id"])
            for r in rows
            if isinstance(r, dict) and r.get("name") and r.get("id")
        }

    def list(self, model_id: str | None = None) -> list[PickleUpload]:
        """The account's uploads (one model's with ``model_id``), as Numerai lists them."""
        op = "computePickles"
        rows = self._read(op, q.PICKLES, {"modelId": model_id})
        if not isinstance(rows, list):
            raise shape_error(op, "a list expected")
        return [
            PickleUpload(
                id=str(r["id"]),
                filename=r.get("filename"),
                data_version=r.get("dataVersion"),
                image=r.get("dockerImageName"),
                validation_status=r.get("validationStatus"),
            )
            for r in rows
            if isinstance(r, dict) and r.get("id")
        ]

    def upload(
        self,
        *,
        model_id: str,
        data: bytes,
        filename: str,
        data_version_id: str,
        image_id: str,
        tournament: Tournament = Tournament.CLASSIC,
    ) -> str:
        """Auth, PUT and create one Model Upload; its id."""
        op = "computePickleUploadAuth"
        auth = self._read(op, q.PICKLE_UPLOAD_AUTH, {"filename": filename, "modelId": model_id})
        if not isinstance(auth, dict) or not auth.get("filename") or not auth.get("url"):
            raise shape_error(op, "filename and url expected")
        server_name, url = str(auth["filename"]), parse_url(op, "upload", str(auth["url"]))
        self._retry.call("upload PUT", lambda: self._uploader._put(url, data, server_name))
        variables = {
            "filename": server_name,
            "tournament": int(tournament),
            "modelId": model_id,
            "dataVersionId": data_version_id,
            "dockerImageId": image_id,
        }
        op = "createComputePickleUpload"
        try:
            entry = require(
                op,
                self._gql.execute(op, q.CREATE_PICKLE_UPLOAD, variables, auth=True, creating=True),
                op,
            )
        except TransientError:
            # The answer was lost, not necessarily the create: look before anything else.
            for p in self.list(model_id):
                if p.filename == server_name:
                    log.warning("%s had gone through despite the error: %s", op, p.id)
                    return p.id
            raise
        if not isinstance(entry, dict) or not entry.get("id"):
            raise ApiError(f"{op}: unexpected answer shape: no upload id")
        return str(entry["id"])
