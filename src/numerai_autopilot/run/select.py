"""Which entries a run looks at: ``--model`` selections, and everything for `models check`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..config import ModelsConfig, ModelSpec
from ..errors import ConfigError
from .plan import Due, Entry, NotDue, Plan, State, with_blend_parts


def select(
    models: ModelsConfig, only: Sequence[str] | None, *, whole: ModelsConfig | None = None
) -> list[ModelSpec]:
    """The entries named in ``only`` (all when empty), with the parts of selected blends kept
    as disabled entries so they can be predicted for their blend. ``whole``: the whole models
    file when ``models`` is one shard's share of it (for a message naming the shard)."""
    specs = models.models
    if not only:
        return list(specs)
    names = set(only)
    unknown = names - {s.name for s in specs}
    elsewhere = unknown & {s.name for s in whole.models} if whole is not None else set()
    if elsewhere:
        raise ConfigError(
            f"not in this shard's share of {models.path}: {', '.join(sorted(elsewhere))} "
            "(run it from its own shard, or without --shard / NUMERAI_SHARD)"
        )
    if unknown:
        raise ConfigError(
            f"not in {models.path}: {', '.join(sorted(unknown))} (check --model names)"
        )
    wanted = set(names)
    for s in specs:
        if s.name in names and s.blend:
            wanted |= set(s.blend)
    return [s if s.name in names else replace(s, enabled=False) for s in specs if s.name in wanted]


def all_to_predict(plan: Plan) -> Plan:
    """For `models check`: every enabled model the account knows predicts on its tournament's
    current live data, submitted or not; nothing is uploaded. A name the account does not know
    stays failed (as the run fails it); disabled entries predict only as blend parts."""
    models: list[Entry] = []
    for m in plan.models:
        rnd = plan.rounds.get(m.spec.tournament)
        # A Model Upload's model stays failed too: run fails it, whatever its artifact does.
        known = m.model_id is not None and m.state not in (State.DISABLED, State.MODEL_UPLOAD)
        if known and rnd is not None and (isinstance(m, NotDue) or not m.upload):
            models.append(Due(m.spec, State.PENDING, rnd, m.model_id, m.submission, m.reason))
        elif isinstance(m, Due) and not m.upload:
            models.append(NotDue(m.spec, m.state, m.model_id, None, m.submission, m.reason))
        else:
            models.append(m)
    return Plan(models=with_blend_parts(models), rounds=plan.rounds, notes=plan.notes)
