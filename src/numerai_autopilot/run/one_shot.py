"""``numerai-autopilot submit FILE --model NAME``: one ready predictions file, submitted the
way a run submits (numerapi's ``upload_predictions`` habit, with the run's safety).

The file becomes a one-entry models config (format ``predictions``) and goes through the same
lifecycle as ``run``: the plan (a model already submitted this round is not submitted again),
the same validation against the live ids, the one look for a submission since the plan, the
upload and its confirmation, a ledger row (command ``submit``), alerts and exit codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..config import ModelsConfig, ModelSpec, Settings, SettingsSource, name_key
from ..errors import AutopilotError, ConfigError
from ..tournaments import Tournament
from .lifecycle import Lifecycle, RunResult

if TYPE_CHECKING:
    from ..client import AccountModel
    from .runner import LatePolicy

SUFFIXES = (".csv", ".parquet")


def submit_file(
    source: SettingsSource | Settings,
    path: Path,
    model: str,
    *,
    tournament: Tournament | None = None,
    rank: bool = False,
    trigger_id: str | None = None,
    late: LatePolicy = "skip",
) -> RunResult:
    """Validate and submit ``path`` (csv or parquet: an id column and one prediction column)
    for ``model`` in the current round of its tournament (asked from the API when None).
    Never raises an :class:`AutopilotError`: it is in the result, as for a run."""
    life = Lifecycle(source, trigger="submit")
    try:
        artifact = _checked_file(path)
        if tournament is None:
            tournament = _tournament_of(life.settings, model)
    except AutopilotError as exc:
        return life.failed(exc)
    spec = ModelSpec(
        name=model, tournament=tournament, format="predictions", artifact=artifact, rank=rank
    )
    return life.run(
        models=ModelsConfig(path=artifact, models=[spec]), trigger_id=trigger_id, late=late
    )


def _checked_file(path: Path) -> Path:
    if path.suffix.lower() not in SUFFIXES:
        raise ConfigError(f"{path}: a predictions file is .csv or .parquet")
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    return path.resolve()


def _tournament_of(settings: Settings, model: str) -> Tournament:
    """The tournament of the account's model named ``model`` (one API request)."""
    from ..client import client_from_settings

    with client_from_settings(settings) as client:
        models = client.account_models()
    found = {m.tournament for m in models if name_key(m.name) == name_key(model)}
    if len(found) == 1:
        return found.pop()
    if found:  # the same name in two tournaments: the user must say which
        labels = ", ".join(sorted(t.label for t in found))
        raise ConfigError(f"model {model!r} is in {labels}: pass --tournament")
    raise ConfigError(f"no model named {model!r} in this account{_hint(models)}")


def _hint(models: list[AccountModel]) -> str:
    names = sorted(m.name for m in models)
    if not names:
        return " (it has no models)"
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f" (its models: {shown})"
