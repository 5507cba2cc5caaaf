"""What an alert says: which models failed and why, in a title and a short body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..redact import redact
from ..run.report import RunReport, Status

_MAX_BODY = 8000  # healthchecks.io keeps the first 10 kB of a ping body; chat services less


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    failure: bool


def report_message(report: RunReport, secrets: Sequence[str] = ()) -> Message:
    """The alert for a finished run: every failed model by name with its stage and reason,
    then what was submitted. Secrets are masked."""
    failed = report.failed
    submitted = [o for o in report.outcomes if o.status is Status.SUBMITTED]
    lines: list[str] = []
    for o in failed:
        where = f"{o.tournament.label}" + (
            f", round {o.round_number}" if o.round_number is not None else ""
        )
        lines.append(f"FAILED {o.name} ({where}) at {o.stage}: {o.error or 'no reason given'}")
    for o in submitted:
        late = " (late)" if o.late else ""
        lines.append(f"submitted {o.name}{late}: submission {o.submission_id}")
    counts = ", ".join(f"{n} {k}" for k, n in report.summary().items() if n)
    lines.append(f"run {report.run_id}: {counts or 'nothing configured'}")
    if failed:
        title = f"numerai-autopilot: {len(failed)} model(s) failed: " + ", ".join(
            o.name for o in failed[:5]
        )
        if len(failed) > 5:
            title += ", ..."
    else:
        title = f"numerai-autopilot: {len(submitted)} model(s) submitted"
    return _masked(title, "\n".join(lines), bool(failed), secrets)


def crash_message(exc: BaseException, secrets: Sequence[str] = ()) -> Message:
    """The alert for a run that stopped before reporting on its models (configuration, key,
    API unreachable): what happened and, in the message, what to fix."""
    title = "numerai-autopilot: the run failed before submitting"
    body = f"{type(exc).__name__}: {exc}"
    return _masked(title, body, True, secrets)


def _masked(title: str, body: str, failure: bool, secrets: Sequence[str]) -> Message:
    body = redact(body, secrets)
    if len(body) > _MAX_BODY:
        body = body[: _MAX_BODY - 4] + "\n..."
    return Message(redact(title, secrets), body, failure)
