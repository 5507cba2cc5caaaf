"""One run lifecycle for every trigger: ``run``, each run of ``schedule``, each webhook run of
``serve`` (and ``models check``).

healthcheck start -> settings -> the run -> ledger row with the real exit code -> notification
on failure -> healthcheck success or fail. An error before the plan (settings, an unreadable
``*_FILE``, the models file, the key, the API) is an outcome like any other: one line naming
what to fix, its exit code, an alert, a ledger row. Alerts are built from the settings that
*are* valid, so a wrong value elsewhere still reaches the user.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..config import Settings, SettingsSource, load_settings, salvage_settings
from ..errors import AutopilotError, ConfigError, ExitCode, LockedError, exit_code_for

if TYPE_CHECKING:
    from pathlib import Path

    from ..client import NumeraiClient
    from ..clock import Clock
    from ..config import ModelsConfig
    from ..notify import Alerts
    from .report import RunReport
    from .runner import EventHook, LatePolicy

log = logging.getLogger(__name__)

Trigger = Literal["run", "check", "schedule", "serve", "submit"]


@dataclass
class RunResult:
    """What one trigger of the lifecycle came to: a report, or the error that stopped it."""

    exit_code: ExitCode
    report: RunReport | None = None
    error: AutopilotError | None = None

    def unwrap(self) -> RunReport:
        """The report, or the error raised (for callers that retry: ``schedule``, ``serve``)."""
        if self.report is None:
            raise self.error or AutopilotError(f"the run ended with exit code {self.exit_code}")
        return self.report


class Lifecycle:
    """Runs with alerts, healthcheck pings and ledger records, the same for every trigger.

    Built from a :class:`SettingsSource`, not from settings: reading the settings is itself a
    step that may fail, and that failure is reported like a run's."""

    def __init__(self, source: SettingsSource | Settings, *, trigger: Trigger = "run") -> None:
        self.trigger = trigger
        if isinstance(source, Settings):
            self._settings: Settings | None = source
            self.salvaged, self._dropped = source, set[str]()
            self._source: SettingsSource | None = None
        else:
            self._settings, self._source = None, source
            self.salvaged, self._dropped = salvage_settings(source)
        self._alerts: Alerts | None = None

    @property
    def settings(self) -> Settings:
        """The settings, strictly validated (ConfigError naming every wrong one)."""
        settings = self._settings
        if settings is None:
            source = self._source if self._source is not None else SettingsSource()
            settings = self._settings = load_settings(source.flags, source.environ)
        return settings

    @property
    def alerts(self) -> Alerts:
        """Built from the valid settings; none for ``models check`` (a person is watching)."""
        if self._alerts is None:
            from ..notify import Alerts

            self._alerts = (
                Alerts() if self.trigger == "check" else Alerts.from_settings(self.salvaged)
            )
        return self._alerts

    # -- one trigger -----------------------------------------------------------------------

    def run(
        self,
        *,
        trigger_id: str | None = None,
        only: Sequence[str] | None = None,
        lock_wait: float = 0.0,
        late: LatePolicy = "skip",
        wait_open: float = 0.0,
        client: NumeraiClient | None = None,
        clock: Clock | None = None,
        models: ModelsConfig | None = None,
        on_event: EventHook | None = None,
        keep_dir: Path | None = None,
    ) -> RunResult:
        """One pass with everything around it; never raises an :class:`AutopilotError` (it
        is in the result). ``KeyboardInterrupt`` is recorded by the run and re-raised."""
        check = self.trigger == "check"
        alerts = self.alerts
        missing = alerts.library_missing()
        alerts.start()
        try:
            try:
                if missing is not None:
                    raise missing
                settings = self.settings
                refuse_optimized_python()
                from .runner import Runner

                runner = Runner(settings, client=client, clock=clock, models=models)
            except AutopilotError as exc:
                return self.failed(exc)
            # From here on the run keeps its own ledger row, errors included.
            with runner:
                report = runner.run(
                    trigger_id=trigger_id,
                    only=only,
                    check=check,
                    lock_wait=lock_wait,
                    late=late,
                    wait_open=wait_open,
                    on_event=on_event,
                    command="submit" if self.trigger == "submit" else None,
                    keep_dir=keep_dir,
                )
        except KeyboardInterrupt:
            alerts.interrupted()
            raise
        except LockedError as exc:
            # Not a failure of this account: the run holding the lock reports for both.
            log.warning("%s", exc)
            return RunResult(ExitCode.LOCKED, error=exc)
        except AutopilotError as exc:
            return self.failed(exc, started=runner.run_id is not None)
        except Exception as exc:  # a bug: still alerted, then raised for its traceback
            alerts.crashed(exc)
            raise
        alerts.finished(report)
        if settings.watch and not check:
            self._watch(settings, client, clock)
        return RunResult(ExitCode(report.exit_code), report=report)

    def _watch(self, settings: Settings, client: NumeraiClient | None, clock: Clock | None) -> None:
        """``watch`` after the run: its own alerts; a failure is logged and the run's exit
        code stands (the watch is a second opinion, not part of the run)."""
        from ..watch import watch

        try:
            watch(settings, client=client, clock=clock)
        except AutopilotError as exc:
            log.warning("the watch after the run failed: %s", exc)

    def failed(self, exc: AutopilotError, *, started: bool = False) -> RunResult:
        """Report an error that stopped a trigger before it could report on each model: one
        line, an alert and a ``/fail`` ping, a ledger row (unless the run already wrote one:
        ``started``) with the real exit code."""
        code = exit_code_for(exc)
        log.error("%s", exc)
        if not started:
            self._record(exc, code)
        self.alerts.crashed(exc)
        exc.reported = True
        return RunResult(code, error=exc)

    def _record(self, exc: AutopilotError, code: ExitCode) -> None:
        """A ledger row for a run that never started one. Only where the state dir is known:
        a default ``./data`` that does not exist is not created for a configuration error."""
        from .ledger import Ledger

        settings = self.salvaged
        if {"state_dir", "data_dir"} & self._dropped:
            return
        explicit = self._source is None or any(
            self._source.explicit(n) for n in ("state_dir", "data_dir")
        )
        if not explicit and not settings.state_path.is_dir():
            return
        try:
            with Ledger(settings.state_path) as ledger:
                run_id = ledger.start_run(self.trigger)
                ledger.finish_run(run_id, int(code), {}, {}, error=str(exc))
        except (ConfigError, OSError) as err:
            log.warning("could not record the failed run in the ledger: %s", err)


def refuse_optimized_python() -> None:
    """numerai-tools checks submissions with ``assert``: under ``python -O`` every check would
    pass silently, so a run refuses to start."""
    if sys.flags.optimize:
        raise ConfigError(
            "Python runs with -O (or PYTHONOPTIMIZE is set): numerai-tools' submission "
            "checks are assert statements and would pass everything; run without -O"
        )
