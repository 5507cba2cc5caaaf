"""What a run did: one outcome per configured model, stage timings, and the exit code."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from ..client import RoundInfo
from ..clock import format_time
from ..errors import ExitCode
from ..tournaments import Tournament
from .ledger import Ledger
from .plan import Due, Entry, State


class Status(enum.StrEnum):
    SUBMITTED = "submitted"  # uploaded and confirmed this run
    ALREADY = "already"  # a submission for this round already existed: nothing to do
    FAILED = "failed"  # could not submit: see error
    SKIPPED = "skipped"  # nothing due (no round open, disabled)
    CHECKED = "checked"  # `models check`: predicted and validated, not uploaded
    INTERRUPTED = "interrupted"  # Ctrl-C before it finished: the next run resumes it


FAILURES = frozenset({Status.FAILED, Status.INTERRUPTED})
"""Statuses that leave a due model without its submission."""

STAGES = ("resolve", "download", "load", "predict", "validate", "upload")


@dataclass
class Outcome:
    name: str
    tournament: Tournament
    status: Status
    stage: str = "plan"
    """The last stage reached: plan, download, load, predict, validate, upload, done."""
    round_number: int | None = None
    model_id: str | None = None
    submission_id: str | None = None
    error: str | None = None
    checksum: str | None = None
    skip: str | None = None
    """Why a SKIPPED model was skipped: ``no-round`` or ``disabled``."""
    late: bool = False
    """Uploaded after the round's close (late policy ``submit``): Numerai counts it as late."""
    timings: dict[str, float] = field(default_factory=dict)
    output: str | None = None
    """What the model printed while predicting (its library's warnings too), bounded."""
    stats: dict[str, float | int | None] | None = None
    """``models check``: rows, mean, std, corr_example of its predictions (check_stats.py)."""
    warning: str | None = None
    """Submitted (or checked) but worth knowing: e.g. Numerai would refuse it as a Model Upload."""

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["tournament"] = self.tournament.label
        d["status"] = str(self.status)
        return d


@dataclass
class RunReport:
    run_id: str | None
    outcomes: list[Outcome]
    rounds: dict[Tournament, RoundInfo | None]
    timings: dict[str, float] = field(default_factory=dict)
    bytes_downloaded: int = 0
    api_requests: int = 0

    def summary(self) -> dict[str, int]:
        c = Counter(str(o.status) for o in self.outcomes)
        return {s.value: c.get(s.value, 0) for s in Status}

    @property
    def failed(self) -> list[Outcome]:
        """The models left without their submission: failed or interrupted."""
        return [o for o in self.outcomes if o.status in FAILURES]

    @property
    def exit_code(self) -> int:
        """0 all due submitted or nothing due; 1 some model failed; 3 no round open at all;
        130 interrupted (Ctrl-C) before every model finished."""
        if any(o.status is Status.INTERRUPTED for o in self.outcomes):
            return int(ExitCode.INTERRUPTED)
        if self.failed:
            return int(ExitCode.MODEL_FAILED)
        active = [o for o in self.outcomes if o.skip != "disabled"]
        if active and all(o.skip == "no-round" for o in active):
            return int(ExitCode.NO_ROUND)
        return int(ExitCode.OK)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "exit_code": self.exit_code,
            "summary": self.summary(),
            "rounds": {
                t.label: (
                    None
                    if r is None
                    else {
                        "number": r.number,
                        "open_time": format_time(r.open_time),
                        "deadline": format_time(d) if (d := r.deadline()) else None,
                    }
                )
                for t, r in self.rounds.items()
            },
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "bytes_downloaded": self.bytes_downloaded,
            "api_requests": self.api_requests,
            "outcomes": [o.to_json() for o in self.outcomes],
        }


def initial_outcome(m: Entry) -> Outcome:
    """A model's outcome before any work: final for models with nothing to do; a due model
    starts as failed ("not finished") so a run that dies mid-way reports it truthfully."""
    o = Outcome(
        m.name,
        m.spec.tournament,
        Status.FAILED,
        round_number=m.round.number if m.round else None,
        model_id=m.model_id,
    )
    if isinstance(m, Due):
        o.error = "not finished (the run stopped before this model)"
        if not m.upload:
            # A blend-only part: its own state stands, whatever its predictions become.
            o.error = None
            o.status, o.stage = _not_due_status(o, m.state, m.reason, m.submission)
    else:
        o.status, o.stage = _not_due_status(o, m.state, m.reason, m.submission)
    return o


def _not_due_status(
    o: Outcome, state: State, reason: str | None, submission: object
) -> tuple[Status, str]:
    if state is State.SUBMITTED:
        o.submission_id = getattr(submission, "id", None)
        return Status.ALREADY, "done"
    if state is State.NO_ROUND:
        o.skip, o.error = "no-round", reason
        return Status.SKIPPED, "plan"
    if state is State.DISABLED:
        o.skip = "disabled"
        return Status.SKIPPED, "plan"
    o.error = reason
    return Status.FAILED, "plan"


def interrupt(o: Outcome) -> None:
    """Mark an unfinished outcome as stopped by Ctrl-C (kept apart from real failures)."""
    o.status = Status.INTERRUPTED
    o.error = f"interrupted at {o.stage}; the next run resumes it"


def record(ledger: Ledger, run_id: str, o: Outcome) -> None:
    """Write ``o`` as its model's row of run ``run_id`` (one transaction)."""
    ledger.record(
        run_id,
        o.name,
        tournament=int(o.tournament),
        round_number=o.round_number,
        stage=o.stage,
        status=str(o.status),
        model_id=o.model_id,
        error=o.error,
        submission_id=o.submission_id,
        checksum=o.checksum,
        timings=o.timings,
        late=o.late,
        output=o.output,
    )
