"""What the ledger says about one model in one round, across every run that touched it.

A round is worked on by many runs: the one that submitted, those that failed before it, and
the idle ones after its close (their "skipped" rows are left out by the ledger query). The
decisive record is the submission if one was made, else the newest failure, else the newest
row: so an idle run never hides what happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..config import name_key
from ..run.ledger import Ledger, OutcomeRow

SUCCESS = ("submitted", "already")
FAILURE = ("failed", "interrupted")


@dataclass(frozen=True)
class RoundRecord:
    """One model's round as the ledger tells it."""

    model: str
    tournament: int
    round: int
    status: str
    """submitted, already, failed, interrupted (or another status a run recorded)."""
    stage: str
    error: str | None
    submission_id: str | None
    late: bool
    run_id: str
    """The run whose row decided: the one that submitted, or the newest failure."""
    attempts: int
    """How many runs recorded this model in this round (idle runs not counted)."""
    failures: int
    updated_at: str

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def decisive(rows: Iterable[OutcomeRow]) -> dict[tuple[str, int], RoundRecord]:
    """``(name_key(model), round)`` -> its record, from ledger rows given oldest first."""
    grouped: dict[tuple[str, int], list[OutcomeRow]] = {}
    for row in rows:
        if row.round is not None:
            grouped.setdefault((name_key(row.model), row.round), []).append(row)
    out: dict[tuple[str, int], RoundRecord] = {}
    for key, group in grouped.items():
        submitted = [r for r in group if r.status == "submitted"]
        already = [r for r in group if r.status == "already"]
        failed = [r for r in group if r.status in FAILURE]
        pick = (submitted[:1] or already[-1:] or failed[-1:] or group[-1:])[0]
        out[key] = RoundRecord(
            model=pick.model,
            tournament=pick.tournament,
            round=key[1],
            status=pick.status,
            stage=pick.stage,
            error=pick.error if pick.status not in SUCCESS else None,
            submission_id=pick.submission_id,
            late=pick.late,
            run_id=pick.run_id,
            attempts=len({r.run_id for r in group}),
            failures=len(failed),
            updated_at=pick.updated_at,
        )
    return out


def round_history(ledger: Ledger, rounds: int, model: str | None = None) -> list[RoundRecord]:
    """The decisive record of each model in each of the last ``rounds`` rounds the ledger
    knows per tournament, newest round first (only ``model``'s when given)."""
    out: list[RoundRecord] = []
    for t, newest in sorted(ledger.newest_rounds().items()):
        found = decisive(ledger.round_outcomes(t, max(newest - rounds + 1, 1), newest))
        out += [r for r in found.values() if model is None or name_key(r.model) == name_key(model)]
    return sorted(out, key=lambda r: (r.tournament, -r.round, name_key(r.model)))
