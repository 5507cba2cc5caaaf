"""How the sandbox's records read in a GraphQL answer: rounds and submissions shaped as Numerai
shapes them, times in the caller's format; and the context every resolver is given."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .core import Caller, SandboxCore
from .rounds import Round
from .state import Submission


@dataclass
class Context:
    """What each resolver is given: the core, and who calls (their key, their time format)."""

    core: SandboxCore
    caller: Caller


def round_view(ctx: Context, rnd: Round) -> dict[str, Any]:
    now = ctx.core.clock.now()
    return {
        "number": rnd.number,
        "tournament": rnd.tournament,
        "openTime": ctx.caller.time(rnd.open_time),
        "closeTime": ctx.caller.time(rnd.close_time),
        "closeStakingTime": ctx.caller.time(rnd.close_staking_time),
        "resolveTime": ctx.caller.time(rnd.close_time + dt.timedelta(days=31)),
        "resolvedGeneral": False,
        "resolvedStaking": rnd.close_staking_time <= now,
    }


def submission_view(ctx: Context, sub: Submission) -> dict[str, Any]:
    return {
        "id": sub.id,
        "filename": sub.filename,
        "insertedAt": ctx.caller.time(sub.inserted_at),
        "selected": sub.selected,
        "status": None,  # deprecated on V2Submission: "Always nil"
        "triggerId": sub.trigger_id,
        "firstEffectiveDate": None,  # deprecated: "Always nil"
        "round": round_view(ctx, ctx.core.rounds.get(sub.tournament, sub.round)),
    }
