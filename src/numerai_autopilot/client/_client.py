"""NumeraiClient: the Numerai tournament API, typed, bounded in time, never a duplicate create."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from .. import __version__
from ..clock import Clock, SystemClock
from ..errors import ConfigError, NotFoundError, RoundClosedError
from ..tournaments import Tournament
from . import _queries as q
from ._auth import api_token
from ._graphql import GraphQL, require, shape_error
from ._parse import (
    account_models_of,
    parse_latest,
    parse_models,
    parse_round,
    parse_url,
)
from ._pickles import PickleUploads
from ._retry import RetryPolicy
from ._second_look import settle
from ._submissions import selected_in, submissions_of_model, webhook_accepted
from ._tls import verifying_context
from ._types import AccountModel, RoundInfo, SubmissionInfo
from ._upload import Uploader

log = logging.getLogger(__name__)
T = TypeVar("T")
LatestMap = dict[str, list[SubmissionInfo]]


class NumeraiClient:
    """Numerai's GraphQL API (or the sandbox's) over one pooled :class:`httpx.Client`.

    Every call has a connect/read/write/pool ``timeout``. Queries and idempotent mutations retry
    :class:`TransientError` up to ``retry_attempts`` tries within ``retry_deadline`` seconds;
    the submission create is retried only after checking that it did not already go through.
    TLS is verified unless ``verify=False``. ``clock`` is a seam: a fake clock makes retry
    waits instant in tests.
    """

    def __init__(
        self,
        api_url: str,
        public_id: str | None = None,
        secret_key: str | None = None,
        *,
        timeout: float = 30.0,
        retry_attempts: int = 4,
        retry_deadline: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        verify: bool = True,
        clock: Clock | None = None,
        retry_wait_initial: float = 0.5,
        retry_wait_max: float = 15.0,
    ) -> None:
        token = api_token(public_id, secret_key)
        if timeout <= 0 or retry_attempts < 1 or retry_deadline < 0:
            raise ConfigError("timeout must be > 0, retry_attempts >= 1, retry_deadline >= 0")
        self._url = api_url
        clock = clock or SystemClock()
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            verify=verifying_context() if verify else False,
            transport=transport,
            follow_redirects=True,
            headers={"User-Agent": f"numerai-autopilot/{__version__}"},
        )
        self._gql = GraphQL(
            self._http, api_url, token, [public_id or "", secret_key or ""], timeout, now=clock.now
        )
        self._retry = RetryPolicy(
            attempts=retry_attempts,
            deadline=retry_deadline,
            wait_initial=retry_wait_initial,
            wait_max=retry_wait_max,
            clock=clock,
        )
        self._uploader = Uploader(self._http, self._gql, self._retry)
        self.pickles = PickleUploads(self._http, self._gql, self._retry)
        """Model Uploads: choices, upload, list."""

    def __repr__(self) -> str:
        return f"NumeraiClient({self._url!r})"

    @property
    def requests(self) -> int:
        """GraphQL requests this client has posted (retries included)."""
        return self._gql.requests

    @property
    def http(self) -> httpx.Client:
        """The shared connection pool (timeouts and TLS settings included), for downloads."""
        return self._http

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry bounds every call uses (downloads reuse them)."""
        return self._retry

    @property
    def server_offset(self) -> float | None:
        """Seconds the API server's clock is ahead of ours (from its last ``Date`` header);
        None before the first answer or when the server sends no date."""
        return self._gql.server_offset

    def retry_until(self, stop_at: float | None) -> None:
        """From now on, no retry waits past ``stop_at`` (a ``clock.monotonic()`` instant; None
        lifts the bound). The run sets it to the round's close minus its reporting margin."""
        self._retry = dataclasses.replace(self._retry, stop_at=stop_at)
        self._uploader.retry = self._retry

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> NumeraiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- helpers -------------------------------------------------------------------------------
    def _call(
        self,
        op: str,
        query: str,
        variables: dict[str, Any] | None,
        read: Callable[[dict[str, Any]], T],
        *,
        auth: bool = False,
    ) -> T:
        """Execute and read the answer inside one retried attempt: a partial answer (a
        TransientError from ``read``) is asked again like a failed request."""
        return self._retry.call(
            op, lambda: read(self._gql.execute(op, query, variables, auth=auth))
        )

    def _query(
        self, op: str, query: str, variables: dict[str, Any] | None = None, *, auth: bool = False
    ) -> dict[str, Any]:
        return self._call(op, query, variables, lambda data: data, auth=auth)

    def _field(
        self, op: str, query: str, variables: dict[str, Any], key: str, *, auth: bool = False
    ) -> Any:
        """The answer's top-level ``key`` (an answer without it is retried)."""
        return self._call(op, query, variables, lambda data: require(op, data, key), auth=auth)

    # --- rounds --------------------------------------------------------------------------------
    def current_round(self, tournament: Tournament) -> RoundInfo | None:
        """The tournament's current round, or None when the API says no round is open.

        Between rounds Numerai has answered in three ways (numerai-facts.md): the error "Current
        round not open for submissions" and ``[null]`` (both give None), or the last round, already
        closed (returned as is: check :meth:`RoundInfo.is_open`)."""
        op = "rounds"

        def read(data: dict[str, Any]) -> RoundInfo | None:
            rounds = require(op, data, "rounds")
            if rounds is None or rounds == []:
                return None
            if not isinstance(rounds, list):
                raise shape_error(op, "rounds is not a list")
            return None if rounds[0] is None else parse_round(op, tournament, rounds[0])

        try:
            return self._call(op, q.CURRENT_ROUND, {"tournament": int(tournament)}, read)
        except RoundClosedError as exc:
            log.info("no %s round open: %s", tournament.label, exc)
            return None

    # --- account -------------------------------------------------------------------------------
    def _account_models(
        self,
        op: str,
        query: str,
        variables: dict[str, Any] | None,
        read: Callable[[str, list[Any]], T],
    ) -> T:
        def read_account(data: dict[str, Any]) -> T:
            return read(op, account_models_of(op, data))

        return self._call(op, query, variables, read_account, auth=True)

    def account_models(self) -> list[AccountModel]:
        """Every model of the account, all tournaments, in one request. Models of tournaments
        this tool does not know are skipped (logged); an answer lacking a model's id, name or
        tournament is a TransientError (retried), never a shorter list."""
        op = "account.models"
        return self._account_models(op, q.ACCOUNT_MODELS, None, parse_models)

    def latest_submissions(self, latest_n_rounds: int = 1) -> dict[str, list[SubmissionInfo]]:
        """model id -> its submissions of the latest ``latest_n_rounds`` rounds, every model of the
        account in ONE request (``latestSubmissions``). A round without a submission appears as
        an entry with ``status == "none"`` and no id. A server that does not know the field
        raises ApiError: fall back to :meth:`model_submissions`.

        A model whose entries cannot say whether it submitted (a null id, round or status, an
        unknown status) is asked again on its own (one more request); its entries are then the
        selected submissions :meth:`model_submissions` lists, or, when that does not settle it,
        one entry whose ``doubt`` says why: treat that model as unknown, never as due."""
        op = "account.models.latestSubmissions"
        variables = {"latestNRounds": latest_n_rounds}

        def read(op: str, raw: list[Any]) -> tuple[list[AccountModel], LatestMap]:
            return parse_models(op, raw), parse_latest(op, raw)

        models, latest = self._account_models(op, q.LATEST_SUBMISSIONS, variables, read)
        # A doubtful entry (a null, an unknown status): that model is asked on its own.
        return settle(self, latest, models)[0]

    def _all_model_submissions(self, model_id: str) -> list[dict[str, Any]]:
        op = "model.submissions"
        data = self._gql.execute(op, q.MODEL_SUBMISSIONS, {"modelId": model_id}, auth=True)
        return submissions_of_model(op, model_id, data)

    def model_submissions(self, model_id: str, tournament: Tournament) -> list[SubmissionInfo]:
        """The selected submissions of one model in ``tournament`` (the per-model fallback of
        :meth:`latest_submissions`; ``status`` is None, ``timestamp`` is the insert time)."""
        op = "model.submissions"
        subs = self._retry.call(op, lambda: self._all_model_submissions(model_id))
        return selected_in(op, model_id, subs, tournament)

    # --- datasets ------------------------------------------------------------------------------
    def list_datasets(self, tournament: Tournament, round_number: int | None = None) -> list[str]:
        """Dataset names of the round (current when None), e.g. ``v5.2/live.parquet``."""
        op = "listDatasets"
        variables = {"round": round_number, "tournament": int(tournament)}
        names = self._field(op, q.LIST_DATASETS, variables, "listDatasets")
        if names is None:
            return []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise shape_error(op, "listDatasets is not a list of names")
        return list(names)

    def dataset_url(
        self, filename: str, tournament: Tournament, round_number: int | None = None
    ) -> str:
        """A short-lived download URL for ``filename`` of the round (current when None)."""
        op = "dataset"
        variables = {"filename": filename, "round": round_number, "tournament": int(tournament)}
        url = self._field(op, q.DATASET_URL, variables, "dataset")
        if url is None or url == "":
            raise NotFoundError(
                f"dataset {filename!r} is not available for {tournament.label} round "
                f"{round_number if round_number is not None else '(current)'}"
            )
        return parse_url(op, "download", url)

    # --- submissions ---------------------------------------------------------------------------
    def upload_submission(
        self,
        *,
        model_id: str,
        tournament: Tournament,
        round_number: int,
        data: bytes,
        filename: str,
        trigger_id: str | None = None,
    ) -> str:
        """Upload ``data`` (CSV or Parquet bytes) as the model's submission; its id.

        Upload auth and the PUT are retried on transient failures (no side effect); the create is
        retried only after the model's submissions show it did not go through (then the id of
        the one that did is returned), so one call never makes two submissions."""
        return self._uploader.upload(
            model_id=model_id,
            tournament=tournament,
            round_number=round_number,
            data=data,
            filename=filename,
            trigger_id=trigger_id,
            find=self._find_submission,
        )

    def _find_submission(self, model_id: str, server_filename: str) -> str | None:
        for s in self._all_model_submissions(model_id):
            if s.get("filename") == server_filename and s.get("id"):
                return str(s["id"])
        return None

    def set_submission_webhook(self, model_id: str, url: str | None) -> bool:
        """Set (or clear, with None) the URL Numerai calls when a round opens; True if accepted."""
        op = "setSubmissionWebhook"
        # Setting a value is idempotent, so retrying is safe.
        variables = {"modelId": model_id, "newSubmissionWebhook": url}
        return webhook_accepted(op, self._field(op, q.SET_WEBHOOK, variables, op, auth=True))
