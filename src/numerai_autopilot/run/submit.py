"""The submit stages: validate, look once more, upload, and confirm through the API.

Before the first upload of a run, one request asks whether any pending model got a submission
for its round since the plan (another process, the web UI): that model is not submitted again.
After the uploads, one request confirms each is listed, reports a second submission in the
round, and takes "late" from the server's own status.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence

import pandas as pd

from .. import logctx
from ..client import SubmissionInfo
from ..clock import format_time
from ..errors import NumeraiError, PredictionInvalidError
from .check_stats import describe, keep_csv
from .context import RunContext
from .job import Job
from .report import Status
from .validate import build_submission

log = logging.getLogger(__name__)


def _real(s: SubmissionInfo, round_number: int | None) -> bool:
    """A stored submission for that round: not the "none" placeholder latestSubmissions lists
    for a round without one (no id), nor a doubtful entry. A selected one a second look found
    in ``model.submissions`` has an id and no status: it counts."""
    if s.doubt or s.id is None or s.round_number != round_number:
        return False
    return s.status != "none"


class Submitter:
    """Owns the uploads of one run: what was uploaded, and the one look before the first."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.uploaded: list[Job] = []
        self._fresh: Mapping[str, Sequence[SubmissionInfo]] | None = None

    def submit(self, job: Job, preds: pd.Series) -> None:
        """Validate ``job``'s predictions and, unless checking, upload them (once)."""
        with logctx.bind(model=job.name):  # every line logged meanwhile is about this model
            self._submit(job, preds)

    def _submit(self, job: Job, preds: pd.Series) -> None:
        ctx, o, entry = self.ctx, job.outcome, job.entry
        model_id = entry.upload_to
        if model_id is None or job.live_ids is None:
            return  # a blend-only part: its predictions feed its blend, nothing is uploaded
        with ctx.timer.stage("validate"):
            try:
                sub = build_submission(job.tournament, preds, job.live_ids, rank=entry.spec.rank)
            except PredictionInvalidError as exc:
                ctx.fail(o, "validate", str(exc))
                return
        data = sub.to_csv(index=False).encode()
        o.checksum = hashlib.sha256(data).hexdigest()
        if ctx.check:
            o.stats = describe(sub, job.example)
            if ctx.keep_dir is not None:
                keep_csv(ctx.keep_dir, job.name, data)
            ctx.done(o, Status.CHECKED)
            return
        rnd = entry.round
        deadline = rnd.deadline()
        if deadline is not None and ctx.now() >= deadline:
            if ctx.late == "skip":
                ctx.fail(
                    o,
                    "upload",
                    f"round {rnd.number} closed at {format_time(deadline)} before the "
                    "predictions were ready; not submitted late (late policy 'skip'; "
                    "--late submit sends it and Numerai counts it as late)",
                )
                return
            o.late = True
        doubt = self._doubt(model_id)
        if doubt is not None:
            ctx.fail(
                o,
                "upload",
                f"the API cannot say whether {o.name!r} was submitted for round {rnd.number} "
                f"since the plan ({doubt}); not submitted, so as never to submit twice: the "
                "next run asks again",
            )
            return
        meanwhile = self._submitted_meanwhile(model_id, rnd.number)
        if meanwhile is not None:
            log.warning(
                "model %s got submission %s for round %d after this run planned: not "
                "submitting again",
                o.name,
                meanwhile.id,
                rnd.number,
            )
            o.submission_id = meanwhile.id
            ctx.done(o, Status.ALREADY)
            return
        o.stage = "upload"
        ctx.record(o)
        with ctx.timer.stage("upload"):
            try:
                o.submission_id = ctx.client.upload_submission(
                    model_id=model_id,
                    tournament=job.tournament,
                    round_number=rnd.number,
                    data=data,
                    filename=f"{o.name}_round{rnd.number}.csv",
                    trigger_id=ctx.trigger_id,
                )
            except NumeraiError as exc:
                ctx.fail(o, "upload", str(exc))
                return
        if deadline is not None and ctx.now() >= deadline:
            o.late = True  # the round closed while uploading: Numerai stores it as late
        self.uploaded.append(job)
        ctx.done(o, Status.SUBMITTED)

    def _submitted_meanwhile(self, model_id: str, round_number: int) -> SubmissionInfo | None:
        """The submission the model got for the round since the plan, if any. The first call
        asks the API (one request for every model); an unanswered look does not stop uploads:
        the plan said nothing was there, and confirm looks again."""
        if self._fresh is None:
            try:
                self._fresh = self.ctx.client.latest_submissions()
            except NumeraiError as exc:
                log.warning("could not look for new submissions before uploading: %s", exc)
                self._fresh = {}
        return next((s for s in self._fresh.get(model_id, ()) if _real(s, round_number)), None)

    def _doubt(self, model_id: str) -> str | None:
        """Why the look before uploading cannot be trusted for this model (a null or unknown
        status a second look did not settle), else None."""
        self._submitted_meanwhile(model_id, 0)  # the one look, shared by every model
        entries = (self._fresh or {}).get(model_id, ())
        return next((s.doubt for s in entries if s.doubt), None)

    def confirm(self) -> None:
        """Ask the API, once, whether every upload of this run is listed for its round."""
        if not self.uploaded:
            return
        try:
            latest = self.ctx.client.latest_submissions()
        except NumeraiError as exc:
            log.warning("could not confirm uploads through the API: %s", exc)
            return
        for job in self.uploaded:
            o = job.outcome
            seen = [s for s in latest.get(o.model_id or "", []) if _real(s, o.round_number)]
            ours = [s for s in seen if s.id == o.submission_id]
            others = [s for s in seen if s.id != o.submission_id]
            if others:
                ids = ", ".join(str(s.id) for s in others)
                self.ctx.fail(
                    o,
                    "confirm",
                    f"a second submission for round {o.round_number}: the API lists {ids} "
                    f"besides this run's {o.submission_id}; another process submits for this "
                    "model (only the latest counts)",
                )
            elif not ours:
                self.ctx.fail(
                    o,
                    "confirm",
                    f"uploaded (submission {o.submission_id}) but the API does not list "
                    f"it for round {o.round_number}",
                )
            else:
                # The server's word wins over our clock: it decided when the round closed.
                said = {s.status for s in ours} & {"late", "on-time"}
                late = "late" in said if said else o.late
                if late != o.late:
                    o.late = late
                    self.ctx.record(o)
