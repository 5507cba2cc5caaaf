"""What a run did: one outcome per configured model, stage timings, and the exit code."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from ..client import RoundInfo
from ..clock import format_time
from ..tournaments import Tournament
from .ledger import Ledger
from .plan import PlannedModel, State


class Status(enum.StrEnum):
    SUBMITTED = "submitted"  # uploaded and confirmed this run
    ALREADY = "already"  # a submission for this round already existed: nothing to do
    FAILED = "failed"  # could not submit: see error
    SKIPPED = "skipped"  # nothing due (no round open, disabled)
    CHECKED = "checked"  # `models check`: predicted and validated, not uploaded


EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_ROUND = 0, 1, 2, 3

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
        return [o for o in self.outcomes if o.status is Status.FAILED]

    @property
    def exit_code(self) -> int:
        """0 all due submitted or nothing due; 1 some model failed; 3 no round open at all."""
        if self.failed:
            return EXIT_FAILED
        active = [o for o in self.outcomes if o.skip != "disabled"]
        if active and all(o.skip == "no-round" for o in active):
            return EXIT_NO_ROUND
        return EXIT_OK

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


def initial_outcome(m: PlannedModel) -> Outcome:
    """A model's outcome before any work: final for models with nothing to do; a pending model
    starts as failed ("not finished") so a run that dies mid-way reports it truthfully."""
    o = Outcome(
        m.name,
        m.spec.tournament,
        Status.FAILED,
        round_number=m.round.number if m.round else None,
        model_id=m.model_id,
    )
    if m.state is State.PENDING:
        o.error = "not finished (the run stopped before this model)"
    elif m.state is State.SUBMITTED:
        o.status, o.stage = Status.ALREADY, "done"
        o.submission_id = m.submission.id if m.submission else None
    elif m.state is State.NO_ROUND:
        o.status, o.skip, o.error = Status.SKIPPED, "no-round", m.reason
    elif m.state is State.DISABLED:
        o.status, o.skip = Status.SKIPPED, "disabled"
    else:
        o.error = m.reason
    return o


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
    )
