"""What every stage of one run shares, built once by the runner: no stage sees the Runner."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from .. import progress
from ..client import NumeraiClient
from ..config import Settings
from ..redact import redact_signed
from .ledger import Ledger
from .report import Outcome, Status, record

log = logging.getLogger(__name__)

EventHook = Callable[[str, Outcome], None]
"""Called with (event, outcome) as models move on: 'planned', 'predicted', 'done'."""

LatePolicy = Literal["submit", "skip"]
"""After a round's close: ``submit`` anyway (Numerai accepts it as late and queues it for the
next round) or ``skip`` (report the model as not submitted)."""
LATE_POLICIES: tuple[LatePolicy, ...] = ("submit", "skip")


@dataclass
class Timer:
    """Seconds spent per stage, summed over the run (stages overlap: uploads run while other
    models predict)."""

    totals: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time ``name``; its start and end are logged (and the lines within say the stage)."""
        t0 = time.perf_counter()
        try:
            with progress.stage(name):
                yield
        finally:
            self.totals[name] = self.totals.get(name, 0.0) + time.perf_counter() - t0


def _no_event(_event: str, _outcome: Outcome) -> None:
    return None


@dataclass
class RunContext:
    """One run's resources and policies. ``now`` is the server-corrected clock."""

    settings: Settings
    client: NumeraiClient
    ledger: Ledger
    run_id: str
    now: Callable[[], datetime]
    monotonic: Callable[[], float]
    timer: Timer = field(default_factory=Timer)
    on_event: EventHook = _no_event
    late: LatePolicy = "skip"
    trigger_id: str | None = None
    check: bool = False
    due: frozenset[str] = frozenset()
    """Models to submit (or, checking, to check) this run."""
    parts_only: frozenset[str] = frozenset()
    """Blend parts predicted for their blend only: their own status stands (disabled, already
    submitted); a failure of theirs fails their blend, not them."""
    finished: set[str] = field(default_factory=set)
    """Models whose outcome is final for this run."""
    failures: dict[str, str] = field(default_factory=dict)
    keep_dir: Path | None = None
    """``models check --out``: where each checked model's CSV is kept."""
    """model -> "stage: reason" of every failure in this run (blends name their parts')."""

    def unfinished(self) -> frozenset[str]:
        """Due models without a final outcome yet (what an interrupt stops)."""
        return self.due - self.finished

    def record(self, o: Outcome) -> None:
        record(self.ledger, self.run_id, o)

    def emit(self, event: str, o: Outcome) -> None:
        self.on_event(event, o)

    def fail(self, o: Outcome, stage: str, error: str) -> None:
        """``o`` failed at ``stage``: record it and tell the hook (final for this run)."""
        self.failures[o.name] = f"{stage}: {error}"
        if o.name in self.parts_only:
            log.error(
                "blend part %s failed at %s: %s", o.name, stage, error, extra=_about(o.name, stage)
            )
            return
        # Before the ledger and the report: no pre-signed URL's signature in either.
        o.status, o.stage, o.error = Status.FAILED, stage, redact_signed(error)
        log.error("model %s failed at %s: %s", o.name, stage, error, extra=_about(o.name, stage))
        self.finished.add(o.name)
        self.record(o)
        self.emit("done", o)

    def done(self, o: Outcome, status: Status) -> None:
        """``o`` ended well with ``status`` (submitted, already, checked)."""
        o.status, o.stage, o.error = status, "done", None
        self.finished.add(o.name)
        self.record(o)
        self.emit("done", o)


def _about(model: str, stage: str) -> dict[str, str]:
    """The log fields of a line about ``model`` at ``stage`` (see logctx)."""
    return {"model": model, "stage": stage}
