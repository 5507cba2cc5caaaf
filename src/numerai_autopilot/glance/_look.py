"""`status`: one API request (rounds and every model's last N rounds of submissions) and the
ledger, read into the grid and into each configured model's state this round."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ..client import NumeraiClient, take_snapshot
from ..config import ModelSpec, name_key
from ..run.ledger import Ledger
from ..run.plan import make_plan
from ._grid import Grid, build_grid
from ._ledger_view import decisive

DEFAULT_ROUNDS = 10
MAX_ROUNDS = 100


@dataclass(frozen=True)
class Glance:
    grid: Grid
    models: list[dict[str, Any]]
    """Each configured model this round: the API's state (``api``), the ledger's decisive
    outcome (``ledger``), the submission id and the error (the rows ``status`` always had)."""

    def to_json(self) -> dict[str, Any]:
        return {"models": self.models, **self.grid.to_json()}


def look(
    client: NumeraiClient,
    specs: Sequence[ModelSpec],
    state_dir: Path,
    now: datetime,
    rounds: int = DEFAULT_ROUNDS,
) -> Glance:
    """The grid of the last ``rounds`` rounds and this round's state of each model in ``specs``,
    from ONE API request in the common case (see :func:`~numerai_autopilot.client.take_snapshot`
    for the fallbacks) and the ledger in ``state_dir``."""
    tournaments = sorted({s.tournament for s in specs})
    snap = take_snapshot(client, tournaments, latest_rounds=rounds)
    with Ledger(state_dir) as ledger:
        grid = build_grid(
            specs,
            snap.models,
            snap.latest,
            snap.rounds,
            ledger.round_outcomes,
            now=now,
            n=rounds,
            requests=snap.requests,
        )
        now_open = {t: r is not None and r.is_open(now) for t, r in snap.rounds.items()}
        plan = make_plan(specs, snap.models, snap.rounds, snap.latest, now_open)
        # What would fail a model whatever the round (a typo, a Model Upload): said once.
        grid = replace(grid, problems=[f"{name}: {text}" for name, text in plan.problems])
        rows: list[dict[str, Any]] = []
        for m in plan.models:
            rec = None
            if m.round is not None:
                number = m.round.number
                found = decisive(ledger.round_outcomes(int(m.spec.tournament), number, number))
                rec = found.get((name_key(m.name), number))
            rows.append(
                {
                    "model": m.name,
                    "tournament": m.spec.tournament.label,
                    "round": m.round.number if m.round else None,
                    "api": str(m.state),
                    "ledger": rec.status if rec else None,
                    "submission": (m.submission.id if m.submission else None)
                    or (rec.submission_id if rec else None),
                    "error": rec.error if rec and rec.error else m.reason,
                }
            )
    return Glance(grid, rows)
