"""Ready-to-use triggers for each platform, all from one set of slots (see slots.py).

``render_trigger(kind)`` is what ``numerai-autopilot schedule --print KIND`` shows; the files in
the repository's deploy/ folder are the same texts rendered with placeholder names (a test keeps
them in step).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from ..errors import ConfigError
from . import _k8s, _systemd
from .slots import BENIGN_EXIT_CODES, RECOMMENDED, Slots

KINDS = ("systemd", "cron", "aca", "k8s")

# Longest a run may take before the platform stops it: well above a real run (minutes) and
# below a round's one-hour window, so a hung run cannot block the next slot for long.
RUN_DEADLINE_SECONDS = 45 * 60

# Container platforms start the image with this instead of its entrypoint: tini (the image's
# PID 1, passing SIGTERM on to the run) maps 3 (no round open) and 4 (lock held) to 0, so an
# idle slot is not a failed Job to retry. No shell: a `sh -c` wrapper as PID 1 ignored SIGTERM,
# so every stop waited out the grace period and ended in SIGKILL.
SLOT_ARGV = ("/usr/bin/tini", "-e", "3", "-e", "4", "--", "numerai-autopilot", "run")

DEFAULT_IMAGE = "registry.example.com/numerai-autopilot:0.1.0"
DEFAULT_ENV_FILE = "%h/.config/numerai-autopilot/env"
CRON_ENV_FILE = "$HOME/.config/numerai-autopilot/env"


def default_executable() -> str:
    """The absolute path of the installed console script, as systemd and cron need it."""
    found = shutil.which("numerai-autopilot")
    if found:
        return str(Path(found).resolve())
    beside = Path(sys.executable).parent / "numerai-autopilot"
    return str(beside) if beside.exists() else "/usr/local/bin/numerai-autopilot"


# The repository's copies (deploy/systemd/) show these; `deploy systemd` renders the user's own.
DEFAULT_UNIT_DIRS = {
    "NUMERAI_MODELS_DIR": "%h/numerai/models",
    "NUMERAI_DATA_DIR": "%h/numerai/data",
}
_RENDERED = "Your configured folders when rendered ({names}); the env file overrides"


def systemd_units(
    slots: Slots = RECOMMENDED,
    executable: str | None = None,
    dirs: Mapping[str, Path] | None = None,
) -> dict[str, str]:
    """The service and timer unit files, by file name. ``dirs`` (variable -> absolute path,
    e.g. NUMERAI_MODELS_DIR) are the user's configured folders; None: DEFAULT_UNIT_DIRS."""
    exe = executable or default_executable()
    if dirs is None:
        lines = [f"Environment={k}={v}" for k, v in DEFAULT_UNIT_DIRS.items()]
    else:
        lines = [f"# {_RENDERED.format(names=', '.join(dirs))}"]
        lines += [f'Environment="{k}={_unit_value(v)}"' for k, v in dirs.items()]
    service = _systemd.SERVICE.format(
        dirs="\n".join(lines),
        benign=" ".join(str(c) for c in BENIGN_EXIT_CODES),
        env_file=DEFAULT_ENV_FILE,
        executable=exe,
        timeout=f"{RUN_DEADLINE_SECONDS // 60}min",
    )
    timer = _systemd.TIMER.format(on_calendar=slots.on_calendar(), per_week=slots.per_week)
    return {"numerai-autopilot.service": service, "numerai-autopilot.timer": timer}


def cron_lines(
    slots: Slots = RECOMMENDED,
    executable: str | None = None,
    dirs: Mapping[str, Path] | None = None,
) -> str:
    """A crontab fragment: CRON_TZ, the configured folders (``dirs``: variable -> absolute
    path) as crontab variables, and one line that runs under ``flock``."""
    if dirs is None:
        block = (
            "# NUMERAI_MODELS_DIR=/abs/path and NUMERAI_DATA_DIR=/abs/path lines belong here\n"
            "# (`numerai-autopilot deploy cron` writes your configured ones); without them the\n"
            "# run uses ~/models and ~/data (cron starts it in your home folder)."
        )
    else:
        block = "\n".join(
            [f"# {_RENDERED.format(names=', '.join(dirs))}"]
            + [f"{k}={_checked(v)}" for k, v in dirs.items()]
        )
    return _systemd.CRON.format(
        dirs=block,
        per_week=slots.per_week,
        env_file=CRON_ENV_FILE,
        cron=slots.cron(),
        lock_file="$HOME/.cache/numerai-autopilot.flock",
        executable=executable or default_executable(),
        log_file="$HOME/.cache/numerai-autopilot.log",
    )


def _checked(path: Path) -> str:
    text = str(path)
    if not path.is_absolute() or "\n" in text:
        raise ConfigError(f"{text!r}: a scheduler needs an absolute folder on one line")
    return text


def _unit_value(path: Path) -> str:
    # Inside a quoted Environment= value: systemd expands % specifiers and C escapes.
    return _checked(path).replace("%", "%%").replace("\\", "\\\\").replace('"', '\\"')


def aca_trigger(
    slots: Slots = RECOMMENDED,
    job: str = "numerai-autopilot",
    resource_group: str = "numerai-autopilot",
) -> str:
    """The ``az`` command that sets an existing Container Apps Job's schedule."""
    return (
        "# Azure Container Apps Job schedule (cron in UTC, the only zone ACA knows).\n"
        "# Why: Numerai opens a round Tue-Sat no earlier than 12:00 UTC for at least an hour\n"
        "# (Saturday's closes on Sunday); the run reads the real open and close times from the\n"
        f"# API and submits only what is missing, so {slots.per_week} idempotent slots a week "
        "(one API\n"
        "# request and about a second of billed compute each when nothing is due) catch every\n"
        "# round and retry a failed model before the close. The job's command maps exit codes\n"
        "# 3 (no round open) and 4 (lock held) to 0 so idle slots are not failed executions.\n"
        "# The whole set-up (Bicep): numerai-autopilot deploy azure\n"
        f"az containerapp job update --name {job} --resource-group {resource_group} \\\n"
        f'  --cron-expression "{slots.cron()}" \\\n'
        f"  --replica-timeout {RUN_DEADLINE_SECONDS} --replica-retry-limit 1\n"
    )


def k8s_cronjob(slots: Slots = RECOMMENDED, image: str = DEFAULT_IMAGE) -> str:
    """The CronJob manifest (deploy/kubernetes/cronjob.yaml)."""
    return _k8s.CRONJOB.format(
        cron=slots.cron(),
        per_week=slots.per_week,
        deadline=RUN_DEADLINE_SECONDS,
        image=image,
        slot_command=json.dumps(list(SLOT_ARGV)),
    )


def render_trigger(
    kind: str, slots: Slots = RECOMMENDED, dirs: Mapping[str, Path] | None = None
) -> str:
    """A ready trigger for ``kind`` (systemd | cron | aca | k8s) with the recommended slots and
    a comment on why (systemd and cron with ``dirs``, see :func:`systemd_units`). Raises
    ConfigError for an unknown kind."""
    if kind == "systemd":
        units = systemd_units(slots, dirs=dirs)
        return "\n".join(f"# ---- {name}\n{text}" for name, text in units.items())
    if kind == "cron":
        return cron_lines(slots, dirs=dirs)
    if kind == "aca":
        return aca_trigger(slots)
    if kind == "k8s":
        return k8s_cronjob(slots)
    raise ConfigError(f"unknown trigger kind {kind!r}: choose one of {', '.join(KINDS)}")
