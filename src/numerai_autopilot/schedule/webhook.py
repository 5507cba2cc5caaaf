"""The webhook trigger's logic: who may call, how often, and one job at a time.

Numerai calls the URL a model's webhook is set to when a round opens (``setSubmissionWebhook``),
with a trigger id that goes back on each submission. :class:`WebhookTrigger` checks the caller's
token in constant time, counts refused calls per address, starts a round's job
(:func:`run_round`) in a background thread and folds every call that arrives while it runs (or
shortly after it started) into it. The HTTP layer is in ``_http.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..clock import Clock, SystemClock, format_time
from ..config import Settings, load_models_file
from ..errors import AutopilotError, ConfigError
from ..run.lifecycle import Lifecycle
from ..run.report import RunReport
from ..run.resident import for_settings, using
from ._job import Backoff, JobResult, error_class, run_round

log = logging.getLogger(__name__)

MIN_SECRET_LENGTH = 32
_SECRET_RE = re.compile(r"[A-Za-z0-9._~-]+")
_TRIGGER_RE = re.compile(r"[A-Za-z0-9._:-]{1,200}")

JobFn = Callable[[str | None, threading.Event], JobResult]
"""Runs a round's job with a trigger id; stops retrying when the event is set."""


def require_secret(settings: Settings) -> str:
    """The webhook secret, or a ConfigError saying how to set a strong one."""
    how = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    if settings.webhook_secret is None or not settings.webhook_secret.get_secret_value():
        raise ConfigError(
            "serve needs a webhook secret: set NUMERAI_WEBHOOK_SECRET (or "
            f"NUMERAI_WEBHOOK_SECRET_FILE); {how}"
        )
    secret = settings.webhook_secret.get_secret_value()
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"NUMERAI_WEBHOOK_SECRET is too short: use at least {MIN_SECRET_LENGTH} "
            f"characters; {how}"
        )
    if not _SECRET_RE.fullmatch(secret):
        raise ConfigError(
            "NUMERAI_WEBHOOK_SECRET must be URL-safe (letters, digits, . _ ~ -): it is part of "
            f"the webhook URL; {how}"
        )
    return secret


def valid_trigger_id(value: str) -> bool:
    """Numerai's trigger ids are opaque; accept short printable tokens only (they are logged
    and sent back to the API)."""
    return bool(_TRIGGER_RE.fullmatch(value))


