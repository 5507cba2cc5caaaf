"""The model x round grid: the API's submissions of the last rounds merged with the ledger.

Pure: what the API said (rounds, the account's models, their latest submissions), what the
ledger recorded, and the time, in; a :class:`Grid` out. The API is the truth about what was
submitted; the ledger says why a round without a submission has none (a failed stage and
its reason). One table per tournament: each has its own round numbers.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..client import AccountModel, RoundInfo, SubmissionInfo
from ..clock import format_time
from ..config import ModelSpec, name_key
from ..run.ledger import OutcomeRow
from ..tournaments import Tournament
from ._ledger_view import FAILURE, RoundRecord, decisive


class Mark(enum.StrEnum):
    ON_TIME = "on-time"
    LATE = "late"
    QUEUED = "queued"  # a late submission Numerai counts for the next round
    SUBMITTED = "submitted"  # listed, but the answer did not say whether on time
    FAILED = "failed"  # no submission; the ledger says at which stage and why
    MISSING = "missing"  # the round closed without a submission, and no run failed it
    DUE = "due"  # the round is open (or announced) and has no submission yet
    UNKNOWN = "unknown"  # the API's answer cannot say
    NOT_CONFIGURED = "not-configured"  # no submission, and not in the models file to make one


SUBMITTED_MARKS = frozenset({Mark.ON_TIME, Mark.LATE, Mark.QUEUED, Mark.SUBMITTED})
_BY_STATUS = {"on-time": Mark.ON_TIME, "late": Mark.LATE, "queued": Mark.QUEUED}


@dataclass(frozen=True)
class Cell:
    round: int
    mark: Mark
    stage: str | None = None
    reason: str | None = None
    submission_id: str | None = None
    timestamp: datetime | None = None
    run_id: str | None = None
    attempts: int = 0
    """Runs of this tool that worked on this model in this round (idle runs not counted)."""

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["mark"] = str(self.mark)
        d["timestamp"] = format_time(self.timestamp) if self.timestamp else None
        return d


@dataclass(frozen=True)
class Row:
    model: str
    tournament: Tournament
    configured: bool
    in_account: bool
    note: str | None
    cells: tuple[Cell, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "tournament": self.tournament.label,
            "configured": self.configured,
            "in_account": self.in_account,
            "note": self.note,
            "cells": [c.to_json() for c in self.cells],
        }


@dataclass(frozen=True)
class Section:
    """One tournament's table: its rounds, oldest first, and a row per model."""

    tournament: Tournament
    rounds: tuple[int, ...]
    current: RoundInfo | None
    rows: tuple[Row, ...]

    def to_json(self) -> dict[str, Any]:
        r = self.current
        return {
            "tournament": self.tournament.label,
            "rounds": list(self.rounds),
            "current": None
            if r is None
            else {
                "number": r.number,
                "open_time": format_time(r.open_time),
                "deadline": format_time(d) if (d := r.deadline()) else None,
            },
            "rows": [row.to_json() for row in self.rows],
        }


@dataclass(frozen=True)
class Grid:
    sections: tuple[Section, ...]
    taken_at: datetime
    requests: int = 1
    """API requests it took (1 unless a fallback or a second look was needed)."""
    problems: list[str] = field(default_factory=list)
    """``model: why`` for each configured model the account cannot take submissions for."""

    def failures(self) -> list[tuple[Row, Cell]]:
        """Every failed cell, newest round first."""
        found = [(row, c) for s in self.sections for row in s.rows for c in row.cells]
        failed = [(row, c) for row, c in found if c.mark is Mark.FAILED]
        return sorted(failed, key=lambda rc: (-rc[1].round, rc[0].model))

    def to_json(self) -> dict[str, Any]:
        return {
            "taken_at": format_time(self.taken_at),
            "api_requests": self.requests,
            "problems": list(self.problems),
            "sections": [s.to_json() for s in self.sections],
        }


LedgerRows = Callable[[int, int, int], Sequence[OutcomeRow]]
"""(tournament, first round, last round) -> the ledger's rows, oldest first."""


