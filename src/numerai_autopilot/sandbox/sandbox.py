"""The public face of the sandbox: :class:`Sandbox`, a local Numerai in a background thread."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import pandas as pd
from graphql import DocumentNode

from ..clock import Clock, SystemClock
from ..errors import NotFoundError
from ..tournaments import Tournament
from . import admin, resolvers, schema, views
from .core import Caller, DataSource, SandboxCore
from .faults import Counters, Faults
from .rounds import BetweenMode, ClockMode, RoundClock
from .state import ALL_SCOPES, DEMO_MODELS, Account, SandboxState
from .submissions import read_submission
from .urls import UrlSigner

# Distinct GraphQL texts kept for tests to hold to the real schema; a client sends a few dozen.
_MAX_DOCUMENTS = 1000

logger = logging.getLogger(__name__)


class Sandbox:
    """A local Numerai on 127.0.0.1: GraphQL at ``url``, files, uploads, faults, counters.

    Use as a context manager (``with Sandbox() as sb:``) or call :meth:`start` / :meth:`stop`.
    The demo account (``public_id``/``secret_key``, every scope) owns ``models`` in Classic,
    Signals and Crypto. With ``clock="now"`` a round is open in every tournament from start-up;
    ``clock="schedule"`` follows Numerai's real Tue-Sat windows.
    """

    def __init__(
        self,
        scale: Literal["tiny", "full"] = "tiny",
        seed: int = 0,
        state_dir: Path | str | None = None,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        clock: ClockMode = "now",
        time_source: Clock | None = None,
        round_duration: float = 3600.0,
        url_ttl: float = 900.0,
        cache_dir: Path | None = None,
        data: DataSource | None = None,
    ) -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the sandbox only listens on the loopback interface")
        self.scale, self.seed, self.host, self.port = scale, seed, host, port
        self.clock: Clock = time_source or SystemClock()
        self._own_dir = state_dir is None
        self.state_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="sandbox-"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._cache_dir = cache_dir
        self._data = data
        self._own_data = data is None
        self.rounds = RoundClock(self.clock, clock, duration=round_duration)
        self.state = SandboxState(seed, self.clock.now())
        self.faults = Faults()
        self.tally = Counters()
        self.bandwidth: int | None = None
        self.lock = threading.RLock()
        self._documents: dict[str, None] = {}  # distinct GraphQL texts, in arrival order
        self.stopping = threading.Event()
        self.schema = schema.build()
        resolvers.attach(self.schema)
        self._url_ttl = url_ttl
        self._etags: dict[tuple[str, float, int], str] = {}
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.account: Account = self.state.add_account("sandbox_demo")
        demo_key = self.state.add_key(self.account, ALL_SCOPES)
        self.public_id, self.secret_key = demo_key.public_id, demo_key.secret_key
        for tournament, names in DEMO_MODELS.items():
            for name in names:
                self.state.add_model(self.account, name, tournament)
        self.core: SandboxCore  # set by start()

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Bind the port and serve in a daemon thread; returns self."""
        from .server import SandboxHTTPServer

        if self._data is None:
            from .data import SyntheticData

            self._data = SyntheticData(self.scale, self.seed, self._cache_dir)
        self._server = SandboxHTTPServer((self.host, self.port), self)
        self.port = int(self._server.server_address[1])
        self.url = f"http://{self.host}:{self.port}/"
        self.core = SandboxCore(
            state=self.state,
            rounds=self.rounds,
            data=self._data,
            signer=UrlSigner(self.url, self._url_ttl),
            store_dir=self.state_dir,
            clock=self.clock,
            faults=self.faults,
        )
        # A short poll interval: stopping the server waits for one poll (tests stop often).
        serve = {"poll_interval": 0.05}
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs=serve, name="numerai-sandbox", daemon=True
        )
        self._thread.start()
        logger.info("sandbox serving on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving; wakes hanging handlers; removes a temporary state dir."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._own_data and self._data is not None and hasattr(self._data, "close"):
            self._data.close()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def serve_forever(self) -> None:
        """Block until stop() is called from another thread or KeyboardInterrupt."""
        try:
            while not self.stopping.wait(0.5):
                pass
        finally:
            self.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def data(self) -> DataSource:
        if self._data is None:
            raise RuntimeError("start() the sandbox first")
        return self._data

    # --- accounts --------------------------------------------------------------------------------
    @property
    def models(self) -> list[dict[str, object]]:
        """The demo account's models: {"id", "name", "tournament"}."""
        return [m.as_dict() for m in self.account.models]

    def add_model(self, name: str, tournament: int) -> str:
        """Give the demo account a new model; returns its id."""
        return self.state.add_model(self.account, name, int(tournament)).id

    def add_key(self, scopes: list[str]) -> tuple[str, str]:
        """An extra key on the demo account with only ``scopes``: (public_id, secret_key)."""
        key = self.state.add_key(self.account, tuple(scopes))
        return key.public_id, key.secret_key

    def add_account(self, name: str) -> tuple[str, str, list[dict[str, object]]]:
        """Another account with a full-scope key and one model per tournament."""
        account = self.state.add_account(name)
        key = self.state.add_key(account, ALL_SCOPES)
        for t in Tournament:
            self.state.add_model(account, f"{name}_{t.label}", int(t))
        return key.public_id, key.secret_key, [m.as_dict() for m in account.models]

    def info(self) -> dict[str, Any]:
        """What ``sandbox.json`` holds: url, public_id, secret_key, models."""
        return {
            "url": self.url,
            "public_id": self.public_id,
            "secret_key": self.secret_key,
            "models": self.models,
        }

    # --- rounds ----------------------------------------------------------------------------------
    @staticmethod
    def _tournaments(tournament: int | None) -> list[int]:
        return [int(t) for t in Tournament] if tournament is None else [int(tournament)]

    def current_round(self, tournament: int) -> dict[str, object]:
        """The latest round: {"number", "openTime", "closeTime", "closeStakingTime", "open"}."""
        return self.rounds.latest(int(tournament)).as_dict(self.clock.now())

    def open_round(
        self, tournament: int | None = None, *, duration: float = 3600, open_in: float = 0
    ) -> None:
        """Open the next round (new number, new live ids) now + ``open_in`` s, for ``duration``."""
        for t in self._tournaments(tournament):
            rnd = self.rounds.open_round(t, duration=duration, open_in=open_in)
            logger.info("round %s of tournament %s opens at %s", rnd.number, t, rnd.open_time)

    def close_round(self, tournament: int | None = None) -> None:
        """Close the latest round of ``tournament`` (None: all three) now."""
        for t in self._tournaments(tournament):
            self.rounds.close_round(t)

    def set_between_rounds(self, mode: BetweenMode) -> None:
        """How ``rounds(number: 0)`` answers when no round is open: last round, error or [null]."""
        if mode not in ("last", "error", "null"):
            raise ValueError("mode must be last, error or null")
        self.rounds.between = mode

    def set_late_submissions(self, accepted: bool) -> None:
        """Accept (as "late") or refuse submissions made after the round closed."""
        self.state.late_accepted = accepted

    # --- faults and counters ---------------------------------------------------------------------
    def inject(self, kind: str, *, count: int = 1, match: str | None = None, **params: Any) -> None:
        """Arm a fault for the next ``count`` matching requests (see docs/sandbox.md)."""
        self.faults.inject(kind, count=count, match=match, **params)

    def clear_faults(self) -> None:
        self.faults.clear()

    def counters(self) -> dict[str, Any]:
        return self.tally.snapshot()

    def reset_counters(self) -> None:
        self.tally.reset()

    # --- inspection ------------------------------------------------------------------------------
    def documents(self) -> list[str]:
        """Every distinct GraphQL document received so far, in arrival order, as written."""
        with self.lock:
            return list(self._documents)

    def submissions(self, model: str | None = None) -> list[dict[str, object]]:
        """Stored submissions, oldest first, of every model or of one (by id or name)."""
        model_id = None
        if model is not None:
            found = self.state.find_model(model) or self.state.find_model_by_name(model)
            if found is None:
                raise NotFoundError(f"no model {model!r} in the sandbox")
            model_id = found.id
        return [s.as_dict() for s in self.state.submissions_of(model_id)]

    def submission_frame(self, submission_id: str) -> pd.DataFrame:
        """The stored submission file, parsed."""
        sub = self.state.find_submission(submission_id)
        if sub is None:
            raise NotFoundError(f"no submission {submission_id!r}")
        return read_submission(sub.path.read_bytes(), sub.filename)

    def live_ids(self, tournament: int) -> list[str]:
        """The live ids of the latest round of ``tournament``."""
        return self.data.live_ids(int(tournament), self.rounds.latest(int(tournament)).number)

    # --- used by the HTTP layer (ports.App) -------------------------------------------------------
    def graphql(self, document: DocumentNode, variables: Any, caller: Caller) -> dict[str, Any]:
        """Execute a parsed GraphQL request as ``caller``; one at a time, like a transaction."""
        with self.lock:
            if document.loc is not None and len(self._documents) < _MAX_DOCUMENTS:
                self._documents.setdefault(document.loc.source.body, None)
            return schema.run(self.schema, document, variables, views.Context(self.core, caller))

    def admin(
        self, method: str, path: str, query: Mapping[str, str], body: bytes
    ) -> tuple[int, object]:
        """Answer one ``/_sandbox/`` request: (status, JSON body); see docs/sandbox.md."""
        return admin.answer(self, method, path, query, body)

    def locate(self, path: str) -> tuple[Path, str] | None:
        """Map ``/files/<t>/<round>/<name>`` or ``/submissions/<id>/<name>`` to (file, name)."""
        parts = path.strip("/").split("/")
        try:
            if parts[0] == "files" and len(parts) >= 4:
                name = "/".join(parts[3:])
                return self.data.dataset_path(int(parts[1]), int(parts[2]), name), name
            if parts[0] == "submissions" and len(parts) >= 3:
                sub = self.state.find_submission(parts[1])
                return (sub.path, sub.filename) if sub is not None else None
        except (KeyError, ValueError):
            return None
        return None

    def etag(self, path: Path, data: bytes) -> str:
        stat = path.stat()
        key = (str(path), stat.st_mtime, stat.st_size)
        if key not in self._etags:
            self._etags[key] = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
        return self._etags[key]
