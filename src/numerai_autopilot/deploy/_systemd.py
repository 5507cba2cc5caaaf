"""systemd user units and the cron line (deploy/systemd/ holds these, rendered)."""

from __future__ import annotations

SERVICE = """\
# numerai-autopilot: one run (submits what is missing for the open round), started by
# numerai-autopilot.timer. A user unit: install with `numerai-autopilot deploy systemd --install`
# (or copy to ~/.config/systemd/user/), then `systemctl --user enable --now numerai-autopilot.timer`
# and `loginctl enable-linger $USER` so it runs while you are logged out.
# Settings and secrets: {env_file} holds NUMERAI_* lines; keep the keys in files
# (NUMERAI_PUBLIC_ID_FILE=..., NUMERAI_SECRET_KEY_FILE=..., chmod 600), not in this unit.
[Unit]
Description=numerai-autopilot run: submit every model's predictions for the open Numerai round
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
# 3 = no round is open, 4 = another run holds the lock: normal outcomes of a slot, not failures.
SuccessExitStatus={benign}
{dirs}
Environment=NUMERAI_LOG_FORMAT=json
EnvironmentFile=-{env_file}
WorkingDirectory=%h
ExecStart={executable} run
# Longer than the slowest expected run, shorter than a round's window.
TimeoutStartSec={timeout}
# systemctl stop: SIGTERM to the run only, which stops its own workers, records the
# unfinished models as interrupted and exits 130 in seconds; what is left after 30 s
# is killed.
KillMode=mixed
TimeoutStopSec=30
Nice=10
NoNewPrivileges=yes
"""

TIMER = """\
# Starts numerai-autopilot.service at {on_calendar}.
# Why: Numerai opens a round Tue-Sat no earlier than 12:00 UTC for at least an hour (Saturday's
# closes on Sunday). The run reads the real open and close times from the API and submits only
# what is missing, so a few slots in the usual window ({per_week} a week, one API request each when
# nothing is due) catch every round and retry a failed model before the close.
[Unit]
Description=numerai-autopilot slots in Numerai's round window (UTC)

[Timer]
OnCalendar={on_calendar}
# A slot missed while the machine was off runs at boot: harmless, the run is idempotent.
Persistent=true
AccuracySec=1s
RandomizedDelaySec=30

[Install]
WantedBy=timers.target
"""

CRON = """\
# numerai-autopilot slots: Numerai opens a round Tue-Sat no earlier than 12:00 UTC for at least
# an hour (Saturday's closes on Sunday). The run reads the real open and close times from the API
# and submits only what is missing, so {per_week} slots a week (one API request each when nothing
# is due) catch every round and retry a failed model before the close.
# Exit codes 3 (no round open) and 4 (another run holds the lock) are normal for a slot; flock -n
# skips a slot while the previous one still runs and reports it as 4 too.
# The hours are UTC: CRON_TZ works in cronie and busybox; Debian's cron ignores it and uses the
# machine's zone (check `date`; shift the hours, or use the systemd timer instead).
# First: mkdir -p ~/.cache ~/.config/numerai-autopilot; put NUMERAI_* settings there in env,
# the keys as NUMERAI_PUBLIC_ID_FILE / NUMERAI_SECRET_KEY_FILE (files, chmod 600).
CRON_TZ=UTC
{dirs}
{cron} flock -n -E 4 {lock_file} sh -c '[ -r {env_file} ] && set -a && . {env_file}; exec {executable} run' >> {log_file} 2>&1
"""  # noqa: E501
