"""Accounts, API keys, models and stored submissions of the sandbox (in memory, thread-safe)."""

from __future__ import annotations

import random
import string
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ALL_SCOPES = (
    "upload_submission",
    "read_submission_info",
    "read_user_info",
    "download_submission",
    "stake",
)

DEMO_MODELS = {
    8: ("anas_platyrhynchos", "netta_rufina", "corvus_corone"),
    11: ("pica_pica", "sturnus_vulgaris"),
    12: ("buteo_buteo", "falco_tinnunculus"),
}


@dataclass
class ApiKey:
    public_id: str
    secret_key: str
    scopes: tuple[str, ...]
    name: str = "sandbox"

    def __repr__(self) -> str:  # never show the secret
        return f"ApiKey(public_id={self.public_id!r}, scopes={self.scopes!r})"


@dataclass
class Model:
    id: str
    name: str
    tournament: int
    account_id: str
    webhook: str | None = None
    pickle_upload_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "tournament": self.tournament}


@dataclass
class Account:
    id: str
    username: str
    inserted_at: datetime
    keys: list[ApiKey] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)


@dataclass
class Submission:
    id: str
    model_id: str
    model_name: str
    tournament: int
    round: int
    filename: str
    path: Path
    status: str  # on-time | late | queued
    inserted_at: datetime
    trigger_id: str | None = None
    selected: bool = True

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "model_id": self.model_id,
            "model_name": self.model_name,
            "tournament": self.tournament,
            "round": self.round,
            "filename": self.filename,
            "status": self.status,
            "selected": self.selected,
            "trigger_id": self.trigger_id,
            "inserted_at": self.inserted_at,
        }


@dataclass
class PendingUpload:
    """An upload URL handed out by an ``...UploadAuth`` call; ``path`` exists once PUT arrived."""

    filename: str
    model_id: str | None
    tournament: int | None
    kind: str  # submission | signals | pickle
    path: Path
    arrived: bool = False
    data_version_id: str | None = None  # a Model Upload's, as createComputePickleUpload set it
    docker_image_id: str | None = None
    inserted_at: datetime | None = None


class SandboxState:
    """Everything the sandbox remembers; every mutation holds ``lock``."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.lock = threading.RLock()
        self._rng = random.Random(seed)  # noqa: S311 - reproducible ids, not secrets
        self._now = now
        self.accounts: list[Account] = []
        self.submissions: list[Submission] = []
        self.uploads: dict[str, PendingUpload] = {}  # by server filename
        self.pickles: dict[str, PendingUpload] = {}  # by upload id
        self.late_accepted = True
        self.pickle_blocks_submissions = True

    # --- identifiers -------------------------------------------------------------------------
    def new_uuid(self) -> str:
        with self.lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def random_text(self, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        with self.lock:
            return "".join(self._rng.choice(alphabet) for _ in range(length))

    # --- accounts, keys, models ----------------------------------------------------------------
    def add_account(self, username: str) -> Account:
        account = Account(self.new_uuid(), username, self._now)
        with self.lock:
            self.accounts.append(account)
        return account

    def add_key(self, account: Account, scopes: tuple[str, ...]) -> ApiKey:
        upper = string.ascii_uppercase + string.digits
        key = ApiKey(self.random_text(32, upper), self.random_text(64, upper), scopes)
        with self.lock:
            account.keys.append(key)
        return key

    def add_model(self, account: Account, name: str, tournament: int) -> Model:
        with self.lock:
            if self.find_model_by_name(name) is not None:
                raise ValueError(f"a model named {name!r} already exists")
            model = Model(self.new_uuid(), name, tournament, account.id)
            account.models.append(model)
        return model

    def authenticate(self, public_id: str, secret_key: str) -> tuple[Account, ApiKey] | None:
        with self.lock:
            for account in self.accounts:
                for key in account.keys:
                    if key.public_id == public_id and key.secret_key == secret_key:
                        return account, key
        return None

    def find_model(self, model_id: str) -> Model | None:
        with self.lock:
            for account in self.accounts:
                for model in account.models:
                    if model.id == model_id:
                        return model
        return None

    def find_model_by_name(self, name: str) -> Model | None:
        with self.lock:
            for account in self.accounts:
                for model in account.models:
                    if model.name == name:
                        return model
        return None

    # --- submissions -----------------------------------------------------------------------------
    def add_submission(self, sub: Submission) -> None:
        """Store ``sub``; the latest valid submission of a model for a round is the selected one."""
        with self.lock:
            for other in self.submissions:
                if other.model_id == sub.model_id and other.round == sub.round:
                    other.selected = False
            sub.selected = True
            self.submissions.append(sub)

    def submissions_of(self, model_id: str | None) -> list[Submission]:
        with self.lock:
            return [s for s in self.submissions if model_id is None or s.model_id == model_id]

    def find_submission(self, submission_id: str) -> Submission | None:
        with self.lock:
            return next((s for s in self.submissions if s.id == submission_id), None)