def build_grid(
    specs: Sequence[ModelSpec],
    account: Sequence[AccountModel],
    latest: Mapping[str, Sequence[SubmissionInfo]],
    rounds: Mapping[Tournament, RoundInfo | None],
    ledger_rows: LedgerRows,
    *,
    now: datetime,
    n: int,
    requests: int = 1,
) -> Grid:
    """The last ``n`` rounds of every tournament with a configured or an account model."""
    by_key = {(name_key(m.name), m.tournament): m for m in account}
    tournaments = sorted({s.tournament for s in specs} | {m.tournament for m in account})
    sections = []
    for t in tournaments:
        specs_t = [s for s in specs if s.tournament is t]
        configured = {name_key(s.name) for s in specs_t}
        extra = sorted(
            (m for m in account if m.tournament is t and name_key(m.name) not in configured),
            key=lambda m: name_key(m.name),
        )
        own = [latest.get(m.id, ()) for m in account if m.tournament is t]
        newest = _newest_round(rounds.get(t), own)
        if newest is None:
            sections.append(Section(t, (), rounds.get(t), ()))
            continue
        cols = tuple(range(max(newest - n + 1, 1), newest + 1))
        records = decisive(ledger_rows(int(t), cols[0], cols[-1]))
        live = _live_round(rounds.get(t), now)
        pairs: list[tuple[str, ModelSpec | None, AccountModel | None]] = [
            (s.name, s, by_key.get((name_key(s.name), t))) for s in specs_t
        ]
        pairs += [(m.name, None, m) for m in extra]
        rows = [
            _row(
                name, t, spec=spec, acct=acct, latest=latest, records=records, cols=cols, live=live
            )
            for name, spec, acct in pairs
        ]
        sections.append(Section(t, cols, rounds.get(t), tuple(rows)))
    return Grid(tuple(sections), now, requests)


def _newest_round(
    current: RoundInfo | None, entries: Sequence[Sequence[SubmissionInfo]]
) -> int | None:
    if current is not None:
        return current.number
    numbers = [s.round_number for subs in entries for s in subs if s.round_number is not None]
    return max(numbers, default=None)


def _live_round(current: RoundInfo | None, now: datetime) -> int | None:
    """The round still to be submitted for: open, or announced and not yet open."""
    if current is None:
        return None
    deadline = current.deadline()
    return current.number if deadline is None or now < deadline else None


def _row(
    name: str,
    t: Tournament,
    *,
    spec: ModelSpec | None,
    acct: AccountModel | None,
    latest: Mapping[str, Sequence[SubmissionInfo]],
    records: Mapping[tuple[str, int], RoundRecord],
    cols: Sequence[int],
    live: int | None,
) -> Row:
    entries = list(latest.get(acct.id, ())) if acct else []
    by_round: dict[int, SubmissionInfo] = {}
    for s in entries:
        if s.round_number is not None and (s.round_number not in by_round or s.status != "none"):
            by_round[s.round_number] = s
    unsure = next((s.doubt for s in entries if s.doubt and s.round_number is None), None)
    enabled = spec is not None and spec.enabled
    note = None
    if spec is None:
        note = "not in the models file"
    elif acct is None:
        note = "not in the account"
    elif not spec.enabled:
        note = "enabled = false (a blend part)"
    elif acct.model_upload is not None:
        note = "a Numerai Model Upload submits for it"
    cells = []
    for r in cols:
        rec = records.get((name_key(name), r))
        sub = by_round.get(r)
        cells.append(_cell(r, sub, rec=rec, unsure=unsure, enabled=enabled, live=r == live))
    return Row(name, t, spec is not None, acct is not None, note, tuple(cells))


def _cell(
    r: int,
    sub: SubmissionInfo | None,
    *,
    rec: RoundRecord | None,
    unsure: str | None,
    enabled: bool,
    live: bool,
) -> Cell:
    ledger: dict[str, Any] = (
        {"run_id": rec.run_id, "attempts": rec.attempts} if rec is not None else {}
    )
    if sub is not None and sub.doubt:
        return Cell(r, Mark.UNKNOWN, reason=sub.doubt, **ledger)
    if sub is not None and sub.status != "none":
        mark = _BY_STATUS.get(sub.status or "", Mark.SUBMITTED)
        return Cell(r, mark, submission_id=sub.id, timestamp=sub.timestamp, **ledger)
    if sub is None and unsure is not None:
        return Cell(r, Mark.UNKNOWN, reason=unsure, **ledger)
    if rec is not None and rec.status in FAILURE:
        return Cell(r, Mark.FAILED, stage=rec.stage, reason=rec.error, **ledger)
    if not enabled:
        return Cell(r, Mark.NOT_CONFIGURED, **ledger)
    if live:
        return Cell(r, Mark.DUE, **ledger)
    reason = None
    if rec is not None and rec.submission_id:
        reason = f"the ledger records submission {rec.submission_id}; the API lists none"
    return Cell(r, Mark.MISSING, reason=reason, **ledger)
