"""One due model on its way through the stages: its plan entry, resolved artifact, outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..tournaments import Tournament
from .plan import Due
from .report import Outcome
from .resolve import Resolved

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Job:
    entry: Due
    resolved: Resolved
    outcome: Outcome
    live_ids: pd.Index | None = None
    """The live ids its predictions must cover (set when its group's data is loaded)."""
    example: pd.Series | None = None
    """``models check``: the data version's example predictions by id, to compare with."""

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def tournament(self) -> Tournament:
        return self.entry.spec.tournament

    @property
    def is_blend(self) -> bool:
        return self.resolved.fmt == "blend"
