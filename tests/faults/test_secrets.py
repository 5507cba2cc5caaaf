"""Keys come only from the environment, _FILE paths or the config layer, and never reach a log,
a traceback, the ledger, a worker's environment, an alert or a process title (issue 4: secrets)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from support.invariants import check_invariants
from support.receiver import NOTIFY_TOKEN
from support.rig import Rig


def _group_texts(pgid: int) -> list[bytes]:
    """cmdline and environ of every live process in the group (the run and its workers)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getpgid(int(pid)) != pgid:
                continue
            for name in ("cmdline", "environ"):
                out.append(Path(f"/proc/{pid}/{name}").read_bytes())
        except (OSError, ProcessLookupError):
            continue
    return out


def test_keys_from_files_never_show_in_any_process_title_or_environment(
    rig: Rig, tmp_path: Path
) -> None:
    (tmp_path / "pid").write_text(rig.sb.public_id)
    (tmp_path / "key").write_text(rig.sb.secret_key)
    rig.extra_env.update(
        NUMERAI_PUBLIC_ID="",
        NUMERAI_SECRET_KEY="",
        NUMERAI_PUBLIC_ID_FILE=str(tmp_path / "pid"),
        NUMERAI_SECRET_KEY_FILE=str(tmp_path / "key"),
    )
    gate = tmp_path / "gate"
    rig.knobs(gate={"corvus_corone": str(gate)})  # its worker lives until we have looked
    proc = rig.spawn("-v")
    seen: list[bytes] = []
    end = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < end:
        texts = _group_texts(proc.pid)
        seen += texts
        if len(texts) >= 6:  # three processes at once: the run, the fork server, a worker
            gate.touch()
        time.sleep(0.05)
    res = rig.finish(proc)
    check_invariants(rig, res, exit_code=0)
    assert len(seen) > 4  # the run and at least one worker were looked at
    for blob in seen:
        assert rig.sb.secret_key.encode() not in blob
        assert rig.sb.public_id.encode() not in blob


def test_a_notification_url_apprise_rejects_is_named_by_position_not_printed(
    rig: Rig, capfd: Any
) -> None:
    bad = f"nosuchscheme://user:{NOTIFY_TOKEN}@example.invalid/x"
    res = rig.cli(capfd=capfd, NUMERAI_NOTIFY_URLS=f"{rig.receiver.notify_url}, {bad}")
    check_invariants(rig, res, exit_code=0)
    assert "notification URL #2 of NUMERAI_NOTIFY_URLS" in res.out


def test_an_uncaught_traceback_is_redacted(rig: Rig) -> None:
    code = (
        "from numerai_autopilot.cli.logs import configure\n"
        f"configure('json', [{rig.sb.secret_key!r}])\n"
        f"raise RuntimeError('header Token x$' + {rig.sb.secret_key!r})\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert p.returncode == 1
    assert "RuntimeError: header Token x$***" in p.stderr
    assert rig.sb.secret_key not in p.stderr


def test_verbose_failed_run_leaks_nothing_into_logs_ledger_or_alerts(rig: Rig, capfd: Any) -> None:
    rig.knobs(**{"raise": ["anas_platyrhynchos"]})
    res = rig.cli("-v", capfd=capfd)
    # check_invariants searches output, alerts, the ledger and every cache file for secrets.
    check_invariants(rig, res, exit_code=1, failed={"anas_platyrhynchos": "exploded"})