class FailureLimiter:
    """Counts refused calls per client address in a sliding window (bounded memory)."""

    def __init__(self, limit: int = 10, window: float = 60.0, max_addresses: int = 4096) -> None:
        self.limit, self.window, self.max_addresses = limit, window, max_addresses
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, address: str) -> float | None:
        """Record a refused call; the seconds to wait when ``address`` is over the limit."""
        now = time.monotonic()
        with self._lock:
            if len(self._seen) >= self.max_addresses and address not in self._seen:
                self._prune(now)
                if len(self._seen) >= self.max_addresses:
                    self._seen.pop(next(iter(self._seen)))
            hits = self._seen.setdefault(address, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            hits.append(now)
            if len(hits) > self.limit:
                while len(hits) > self.limit + 1:  # keep the memory per address bounded too
                    hits.popleft()
                return max(1.0, hits[0] + self.window - now)
            return None

    def _prune(self, now: float) -> None:
        for addr in [a for a, h in self._seen.items() if not h or h[-1] <= now - self.window]:
            del self._seen[addr]


@dataclass
class _Counts:
    started: int = 0
    coalesced: int = 0
    refused: int = 0
    limited: int = 0


@dataclass
class _LastRun:
    started: str
    trigger: bool
    finished: str | None = None
    ok: bool | None = None
    gave_up: bool = False
    attempts: int = 0
    exit_code: int | None = None
    summary: dict[str, int] | None = None
    rounds: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    """Verbatim (it may name paths and models): shown only to a caller with the secret."""
    error_class: str | None = None
    """What kind of error (see ``_job.error_class``): what everyone else sees."""


class WebhookTrigger:
    """Authenticates calls and runs at most one round's job at a time."""

    def __init__(
        self,
        secret: str,
        job: JobFn,
        *,
        clock: Clock | None = None,
        min_interval: float = 60.0,
        limiter: FailureLimiter | None = None,
    ) -> None:
        self._digest = hashlib.sha256(secret.encode()).digest()
        self._job = job
        self.clock = clock or SystemClock()
        self.min_interval = min_interval
        self.limiter = limiter or FailureLimiter()
        self.counts = _Counts()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._started_at: float | None = None
        self._last: _LastRun | None = None
        self._stop = threading.Event()
        self._since = format_time(self.clock.now())

    def authenticate(self, presented: str | None) -> bool:
        """True when ``presented`` is the secret. Both sides are hashed first, so the time
        taken reveals neither the secret's content nor its length."""
        if not presented:
            return False
        return hmac.compare_digest(hashlib.sha256(presented.encode()).digest(), self._digest)

    def refused(self, address: str) -> float | None:
        """Count an unauthenticated call; seconds to wait when the address is over its limit."""
        retry_after = self.limiter.hit(address)
        with self._lock:
            if retry_after is None:
                self.counts.refused += 1
            else:
                self.counts.limited += 1
        return retry_after

    def trigger(self, trigger_id: str | None) -> Literal["started", "coalesced"]:
        """Start a job unless one runs or started less than ``min_interval`` s ago."""
        with self._lock:
            now = time.monotonic()
            busy = self._thread is not None and self._thread.is_alive()
            recent = self._started_at is not None and now - self._started_at < self.min_interval
            if busy or recent:
                self.counts.coalesced += 1
                log.info("webhook call folded into the run started %s", self._last_started())
                return "coalesced"
            self.counts.started += 1
            self._started_at = now
            self._last = _LastRun(started=format_time(self.clock.now()), trigger=bool(trigger_id))
            self._thread = threading.Thread(
                target=self._work, args=(trigger_id, self._last), name="webhook-run", daemon=True
            )
            self._thread.start()
        log.info("webhook call: run started (trigger id %s)", trigger_id or "none")
        return "started"

    def _last_started(self) -> str:
        return self._last.started if self._last else "?"

    def _work(self, trigger_id: str | None, last: _LastRun) -> None:
        result: JobResult | None = None
        error: str | None = None
        kind: str | None = None
        try:
            result = self._job(trigger_id, self._stop)
        except AutopilotError as exc:  # a key or settings problem: the health shows it
            log.error("webhook run failed: %s", exc)
            error, kind = str(exc), error_class(exc)
        except Exception as exc:  # a bug: keep serving, show it, log the traceback
            log.exception("webhook run crashed")
            error, kind = f"{type(exc).__name__}: {exc}", "internal"
        with self._lock:
            if result is not None:
                _describe(last, result)
            else:
                last.ok, last.error, last.error_class = False, error, kind
            last.finished = format_time(self.clock.now())

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the running job to end; True when none runs."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Stop retrying and wait (bounded) for the job's current attempt to end."""
        self._stop.set()
        self.wait_idle(timeout)

    def health(self, *, full: bool = False) -> dict[str, Any]:
        """Liveness and the last run's summary: counts and outcomes, never a secret. The last
        error is shown as its class only, verbatim when ``full`` (an authenticated caller)."""
        with self._lock:
            running = self._thread is not None and self._thread.is_alive()
            last = None if self._last is None else dict(self._last.__dict__)
            counts = dict(self.counts.__dict__)
        if last is not None and not full:
            last["error"] = last.pop("error_class")
        return {
            "status": "ok",
            "since": self._since,
            "running": running,
            "calls": counts,
            "last_run": last,
        }


def _describe(last: _LastRun, result: JobResult) -> None:
    report: RunReport | None = result.last
    last.ok, last.gave_up, last.attempts = result.ok, result.gave_up, len(result.reports)
    last.error, last.error_class = result.error, result.error_class
    if last.error_class is None and report is not None and report.failed:
        last.error_class = "model-failed"
    if report is not None:
        last.exit_code, last.summary = report.exit_code, report.summary()
        last.rounds = {t.label: (None if r is None else r.number) for t, r in report.rounds.items()}


def runner_job(
    settings: Settings,
    *,
    clock: Clock | None = None,
    backoff: Backoff | None = None,
    lock_wait: float = 60.0,
    lifecycle: Lifecycle | None = None,
) -> JobFn:
    """The job ``serve`` runs per accepted call: a run through the run lifecycle (alerts,
    healthcheck pings, ledger, as for ``run``), retried with ``backoff`` until everything due
    is submitted or the deadline nears."""
    the_clock = clock or SystemClock()
    the_lifecycle = lifecycle or Lifecycle(settings, trigger="serve")
    resident = for_settings(settings)  # libraries and models kept loaded between calls

    def job(trigger_id: str | None, stop: threading.Event) -> JobResult:
        def run(tid: str | None) -> RunReport:
            if resident is not None:
                with contextlib.suppress(ConfigError):  # the run reports a broken file
                    resident.retain(
                        {m.name for m in load_models_file(settings.models_dir).enabled()}
                    )
            with using(resident):
                result = the_lifecycle.run(trigger_id=tid, lock_wait=lock_wait, clock=the_clock)
            return result.unwrap()  # an error: run_round retries later, or stops (settings, key)

        return run_round(run, the_clock, trigger_id=trigger_id, backoff=backoff, stop=stop)

    return job
