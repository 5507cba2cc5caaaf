"""Submission upload: auth -> PUT -> create, without ever creating twice.

Every create makes a new submission and Numerai has no idempotency key (numerai-facts.md), so a
create whose answer was lost (timeout, reset, 5xx after commit) is never simply re-sent: the
model's submissions are read first, and if one carries our server filename, that is the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..errors import InvalidSubmissionError, TransientError
from ..tournaments import Tournament
from . import _queries as q
from ._classify import retry_after_seconds, storage_error, transport_error
from ._graphql import GraphQL, require, shape_error
from ._parse import parse_url
from ._retry import RetryPolicy

log = logging.getLogger(__name__)
FindSubmission = Callable[[str, str], "str | None"]


class Uploader:
    """The three steps of a submission, sharing the client's pool, GraphQL and retry bounds."""

    def __init__(self, http: httpx.Client, gql: GraphQL, retry: RetryPolicy) -> None:
        self._http = http
        self._gql = gql
        self.retry = retry

    def upload(
        self,
        *,
        model_id: str,
        tournament: Tournament,
        round_number: int,
        data: bytes,
        filename: str,
        trigger_id: str | None,
        find: FindSubmission,
    ) -> str:
        """Auth, PUT and create; the submission id."""
        signals = tournament is Tournament.SIGNALS
        server_filename, url = self._auth(model_id, tournament, filename, signals=signals)
        self.retry.call("upload PUT", lambda: self._put(url, data, server_filename))
        sub_id = self._create(
            model_id, tournament, server_filename, trigger_id, signals=signals, find=find
        )
        log.info(
            "submitted %s for model %s, %s round %d: submission %s",
            server_filename,
            model_id,
            tournament.label,
            round_number,
            sub_id,
        )
        return sub_id

    def _auth(
        self, model_id: str, tournament: Tournament, filename: str, *, signals: bool
    ) -> tuple[str, str]:
        op = "submissionUploadSignalsAuth" if signals else "submission_upload_auth"
        query = q.UPLOAD_AUTH_SIGNALS if signals else q.UPLOAD_AUTH
        variables = {"filename": filename, "tournament": int(tournament), "modelId": model_id}
        # A read with no side effect: safe to retry.
        data = self.retry.call(
            op, lambda: self._gql.execute(op, query, variables, auth=True, creating=True)
        )
        entry = require(op, data, op)
        if not isinstance(entry, dict):
            raise TransientError(f"{op}: answer has no upload URL")
        name, url = entry.get("filename"), entry.get("url")
        if not isinstance(name, str) or not isinstance(url, str) or not name or not url:
            raise shape_error(op, "filename and url expected")
        return name, parse_url(op, "upload", url)

    def _put(self, url: str, data: bytes, server_filename: str) -> None:
        host = urlsplit(url).netloc
        # The URL is pre-signed; no Authorization header goes to it (the client sets none by
        # default) and it is never logged whole.
        try:
            resp = self._http.put(url, content=data)
        except httpx.HTTPError as exc:
            raise transport_error(f"upload of {server_filename}", host, exc) from exc
        if resp.status_code == 429 or resp.status_code >= 500:
            raise TransientError(
                f"upload of {server_filename} to {host}: HTTP {resp.status_code}",
                retry_after=retry_after_seconds(resp.headers.get("retry-after")),
            )
        if not resp.is_success:
            raise InvalidSubmissionError(
                f"upload of {server_filename} to {host} refused: "
                f"{storage_error(resp.status_code, resp.text)}"
            )

    def _create(
        self,
        model_id: str,
        tournament: Tournament,
        server_filename: str,
        trigger_id: str | None,
        *,
        signals: bool,
        find: FindSubmission,
    ) -> str:
        op = "createSignalsSubmission" if signals else "create_submission"
        variables: dict[str, Any] = {
            "filename": server_filename,
            "modelId": model_id,
            "triggerId": trigger_id,
        }
        if not signals:
            variables["tournament"] = int(tournament)
        query = q.CREATE_SIGNALS_SUBMISSION if signals else q.CREATE_SUBMISSION
        sent = False

        def attempt() -> str:
            nonlocal sent
            if sent:
                # The previous create failed in a way that may hide a commit: look first.
                # A TransientError here fails this attempt before anything is re-sent.
                found = find(model_id, server_filename)
                if found is not None:
                    log.warning("%s had gone through despite the error: %s", op, found)
                    return found
            sent = True
            data = self._gql.execute(op, query, variables, auth=True, creating=True)
            entry = require(op, data, op)
            if not isinstance(entry, dict) or not entry.get("id"):
                raise shape_error(op, "no submission id")
            return str(entry["id"])

        try:
            return self.retry.call(op, attempt)
        except TransientError as exc:
            if not sent:
                raise
            # Out of attempts after a create that may have committed: one last look.
            try:
                found = find(model_id, server_filename)
            except TransientError:
                found = None
            if found is not None:
                return found
            raise TransientError(
                f"{exc}; the submission {server_filename} may not exist: the next run checks "
                "before uploading again",
                retry_after=exc.retry_after,
            ) from exc
