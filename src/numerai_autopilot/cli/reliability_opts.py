"""Options of ``run`` about deadlines and alerts (--late, --wait-open, --notify-*), kept here so
app.py only names them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ..run.runner import LatePolicy

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$", re.I)
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: str | None) -> float:
    """Seconds in ``90``, ``90s``, ``10m`` or ``1.5h``; a usage error otherwise."""
    if value is None or value == "":
        return 0.0
    m = _DURATION.match(value)
    if not m:
        raise typer.BadParameter(f"{value!r} is not a duration: use e.g. 90, 90s, 10m or 1h")
    return float(m.group(1)) * _UNIT[m.group(2).lower()]


def late_policy(value: str) -> LatePolicy:
    """The --late value, checked: ``submit`` or ``skip``."""
    text = value.strip().lower()
    if text == "submit":
        return "submit"
    if text == "skip":
        return "skip"
    raise typer.BadParameter(f"--late {value!r}: use submit or skip")


Late = Annotated[
    str,
    typer.Option(
        help="After a round's close: 'skip' (report the model as not submitted) or 'submit' "
        "(Numerai accepts it as late and queues it for the next round)",
        show_default=True,
    ),
]
WaitOpen = Annotated[
    str | None,
    typer.Option(
        metavar="DURATION",
        help="Wait up to DURATION (90, 10m, 1h) for a round that has not opened yet, so a "
        "trigger may fire a little early",
        show_default=False,
    ),
]
NotifyUrls = Annotated[
    str | None,
    typer.Option(
        help="Apprise URLs for alerts, comma separated; prefer NUMERAI_NOTIFY_URLS or "
        "NUMERAI_NOTIFY_URLS_FILE (they hold tokens)",
        show_default=False,
    ),
]
NotifyOnSuccess = Annotated[
    bool | None,
    typer.Option(
        "--notify-on-success/--no-notify-on-success",
        help="Also notify when models were submitted (env NUMERAI_NOTIFY_ON_SUCCESS)",
        show_default=False,
    ),
]
HealthcheckUrl = Annotated[
    str | None,
    typer.Option(
        help="Dead-man's-switch URL pinged at start (/start), success and failure (/fail) "
        "(env NUMERAI_HEALTHCHECK_URL)",
        show_default=False,
    ),
]

TriggerId = Annotated[
    str | None,
    typer.Option(
        help="Numerai's trigger id, passed on with each submission (env TRIGGER_ID)",
        envvar="TRIGGER_ID",
        show_default=False,
    ),
]
