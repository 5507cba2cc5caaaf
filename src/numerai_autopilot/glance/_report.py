"""`report --html` and `serve`'s ``/``: the page from the API (one request) and the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..client import NumeraiClient
from ..config import ModelSpec
from ..errors import NumeraiError
from ..run.ledger import Ledger
from ._grid import Grid
from ._look import DEFAULT_ROUNDS, look
from ._page import render_page

DEFAULT_RUNS = 20


@dataclass(frozen=True)
class Report:
    html: str
    grid: Grid | None
    error: NumeraiError | None
    """Why the grid is missing: the API could not be read (the page says so too)."""


def report_page(
    client: NumeraiClient,
    specs: Sequence[ModelSpec],
    state_dir: Path,
    now: datetime,
    *,
    rounds: int = DEFAULT_ROUNDS,
    runs: int = DEFAULT_RUNS,
) -> Report:
    """The report page of the last ``rounds`` rounds and ``runs`` runs. An API failure does
    not stop it: the page shows the ledger's part and names the error."""
    grid: Grid | None = None
    error: NumeraiError | None = None
    try:
        grid = look(client, specs, state_dir, now, rounds).grid
    except NumeraiError as exc:
        error = exc
    with Ledger(state_dir) as ledger:
        last = ledger.runs(runs)
    results = {r.id: r.result for r in last}
    html = render_page(
        grid, last, now=now, results=results, error=None if error is None else str(error)
    )
    return Report(html, grid, error)
