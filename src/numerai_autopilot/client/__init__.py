"""The Numerai API client: GraphQL, uploads, error mapping and retries, on httpx.

Our own rather than numerapi, whose GraphQL POST has no timeout, swallows transport errors,
retries mutations into duplicates and never checks the upload PUT (numerai-facts.md).

- :class:`NumeraiClient` -- the calls a submission tool needs
- :func:`client_from_settings` -- the client for the configured key, timeout and clock
- :class:`RoundInfo`, :class:`AccountModel`, :class:`SubmissionInfo` -- what they return
- :class:`PickleUpload` -- a Model Upload as ``NumeraiClient.pickles.list`` returns it
- :class:`RetryPolicy` -- the bounds (attempts, deadline, backoff) every call retries within
- :func:`take_snapshot`, :class:`Snapshot` -- rounds and models of several tournaments in one query
- :func:`transport_error` -- an httpx transport failure as our error, for other httpx callers
- :func:`verifying_context` -- the TLS context of our client (httpx's verification, its CA
  bundle read at the first handshake); :func:`ca_locations` -- where that bundle is

Errors are those of :mod:`numerai_autopilot.errors` (``NumeraiError`` and its branches).
"""

from ._classify import transport_error
from ._client import NumeraiClient
from ._factory import client_from_settings
from ._pickles import PickleUpload
from ._retry import RetryPolicy
from ._snapshot import Snapshot, take_snapshot
from ._tls import ca_locations, verifying_context
from ._types import AccountModel, RoundInfo, SubmissionInfo

__all__ = [
    "AccountModel",
    "NumeraiClient",
    "PickleUpload",
    "RetryPolicy",
    "RoundInfo",
    "Snapshot",
    "SubmissionInfo",
    "ca_locations",
    "client_from_settings",
    "take_snapshot",
    "transport_error",
    "verifying_context",
]
