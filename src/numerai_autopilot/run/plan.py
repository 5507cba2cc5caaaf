"""Planning: which configured models are due this round, and which data files they need.

Pure functions over what the API said (rounds, the account's models, their latest
submissions): no I/O here, so every rule is easy to test and `plan` has no side effects.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
    DISABLED = "disabled"


@dataclass(frozen=True)
class PlannedModel:
    spec: ModelSpec
    state: State
    model_id: str | None = None
    round: RoundInfo | None = None
    submission: SubmissionInfo | None = None
    reason: str | None = None
    predict: bool = False
    """Predictions are needed: the model is pending, or a component of a pending blend."""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def upload(self) -> bool:
        return self.state is State.PENDING


@dataclass(frozen=True)
class Plan:
    models: list[PlannedModel]
    rounds: Mapping[Tournament, RoundInfo | None]
    notes: list[str] = field(default_factory=list)

    @property
    def pending(self) -> list[PlannedModel]:
        return [m for m in self.models if m.state is State.PENDING]

    @property
    def to_predict(self) -> list[PlannedModel]:
        return [m for m in self.models if m.predict]

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

    planned: dict[str, PlannedModel] = {}
    for spec in specs:
        if not spec.enabled:
            planned[spec.name] = PlannedModel(spec, State.DISABLED, reason="enabled = false")
            continue
        found = by_key.get((name_key(spec.name), spec.tournament), {})
        conflict = _conflict(spec, found, names_of)
        if conflict is not None:
            planned[spec.name] = PlannedModel(spec, State.CONFLICT, reason=conflict)
            continue
        acct = next(iter(found.values()), None)
        if acct is None:
            others = by_name.get(name_key(spec.name))
            if others:
                where = ", ".join(sorted(o.tournament.label for o in others))
                reason = (
                    f"model {spec.name!r} is in {where}, not {spec.tournament.label}: "
                    "fix 'tournament' in the models file"
                )
            else:
                reason = (
                    f"no model named {spec.name!r} in this account's "
                    f"{spec.tournament.label} models: check the name in the models file"
                )
            planned[spec.name] = PlannedModel(spec, State.UNKNOWN_MODEL, reason=reason)
            continue
        rnd = rounds.get(spec.tournament)
        if rnd is None or not now_open.get(spec.tournament, False):
            planned[spec.name] = PlannedModel(
                spec,
                State.NO_ROUND,
                model_id=acct.id,
                round=rnd,
                reason=f"no {spec.tournament.label} round is open",
            )
            continue
        entries = latest.get(acct.id, ())
        doubt = next((s.doubt for s in entries if s.doubt), None)
        done = next(
            (s for s in entries if s.round_number == rnd.number and s.status != "none"), None
        )
        if doubt is not None:
            planned[spec.name] = PlannedModel(
                spec,
                State.UNSURE,
                model_id=acct.id,
                round=rnd,
                reason=(
                    f"the API cannot say whether {spec.name!r} already submitted "
                    f"{spec.tournament.label} round {rnd.number} ({doubt}); not submitted, "
                    "so as never to submit twice: the next run asks again"
                ),
            )
        elif done is not None:
            planned[spec.name] = PlannedModel(
                spec, State.SUBMITTED, model_id=acct.id, round=rnd, submission=done
            )
        else:
            planned[spec.name] = PlannedModel(
                spec, State.PENDING, model_id=acct.id, round=rnd, predict=True
            )

    # Components of a pending blend predict too, whatever their own state: already submitted,
    # or disabled (an entry with enabled = false is a blend-only component, never submitted).
    for p in list(planned.values()):
        if p.state is State.PENDING and p.spec.blend:
            for comp in p.spec.blend:
                if not planned[comp].predict:
                    planned[comp] = _with_predict(planned[comp])
    return Plan(models=[planned[s.name] for s in specs], rounds=dict(rounds))


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


def _with_predict(p: PlannedModel) -> PlannedModel:
    return PlannedModel(p.spec, p.state, p.model_id, p.round, p.submission, p.reason, predict=True)
