"""The sandbox's behaviour behind the GraphQL and HTTP layers: auth, datasets, uploads, submissions.

Messages a client can see are Numerai's where known (numerai-facts.md); where Numerai's wording
is unknown the message says what is wrong, and the constant names mark it as the sandbox's own.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from ..clock import Clock, format_time
from ..errors import (
    ApiError,
    AuthError,
    InvalidSubmissionError,
    NotFoundError,
    RoundClosedError,
)
from ..fileio import write_atomic
from ..tournaments import Tournament
from .faults import Faults
from .rounds import Round, RoundClock
from .state import Account, ApiKey, Model, PendingUpload, SandboxState, Submission
from .submissions import read_submission, validate_submission
from .urls import UrlSigner

logger = logging.getLogger(__name__)

SESSION_INVALID = "Your session is invalid or has expired."
ROUND_NOT_OPEN = "Current round not open for submissions"
# Numerai's wording for these is unknown (see docs/sandbox.md).
MODEL_NOT_FOUND = "Model not found"
UPLOAD_MISSING = "Submission file not found: PUT the file to the upload URL before creating"
MODEL_HAS_PICKLE = "This model runs a Model Upload: submissions through the API are disabled"


class DataSource(Protocol):
    """What the sandbox needs from the synthetic data (numerai_autopilot.sandbox.data)."""

    def list_datasets(self, tournament: int) -> list[str]: ...

    def dataset_path(self, tournament: int, round_number: int, filename: str) -> Path: ...

    def live_ids(self, tournament: int, round_number: int) -> list[str]: ...


@dataclass
class Caller:
    """Who sent a GraphQL request (None account: no or bad key) and how times are written."""

    account: Account | None
    key: ApiKey | None
    naive_times: bool = False

    def require(self, scope: str | None) -> Account:
        """The account, or AuthError with Numerai's message (bad key / missing scope)."""
        if self.account is None or self.key is None:
            raise AuthError(SESSION_INVALID)
        if scope is not None and scope not in self.key.scopes:
            raise AuthError(f"Insufficient permission for {scope}")
        return self.account

    def time(self, dt: datetime | None) -> str | None:
        if dt is None:
            return None
        text = format_time(dt)
        return text[:-1] if self.naive_times else text


