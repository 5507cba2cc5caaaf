"""One GraphQL POST, with every failure translated into the error tree.

numerapi's counter-example (numerai-facts.md): no timeout, 4xx/connection errors/non-JSON logged
and swallowed. Here every call has a connect/read/write/pool timeout plus a total time bound on
the (small) GraphQL body, every status is checked, and secrets are scrubbed from any text that
reaches an error message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..clock import parse_http_date
from ..errors import ApiError, AuthError, NumeraiError, TransientError
from ..redact import redact
from ._classify import classify_graphql, retry_after_seconds, short, transport_error

log = logging.getLogger(__name__)
_MAX_BODY = 64 * 1024 * 1024  # a GraphQL answer this big is not Numerai's


class GraphQL:
    """Posts queries to one endpoint over a shared :class:`httpx.Client`."""

    requests = 0
    """GraphQL requests posted so far (tries included): the run reports it."""

    def __init__(
        self,
        http: httpx.Client,
        url: str,
        token: str | None,
        secrets: list[str],
        timeout: float,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._http = http
        self._now = now or (lambda: datetime.now(UTC))
        self.server_offset: float | None = None
        """Seconds the server's clock (its ``Date`` header) is ahead of ours, last seen."""
        self._url = url
        self._token = token
        self._secrets = [s for s in secrets if s]
        self._timeout = timeout
        self._host = urlsplit(url).netloc or url

    def scrub(self, text: str) -> str:
        """``text`` with every secret masked (:func:`numerai_autopilot.redact.redact`)."""
        return redact(text, self._secrets)

    def execute(
        self,
        op: str,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        auth: bool = False,
        creating: bool = False,
    ) -> dict[str, Any]:
        """POST one operation; the ``data`` object, or a classified NumeraiError (one try)."""
        headers = {"Accept": "application/json"}
        if auth:
            if self._token is None:
                raise AuthError(
                    f"{op} needs an API key: set NUMERAI_PUBLIC_ID and NUMERAI_SECRET_KEY"
                )
            headers["Authorization"] = self._token
        try:
            status, resp_headers, body = self._post(
                {"query": query, "variables": variables}, headers
            )
        except httpx.HTTPError as exc:
            err = transport_error(op, self._host, exc)
            raise type(err)(self.scrub(str(err))) from exc
        self._note_date(resp_headers.get("date"))
        return self._interpret(op, status, resp_headers, body, creating=creating)

    def _note_date(self, value: str | None) -> None:
        # The server's clock decides whether a round is open; ours may be skewed (a VM resumed
        # from sleep, no NTP in a container). Date has a one-second resolution: good enough.
        server = parse_http_date(value)
        if server is None:
            return
        self.server_offset = (server - self._now()).total_seconds()

    def _post(
        self, payload: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, httpx.Headers, bytes]:
        self.requests += 1
        # Read timeouts bound each read; the total bound stops a server that trickles bytes.
        limit = time.monotonic() + 2 * self._timeout
        # No redirects: a POST turned into a GET (or the key sent elsewhere) is never right;
        # a 3xx surfaces as "check NUMERAI_API_URL".
        with self._http.stream(
            "POST", self._url, json=payload, headers=headers, follow_redirects=False
        ) as resp:
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if time.monotonic() > limit:
                    raise httpx.ReadTimeout("answer still incomplete", request=resp.request)
                if size > _MAX_BODY:
                    raise httpx.DecodingError("answer too large", request=resp.request)
            return resp.status_code, resp.headers, b"".join(chunks)

    def _interpret(
        self, op: str, status: int, headers: httpx.Headers, body: bytes, *, creating: bool
    ) -> dict[str, Any]:
        doc: Any = None
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if status == 429 or status >= 500:
            raise TransientError(
                f"{op}: {self._host} answered HTTP {status}",
                retry_after=retry_after_seconds(headers.get("retry-after")),
            )
        errors = doc.get("errors") if isinstance(doc, dict) else None
        if errors:
            err = classify_graphql(
                op, errors if isinstance(errors, list) else [errors], creating=creating
            )
            raise type(err)(self.scrub(str(err)))
        if status in (401, 403):
            raise AuthError(
                f"{op}: {self._host} answered HTTP {status}: check NUMERAI_PUBLIC_ID and "
                "NUMERAI_SECRET_KEY"
            )
        if status != 200:
            raise ApiError(
                self.scrub(
                    f"{op}: {self._host} answered HTTP {status} "
                    f"({short(body.decode('utf-8', 'replace'))}); check NUMERAI_API_URL"
                )
            )
        if not isinstance(doc, dict):
            raise TransientError(
                self.scrub(f"{op}: answer is not JSON: {short(body.decode('utf-8', 'replace'))}")
            )
        data = doc.get("data")
        if not isinstance(data, dict):
            raise TransientError(f"{op}: answer has no data")
        return data


def require(op: str, data: dict[str, Any], key: str) -> Any:
    """``data[key]``, or a TransientError saying the answer is incomplete."""
    if key not in data:
        raise TransientError(f"{op}: answer lacks {key!r}")
    return data[key]


def shape_error(op: str, what: str) -> NumeraiError:
    """An answer we cannot read: Numerai changed its shape (permanent, not retried)."""
    return ApiError(f"{op}: unexpected answer shape: {what}")
