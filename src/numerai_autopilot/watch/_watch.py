"""``watch``: one look at every model of the account (one API request) and an alert, at most
once per model per round, for each that has no submission when the close is near."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..client import NumeraiClient, client_from_settings, take_snapshot
from ..clock import Clock, SystemClock, format_time
from ..config import ModelSpec, Settings, load_models_file
from ..errors import ExitCode
from ..notify import Alerts, Message
from ..redact import redact
from ..run.ledger import Ledger
from ..tournaments import Tournament
from ._look import Watch, WatchedModel, look

log = logging.getLogger(__name__)

SKEW_TOLERANCE = 5.0
"""Seconds of disagreement with the server's clock ignored (as the run does)."""


@dataclass
class WatchReport:
    """What one watch saw, and whom it alerted about."""

    models: list[WatchedModel]
    margin: float
    alerted: list[WatchedModel] = field(default_factory=list)
    """Missing models alerted about by this watch (earlier ones are not repeated)."""

    @property
    def missing(self) -> list[WatchedModel]:
        return [m for m in self.models if m.state is Watch.MISSING]

    @property
    def exit_code(self) -> ExitCode:
        """1 when a model is missing near the close (alerted now or before), 3 when no round
        is open in any tournament the account uses, else 0."""
        if self.missing:
            return ExitCode.MODEL_FAILED
        if all(m.state is Watch.NO_ROUND for m in self.models):
            return ExitCode.NO_ROUND
        return ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        alerted = {m.model_id for m in self.alerted}
        return {
            "exit_code": int(self.exit_code),
            "margin": self.margin,
            "models": [
                {
                    "model": m.name,
                    "tournament": m.tournament.label,
                    "kind": str(m.kind),
                    "state": str(m.state),
                    "round": m.round,
                    "deadline": format_time(m.deadline) if m.deadline else None,
                    "submission": m.submission,
                    "alerted": m.model_id in alerted,
                }
                for m in self.models
            ],
        }


def configured_specs(settings: Settings) -> list[ModelSpec]:
    """The models file's entries, or none when there is no models dir (watch needs none)."""
    if not settings.models_dir.is_dir():
        return []
    return load_models_file(settings.models_dir).models


def watched_models(
    client: NumeraiClient, settings: Settings, *, now: datetime, margin: float
) -> list[WatchedModel]:
    """Every model of the account, configured here or not, in every tournament it has models
    in, from ONE request: the hook a status grid calls to show them."""
    snap = take_snapshot(client, list(Tournament))
    used = {m.tournament for m in snap.models}
    rounds = {t: r for t, r in snap.rounds.items() if t in used}
    return look(
        snap.models, rounds, snap.latest, configured_specs(settings), now=now, margin=margin
    )


def watch(
    settings: Settings,
    *,
    client: NumeraiClient | None = None,
    clock: Clock | None = None,
    alerts: Alerts | None = None,
) -> WatchReport:
    """Look once; alert (apprise, healthcheck ``/fail``) about each model missing within
    ``settings.watch_margin`` of its close that this state dir has not alerted about this
    round; a healthcheck success ping when none is missing."""
    clock = clock or SystemClock()
    own = client is None
    client = client or client_from_settings(settings, clock=clock)
    alerts = alerts or Alerts.from_settings(settings)
    margin = settings.watch_margin
    try:
        models = watched_models(client, settings, now=_now(client, clock), margin=margin)
    finally:
        if own:
            client.close()
    report = WatchReport(models, margin)
    if report.missing:
        log.warning(
            "%d model(s) without a submission near the close: %s",
            len(report.missing),
            "; ".join(f"{m.describe}, round {m.round}" for m in report.missing),
        )
    if not alerts.configured:
        if report.missing:
            log.warning("no NUMERAI_NOTIFY_URLS or NUMERAI_HEALTHCHECK_URL: nobody is alerted")
        return report
    with Ledger(settings.state_path) as ledger:
        # A missing model always has its open round's number.
        due = [(m, m.round) for m in report.missing if m.round is not None]
        new = [m for m, r in due if not ledger.watch_alerted(m.model_id, m.tournament, r)]
        if report.missing:
            alerts.alert(_message(report.missing, new, alerts.secrets), notify=bool(new))
        else:
            alerts.alert(Message("numerai-autopilot watch: all submitted or in time", "", False))
        # After the alert went out: a crash in between repeats it, never loses it.
        for m, r in due:
            if m in new:
                ledger.record_watch_alert(m.model_id, m.name, m.tournament, r)
    report.alerted = new
    return report


def _now(client: NumeraiClient, clock: Clock) -> datetime:
    """Numerai's time: the local clock, corrected by the server's Date when they disagree."""
    now = clock.now()
    offset = client.server_offset
    if offset is not None and abs(offset) > SKEW_TOLERANCE:
        return now + timedelta(seconds=offset)
    return now


def _message(
    missing: Sequence[WatchedModel], new: Sequence[WatchedModel], secrets: Sequence[str]
) -> Message:
    fresh = {m.model_id for m in new}
    lines = []
    for m in missing:
        close = format_time(m.deadline) if m.deadline else "no deadline"
        again = "" if m.model_id in fresh else " (alerted before)"
        lines.append(f"- {m.describe}: no submission for round {m.round}, closes {close}{again}")
    title = f"numerai-autopilot watch: {len(missing)} model(s) without a submission near the close"
    return Message(redact(title, secrets), redact("\n".join(lines), secrets), True)