class SandboxCore:
    """State plus the rules Numerai applies; shared by every request thread."""

    def __init__(
        self,
        *,
        state: SandboxState,
        rounds: RoundClock,
        data: DataSource,
        signer: UrlSigner,
        store_dir: Path,
        clock: Clock,
        faults: Faults | None = None,
    ) -> None:
        self.faults = faults if faults is not None else Faults()
        """The armed faults; the resolvers apply the ANSWER kinds."""
        self.state = state
        self.rounds = rounds
        self.data = data
        self.signer = signer
        self.store_dir = store_dir
        self.clock = clock
        (store_dir / "uploads").mkdir(parents=True, exist_ok=True)

    # --- auth ------------------------------------------------------------------------------------
    def caller(self, authorization: str | None) -> Caller:
        """Resolve ``Authorization: Token <public_id>$<secret_key>``; any other form: no account."""
        if authorization and authorization.startswith("Token ") and "$" in authorization:
            public_id, _, secret = authorization[len("Token ") :].strip().partition("$")
            found = self.state.authenticate(public_id, secret)
            if found is not None:
                return Caller(*found)
        return Caller(None, None)

    def owned_model(self, account: Account, model_id: str | None, tournament: int | None) -> Model:
        """The caller's model by id; without an id, its only model in ``tournament``."""
        if model_id is None:
            mine = [m for m in account.models if tournament is None or m.tournament == tournament]
            if len(mine) != 1:
                raise ApiError("modelId is required: this account has several models")
            return mine[0]
        model = self.state.find_model(model_id)
        if model is None or model.account_id != account.id:
            raise NotFoundError(MODEL_NOT_FOUND)
        return model

    # --- datasets --------------------------------------------------------------------------------
    def round_number(self, tournament: int, number: int | None) -> int:
        return number if number else self.rounds.latest(tournament).number

    def list_datasets(self, tournament: int | None) -> list[str]:
        if tournament is None:
            return [name for t in Tournament for name in self.data.list_datasets(int(t))]
        return self.data.list_datasets(tournament)

    def dataset_tournament(self, filename: str, tournament: int | None) -> int:
        """The tournament that lists ``filename``, preferring the one asked for."""
        candidates = [tournament] if tournament in set(Tournament) else []
        candidates += [int(t) for t in Tournament if t != tournament]
        for t in candidates:
            if t is not None and filename in self.data.list_datasets(t):
                return t
        raise NotFoundError(f"Dataset {filename} not found")

    def dataset_url(self, filename: str, round_number: int | None, tournament: int | None) -> str:
        t = self.dataset_tournament(filename, tournament)
        number = self.round_number(t, round_number)
        return self.signer.sign(
            "GET", f"/files/{t}/{number}/{filename}", self.clock.now().timestamp()
        )

    # --- uploads ---------------------------------------------------------------------------------
    def upload_auth(
        self,
        account: Account,
        filename: str,
        tournament: int | None,
        model_id: str | None,
        kind: str,
    ) -> dict[str, str]:
        """Register an upload; the answer's filename is what create must name."""
        model = self.owned_model(account, model_id, tournament)
        base = os.path.basename(filename) or "predictions.csv"
        stem, dot, ext = base.rpartition(".")
        if not dot:
            stem, ext = base, "csv"
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", stem) or "predictions"
        server_name = f"{stem}-{self.state.random_text(12)}.{ext}"
        path = self.store_dir / "uploads" / server_name
        upload = PendingUpload(server_name, model.id, model.tournament, kind, path)
        with self.state.lock:
            self.state.uploads[server_name] = upload
        url = self.signer.sign("PUT", f"/uploads/{server_name}", self.clock.now().timestamp())
        return {"filename": server_name, "url": url}

    def receive_upload(self, server_name: str, body: bytes) -> bool:
        """Store a PUT body for a registered upload; False when the name is unknown."""
        with self.state.lock:
            upload = self.state.uploads.get(server_name)
        if upload is None:
            return False
        write_atomic(upload.path, body)
        upload.arrived = True
        return True

    def _arrived(self, account: Account, filename: str, kind: str) -> PendingUpload:
        with self.state.lock:
            upload = self.state.uploads.get(filename)
        if upload is None or not upload.arrived or upload.kind != kind:
            raise InvalidSubmissionError(UPLOAD_MISSING)
        model = self.state.find_model(upload.model_id or "")
        if model is None or model.account_id != account.id:
            raise InvalidSubmissionError(UPLOAD_MISSING)
        return upload

    # --- submissions -----------------------------------------------------------------------------
    def target_round(self, tournament: int) -> tuple[Round, str]:
        """The round a submission made now counts for, and its status."""
        now = self.clock.now()
        rnd = self.rounds.latest(tournament)
        if now < rnd.open_time:
            return rnd, "queued"
        if rnd.is_open(now):
            return rnd, "on-time"
        if not self.state.late_accepted:
            raise RoundClosedError(ROUND_NOT_OPEN)
        return rnd, "late"

    def create_submission(
        self,
        account: Account,
        *,
        filename: str,
        tournament: int | None,
        model_id: str | None,
        trigger_id: str | None,
        kind: str,
    ) -> Submission:
        """Validate the uploaded file and store it as the model's selected submission."""
        upload = self._arrived(account, filename, kind)
        model = self.owned_model(account, model_id or upload.model_id, tournament)
        if model.id != upload.model_id:
            raise InvalidSubmissionError(UPLOAD_MISSING)
        if tournament is not None and tournament != model.tournament:
            raise ApiError(f"Model {model.name} is not in tournament {tournament}")
        if model.pickle_upload_id is not None and self.state.pickle_blocks_submissions:
            raise ApiError(MODEL_HAS_PICKLE)
        rnd, status = self.target_round(model.tournament)
        frame = read_submission(upload.path.read_bytes(), filename)
        validate_submission(
            model.tournament, frame, self.data.live_ids(model.tournament, rnd.number)
        )
        sub = Submission(
            id=self.state.new_uuid(),
            model_id=model.id,
            model_name=model.name,
            tournament=model.tournament,
            round=rnd.number,
            filename=filename,
            path=upload.path,
            status=status,
            inserted_at=self.clock.now(),
            trigger_id=trigger_id,
        )
        self.state.add_submission(sub)
        logger.info("submission %s for %s round %s: %s", sub.id, model.name, rnd.number, status)
        return sub

    def create_pickle(self, account: Account, filename: str, model_id: str | None) -> str:
        """Record a Model Upload; from now on the model cannot submit through the API."""
        upload = self._arrived(account, filename, "pickle")
        model = self.owned_model(account, model_id or upload.model_id, None)
        upload_id = self.state.new_uuid()
        with self.state.lock:
            self.state.pickles[upload_id] = upload
            model.pickle_upload_id = upload_id
        return upload_id

    def download_url(self, account: Account, submission_id: str) -> dict[str, str]:
        sub = self.state.find_submission(submission_id)
        if sub is None or self.state.find_model(sub.model_id) not in account.models:
            raise NotFoundError("Submission not found")
        url = self.signer.sign(
            "GET", f"/submissions/{sub.id}/{sub.filename}", self.clock.now().timestamp()
        )
        return {"filename": sub.filename, "url": url}

    def latest_submissions(self, model: Model, n: int) -> list[tuple[Round, Submission | None]]:
        """The last ``n`` rounds of the model's tournament, newest first, with its selected one."""
        latest = self.rounds.latest(model.tournament).number
        subs = [s for s in self.state.submissions_of(model.id) if s.selected]
        out: list[tuple[Round, Submission | None]] = []
        for number in range(latest, max(latest - max(n, 0), 0), -1):
            chosen = next((s for s in reversed(subs) if s.round == number), None)
            out.append((self.rounds.get(model.tournament, number), chosen))
        return out
