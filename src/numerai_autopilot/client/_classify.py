"""Turn what Numerai answered (HTTP status, GraphQL error objects) into the project's error tree.

Numerai answers GraphQL errors with HTTP 200 and ``{"errors": [{"message": ...}]}``; the message
text is the only signal, so classification matches known texts. Numerai's message is always kept
verbatim inside ours; we only add which call failed and, for key problems, what to fix.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from ..clock import parse_http_date
from ..errors import (
    ApiError,
    AuthError,
    InvalidSubmissionError,
    NotFoundError,
    NumeraiError,
    RoundClosedError,
    TransientError,
)

_SESSION_INVALID = re.compile(r"session is invalid|has expired|invalid (api )?(key|token)", re.I)
_SCOPE = re.compile(r"insufficient permission(?: for)?\s*:?\s*([\w-]+)?", re.I)
_ROUND_CLOSED = re.compile(
    r"not open for submissions|round (is )?not open|round (is |has )?(already )?closed"
    r"|submissions? (are |is )?closed|no (open|current) round",
    re.I,
)
_NOT_FOUND = re.compile(r"not found|does not exist|no such|unknown (model|dataset|round)", re.I)
_TRANSIENT = re.compile(
    r"internal server error|temporarily unavailable|service unavailable|try again later"
    r"|timed? ?out",
    re.I,
)
_INVALID_SUBMISSION = re.compile(
    r"submission|prediction|invalid (file|csv|parquet)|\bids?\b|column|rows?\b|upload",
    re.I,
)
_MAX_ERROR_TEXT = 300


def messages_of(errors: Sequence[Any]) -> list[str]:
    """The ``message`` of each error object; a sensible text for objects without one."""
    out: list[str] = []
    for err in errors:
        if isinstance(err, dict) and isinstance(err.get("message"), str) and err["message"]:
            out.append(err["message"])
        else:
            raw = json.dumps(err, default=str)[:_MAX_ERROR_TEXT]
            out.append(f"an error without a message ({raw})")
    return out or ["an empty error list"]


def classify_graphql(op: str, errors: Sequence[Any], *, creating: bool = False) -> NumeraiError:
    """The error for a GraphQL ``errors`` list returned by operation ``op``.

    ``creating`` marks the submission create mutation, where validation failures are expected
    and map to :class:`InvalidSubmissionError`."""
    text = "; ".join(messages_of(errors))
    where = f"Numerai refused {op}: {text}"
    if _SESSION_INVALID.search(text):
        return AuthError(
            f"{where} -- the API key is wrong or revoked: check NUMERAI_PUBLIC_ID and "
            "NUMERAI_SECRET_KEY (create a key at numer.ai, Account > API keys)"
        )
    scope = _SCOPE.search(text)
    if scope:
        needed = scope.group(1) or "the scope this call needs"
        return AuthError(
            f"{where} -- the API key lacks the {needed} permission: create a key with it at "
            "numer.ai (Account > API keys) and set NUMERAI_PUBLIC_ID / NUMERAI_SECRET_KEY"
        )
    return _by_text(text, creating)(where)


def _by_text(text: str, creating: bool) -> type[NumeraiError]:
    """The class for a message that is not about the API key; order matters."""
    model_missing = bool(_NOT_FOUND.search(text) and re.search(r"\bmodel", text, re.I))
    rules: list[tuple[bool, type[NumeraiError]]] = [
        (bool(_ROUND_CLOSED.search(text)), RoundClosedError),
        (bool(_TRANSIENT.search(text)), TransientError),
        (creating and model_missing, NotFoundError),
        (creating and bool(_INVALID_SUBMISSION.search(text)), InvalidSubmissionError),
        (bool(_NOT_FOUND.search(text)), NotFoundError),
    ]
    return next((cls for hit, cls in rules if hit), ApiError)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse a ``Retry-After`` header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when = parse_http_date(value)
    if when is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_STORAGE_CODE = re.compile(r"<Code>\s*([A-Za-z0-9._-]{1,64})\s*</Code>")


def storage_error(status: int, body: str) -> str:
    """What a storage service's refusal may show: the status and S3's ``<Code>``, nothing
    more (its error bodies echo the signature, the string signed and the access key id)."""
    m = _STORAGE_CODE.search(body[:65536])
    return f"HTTP {status} {m.group(1)}" if m else f"HTTP {status}"


def short(text: str) -> str:
    """A body excerpt fit for an error message."""
    text = " ".join(text.split())
    return text if len(text) <= _MAX_ERROR_TEXT else text[:_MAX_ERROR_TEXT] + "..."


def transport_error(what: str, host: str, exc: Exception) -> NumeraiError:
    """The error for an httpx transport failure: transient, except a TLS certificate that does
    not verify (retrying cannot fix it, and it may be an interception)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(
            cause
        ):
            return ApiError(
                f"{what}: the TLS certificate of {host} does not verify ({cause}); behind a "
                "TLS-inspecting proxy, point SSL_CERT_FILE at its CA bundle"
            )
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.TimeoutException):
        return TransientError(
            f"{what}: {host} did not answer in time ({type(exc).__name__}; the limit is "
            "NUMERAI_HTTP_TIMEOUT or --http-timeout, in seconds)"
        )
    return TransientError(f"{what}: request to {host} failed: {type(exc).__name__}: {exc}")
