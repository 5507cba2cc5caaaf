"""A second look at a model whose ``latestSubmissions`` entry cannot be trusted.

A null id, round number or status, or a status this tool does not know, says nothing safe
about whether the model submitted: read as "nothing submitted" it would submit again, read as
"submitted" it would miss the round. So that model alone is asked again through the per-model
query (``model(modelId) { submissions }``, only selected ones count); when that answer is no
better, the model keeps one entry whose ``doubt`` says why, and the plan fails it this run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..errors import NumeraiError
from ._types import AccountModel, SubmissionInfo

if TYPE_CHECKING:
    from ._client import NumeraiClient

log = logging.getLogger(__name__)


def settle(
    client: NumeraiClient,
    latest: Mapping[str, list[SubmissionInfo]],
    models: Sequence[AccountModel],
) -> tuple[dict[str, list[SubmissionInfo]], int]:
    """``latest`` with every doubtful model's entries replaced by its second look (or by one
    entry with a ``doubt``), and how many requests the second looks took. ``models``: the
    account's models of the same answer (their tournament is the second look's filter)."""
    known = {m.id: m for m in models}
    out = dict(latest)
    requests = 0
    for model_id, subs in latest.items():
        doubts = sorted({s.doubt for s in subs if s.doubt})
        if not doubts:
            continue
        why = "; ".join(doubts)
        model = known.get(model_id)
        log.warning(
            "model %s (%s): latestSubmissions cannot say whether it submitted (%s): asking "
            "model.submissions",
            model.name if model else "?",
            model_id,
            why,
        )
        if model is None:
            continue  # a model of a tournament this tool does not know: never planned
        requests += 1
        try:
            second = client.model_submissions(model_id, model.tournament)
        except NumeraiError as exc:
            out[model_id] = [unsure(model_id, f"{why}; the second look failed: {exc}")]
            continue
        still = sorted({s.doubt for s in second if s.doubt})
        if still:
            out[model_id] = [unsure(model_id, f"{why}; model.submissions too: {'; '.join(still)}")]
        else:
            out[model_id] = second
    return out, requests


def unsure(model_id: str, doubt: str) -> SubmissionInfo:
    """The one entry of a model whose submissions could not be established."""
    return SubmissionInfo(None, model_id, None, None, None, None, doubt=doubt)
