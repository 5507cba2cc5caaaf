"""What the client returns: plain frozen records, parsed and typed at the boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..tournaments import Tournament


@dataclass(frozen=True)
class RoundInfo:
    """One round of one tournament, times in aware UTC."""

    tournament: Tournament
    number: int
    open_time: datetime
    close_time: datetime | None
    close_staking_time: datetime | None

    def deadline(self) -> datetime | None:
        """The submission deadline: ``closeStakingTime`` (numerapi's choice), else ``closeTime``."""
        return self.close_staking_time or self.close_time

    def is_open(self, now: datetime) -> bool:
        """True when ``now`` is at or after the open time and before the deadline (if any)."""
        if now < self.open_time:
            return False
        deadline = self.deadline()
        return deadline is None or now < deadline


@dataclass(frozen=True)
class AccountModel:
    """A model of the account the API key belongs to."""

    id: str
    name: str
    tournament: Tournament
    model_upload: str | None = None
    """The id of the Model Upload (pickle) Numerai runs for it; such a model cannot submit
    through the API. None when it has none, or when the answer did not say."""


@dataclass(frozen=True)
class SubmissionInfo:
    """One submission as the API describes it; fields the API did not send are None."""

    id: str | None
    model_id: str
    round_number: int | None
    filename: str | None
    status: str | None
    """on-time, late, queued or none (``latestSubmissions``); None from the per-model fallback."""
    timestamp: datetime | None
    doubt: str | None = None
    """Why this entry cannot say whether the model submitted (a null id, round number or
    status, an unknown status): such a model is neither submitted nor due until a second look
    settles it. A model whose only entry has a doubt could not be settled: do not upload."""


KNOWN_STATUSES = frozenset({"on-time", "late", "queued", "none"})
"""The ``latestSubmissions`` statuses whose meaning is known ("none": no submission)."""
