"""What one look at the account says about each of its models this round: pure functions over
the snapshot (one API request), so every rule is easy to test."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..client import AccountModel, RoundInfo, SubmissionInfo
from ..config import ModelSpec, name_key
from ..tournaments import Tournament


class Kind(enum.StrEnum):
    """What this tool knows of a model of the account."""

    MODEL_UPLOAD = "model-upload"  # Numerai runs a Model Upload (pickle) for it
    CONFIGURED = "configured"  # an entry of the models file here
    UNKNOWN = "unknown"  # neither: it submits from somewhere else, or not at all


class Watch(enum.StrEnum):
    SUBMITTED = "submitted"  # a submission for the open round
    PENDING = "pending"  # none yet, but more than the margin is left
    MISSING = "missing"  # none, and the close is within the margin (or past): alert
    UNSURE = "unsure"  # the API's answer cannot say (a second look did not settle it)
    NO_ROUND = "no-round"  # no round open in its tournament


@dataclass(frozen=True)
class WatchedModel:
    """One model of the account as one look saw it."""

    name: str
    model_id: str
    tournament: Tournament
    kind: Kind
    state: Watch
    round: int | None = None
    deadline: datetime | None = None
    submission: str | None = None
    """The submission's status for the round (on-time, late, queued) when it has one."""
    upload_id: str | None = None
    """The Model Upload's id, for a model Numerai runs from a pickle."""

    @property
    def describe(self) -> str:
        """The model as an alert names it: name, tournament and what is known of it."""
        what = {
            Kind.MODEL_UPLOAD: f"a Numerai Model Upload ({self.upload_id})",
            Kind.CONFIGURED: "configured here",
            Kind.UNKNOWN: "not configured here, no Model Upload",
        }[self.kind]
        return f"{self.name} ({self.tournament.label}, {what})"


def look(
    models: Sequence[AccountModel],
    rounds: Mapping[Tournament, RoundInfo | None],
    latest: Mapping[str, Sequence[SubmissionInfo]],
    configured: Sequence[ModelSpec],
    *,
    now: datetime,
    margin: float,
) -> list[WatchedModel]:
    """Each model of the account in the tournaments of ``rounds``, by tournament then name.
    A model is MISSING when its tournament's round is open, it has no submission for it, and
    its deadline is less than ``margin`` seconds away."""
    mine = {(name_key(s.name), s.tournament) for s in configured}
    out = []
    for m in sorted(models, key=lambda m: (int(m.tournament), name_key(m.name))):
        if m.tournament not in rounds:
            continue
        kind = (
            Kind.MODEL_UPLOAD
            if m.model_upload is not None
            else Kind.CONFIGURED
            if (name_key(m.name), m.tournament) in mine
            else Kind.UNKNOWN
        )
        rnd = rounds[m.tournament]
        state, status = _state(m, rnd, latest.get(m.id, ()), now, margin)
        is_open = state is not Watch.NO_ROUND and rnd is not None
        out.append(
            WatchedModel(
                m.name,
                m.id,
                m.tournament,
                kind,
                state,
                round=rnd.number if is_open and rnd is not None else None,
                deadline=rnd.deadline() if is_open and rnd is not None else None,
                submission=status,
                upload_id=m.model_upload,
            )
        )
    return out


def _state(
    m: AccountModel,
    rnd: RoundInfo | None,
    entries: Sequence[SubmissionInfo],
    now: datetime,
    margin: float,
) -> tuple[Watch, str | None]:
    if rnd is None or not rnd.is_open(now):
        return Watch.NO_ROUND, None
    done = next((s for s in entries if s.round_number == rnd.number and s.status != "none"), None)
    if done is not None:
        return Watch.SUBMITTED, done.status
    if any(s.doubt for s in entries):
        return Watch.UNSURE, None
    deadline = rnd.deadline()
    if deadline is not None and now >= deadline - timedelta(seconds=margin):
        return Watch.MISSING, None
    return Watch.PENDING, None
