"""Planning: which configured models are due this round, and which data files they need.

Pure functions over what the API said (rounds, the account's models, their latest
submissions): no I/O here, so every rule is easy to test and `plan` has no side effects.

Each entry is :class:`Due` (it predicts this run, always in a known open round) or
:class:`NotDue` (nothing to do, with the reason): the types carry what each stage may rely on.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

from ..client import AccountModel, RoundInfo, SubmissionInfo
from ..config import ModelSpec, name_key
from ..tournaments import Tournament


class State(enum.StrEnum):
    PENDING = "pending"  # due: no submission for the current round yet
    SUBMITTED = "submitted"  # the API has a submission for the current round
    NO_ROUND = "no-round"  # no round open in its tournament
    UNKNOWN_MODEL = "unknown-model"  # no model of that name in the account
    CONFLICT = "conflict"  # the account lists its name for two ids (or its id for two names)
    UNSURE = "unsure"  # the API's answer cannot say whether it already submitted
    MODEL_UPLOAD = "model-upload"  # Numerai runs a Model Upload (pickle) for it
    DISABLED = "disabled"


@dataclass(frozen=True)
class Due:
    """A model that predicts this run: pending itself, or a part of a pending blend (then
    ``state`` is its own state, SUBMITTED or DISABLED, and nothing is uploaded for it)."""

    spec: ModelSpec
    state: State
    round: RoundInfo
    """The round it predicts for (a blend part: its blend's round)."""
    model_id: str | None = None
    submission: SubmissionInfo | None = None
    reason: str | None = None
    problem: str | None = None
    """What would fail it, known before any data is read (see :mod:`.checks`)."""
    predict: ClassVar[bool] = True

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def upload_to(self) -> str | None:
        """The model id its predictions are uploaded to; None for a blend-only part."""
        return self.model_id if self.state is State.PENDING else None

    @property
    def upload(self) -> bool:
        return self.upload_to is not None


@dataclass(frozen=True)
class NotDue:
    """A model with nothing to do this run; ``reason`` says why when it is not obvious."""

    spec: ModelSpec
    state: State
    model_id: str | None = None
    round: RoundInfo | None = None
    submission: SubmissionInfo | None = None
    reason: str | None = None
    problem: str | None = None
    predict: ClassVar[bool] = False
    upload: ClassVar[bool] = False

    @property
    def name(self) -> str:
        return self.spec.name


Entry = Due | NotDue
PlannedModel = Entry
"""The older name of a plan entry."""


@dataclass(frozen=True)
class Plan:
    models: list[Entry]
    rounds: Mapping[Tournament, RoundInfo | None]
    notes: list[str] = field(default_factory=list)

    @property
    def pending(self) -> list[Due]:
        return [m for m in self.models if isinstance(m, Due) and m.upload]

    @property
    def to_predict(self) -> list[Due]:
        return [m for m in self.models if isinstance(m, Due)]

    @property
    def problems(self) -> list[tuple[str, str]]:
        """(model, problem) for every entry that would fail: a due one that ``run`` would
        fail, or an enabled one the account does not know."""
        return [(m.name, m.problem) for m in self.models if m.problem is not None]

    def tournaments_to_predict(self) -> set[Tournament]:
        return {m.spec.tournament for m in self.to_predict}


def make_plan(
    specs: Sequence[ModelSpec],
    account_models: Sequence[AccountModel],
    rounds: Mapping[Tournament, RoundInfo | None],
    latest: Mapping[str, Sequence[SubmissionInfo]],
    now_open: Mapping[Tournament, bool],
) -> Plan:
    """Decide each configured model's state for the current round of its tournament.

    ``now_open`` says, per tournament, whether its current round accepts on-time submissions
    (the caller decides with its clock). A model counts as submitted when any of its latest
    submissions is for the current round number.
    """
    by_key: dict[tuple[str, Tournament], dict[str, AccountModel]] = {}
    by_name: dict[str, list[AccountModel]] = {}
    names_of: dict[str, set[str]] = {}
    for m in account_models:
        by_key.setdefault((name_key(m.name), m.tournament), {})[m.id] = m
        by_name.setdefault(name_key(m.name), []).append(m)
        names_of.setdefault(m.id, set()).add(name_key(m.name))

    planned: dict[str, Entry] = {}
    for spec in specs:
        planned[spec.name] = _entry(
            spec,
            by_key=by_key,
            by_name=by_name,
            names_of=names_of,
            rounds=rounds,
            latest=latest,
            now_open=now_open,
        )

    return Plan(models=with_blend_parts([planned[s.name] for s in specs]), rounds=dict(rounds))


def with_blend_parts(entries: Sequence[Entry]) -> list[Entry]:
    """``entries`` with the parts of every pending blend made due too, whatever their own
    state: already submitted, or disabled (an entry with enabled = false is a blend-only part,
    never submitted). They predict on the blend's round: a disabled part has none of its own."""
    planned = {e.name: e for e in entries}
    for p in entries:
        if isinstance(p, Due) and p.upload and p.spec.blend:
            for part in p.spec.blend:
                q = planned.get(part)
                if q is not None and not isinstance(q, Due):
                    planned[part] = Due(
                        q.spec, q.state, p.round, q.model_id, q.submission, q.reason
                    )
    return [planned[e.name] for e in entries]


def _entry(
    spec: ModelSpec,
    *,
    by_key: Mapping[tuple[str, Tournament], Mapping[str, AccountModel]],
    by_name: Mapping[str, list[AccountModel]],
    names_of: Mapping[str, set[str]],
    rounds: Mapping[Tournament, RoundInfo | None],
    latest: Mapping[str, Sequence[SubmissionInfo]],
    now_open: Mapping[Tournament, bool],
) -> Entry:
    if not spec.enabled:
        return NotDue(spec, State.DISABLED, reason="enabled = false")
    found = by_key.get((name_key(spec.name), spec.tournament), {})
    conflict = _conflict(spec, found, names_of)
    if conflict is not None:
        return NotDue(spec, State.CONFLICT, reason=conflict, problem=conflict)
    acct = next(iter(found.values()), None)
    if acct is None:
        reason = _unknown_reason(spec, by_name)
        return NotDue(spec, State.UNKNOWN_MODEL, reason=reason, problem=reason)
    if acct.model_upload is not None:
        # Numerai submits for it from the pickle and refuses API submissions for it.
        reason = (
            f"model {spec.name!r} runs a Numerai Model Upload (pickle {acct.model_upload}): "
            "Numerai submits for it and refuses API submissions; remove the entry (or set "
            "enabled = false), or delete the upload on numer.ai to submit from here"
        )
        return NotDue(spec, State.MODEL_UPLOAD, model_id=acct.id, reason=reason, problem=reason)
    rnd = rounds.get(spec.tournament)
    if rnd is None or not now_open.get(spec.tournament, False):
        return NotDue(
            spec,
            State.NO_ROUND,
            model_id=acct.id,
            round=rnd,
            reason=f"no {spec.tournament.label} round is open",
        )
    entries = latest.get(acct.id, ())
    doubt = next((s.doubt for s in entries if s.doubt), None)
    if doubt is not None:
        reason = (
            f"the API cannot say whether {spec.name!r} already submitted "
            f"{spec.tournament.label} round {rnd.number} ({doubt}); not submitted, "
            "so as never to submit twice: the next run asks again"
        )
        return NotDue(spec, State.UNSURE, model_id=acct.id, round=rnd, reason=reason)
    done = next((s for s in entries if s.round_number == rnd.number and s.status != "none"), None)
    if done is not None:
        return NotDue(spec, State.SUBMITTED, model_id=acct.id, round=rnd, submission=done)
    return Due(spec, State.PENDING, rnd, model_id=acct.id)


def _unknown_reason(spec: ModelSpec, by_name: Mapping[str, list[AccountModel]]) -> str:
    import difflib

    others = by_name.get(name_key(spec.name))
    if others:
        where = ", ".join(sorted(o.tournament.label for o in others))
        return (
            f"model {spec.name!r} is in {where}, not {spec.tournament.label}: "
            "fix 'tournament' in the models file"
        )
    t = spec.tournament
    same = sorted({m.name for ms in by_name.values() for m in ms if m.tournament is t})
    close = difflib.get_close_matches(spec.name, same, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"no model named {spec.name!r} in this account's {spec.tournament.label} models{hint}: "
        "check the name in the models file"
    )


def _conflict(
    spec: ModelSpec, found: Mapping[str, AccountModel], names_of: Mapping[str, set[str]]
) -> str | None:
    """Why the account's answer cannot tell which model ``spec`` is, or None. One name listed
    with two ids, or the id listed under two names: picking one could send one model's
    predictions to another, so neither is chosen."""
    where = f"{spec.tournament.label} models"
    if len(found) > 1:
        ids = ", ".join(sorted(found))
        return (
            f"the account's {where} list {spec.name!r} {len(found)} times, with ids {ids}: "
            "not submitted to any of them; check the account's models"
        )
    for model_id in found:
        if len(names_of.get(model_id, ())) > 1:
            names = ", ".join(sorted(names_of[model_id]))
            return (
                f"the account's {where} list id {model_id} of {spec.name!r} under several "
                f"names ({names}): not submitted; check the account's models"
            )
    return None


def with_problem(entry: Entry, problem: str | None) -> Entry:
    """``entry`` with ``problem`` set (the first one found wins)."""
    if problem is None or entry.problem is not None:
        return entry
    return replace(entry, problem=problem)
