"""The benchmark's measuring harness: it must count what the autopilot's fork server and
workers spend, although they outlive the process that started them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A job that leaves an orphan behind: the child forks a grandchild that burns CPU after the
# child has exited (as the autopilot's fork server and its workers do after the CLI exits).
ORPHAN_JOB = textwrap.dedent(
    """
    import os, time
    if os.fork() == 0:
        end = time.process_time() + 0.4
        while time.process_time() < end:
            pass
        os._exit(0)
    os._exit(0)
    """
)

DRIVER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from benchmarks.measure import Job, become_subreaper, run_jobs
    adopted = become_subreaper()
    job = Job([sys.executable, "-c", sys.argv[1]], {}, Path(sys.argv[2]))
    m = run_jobs([job, job], parallel=2, timeout=30)
    print(json.dumps({"adopted": adopted, "cpu": m.cpu, "wall": m.wall, "codes": m.exit_codes,
                      "pss": m.peak_pss}))
    """
)


def test_cpu_of_orphaned_grandchildren_is_counted(tmp_path: Path) -> None:
    # In its own process: a subreaper adopts every orphan of its tree, which pytest must not.
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, ORPHAN_JOB, str(tmp_path / "log")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["adopted"] is True
    assert result["codes"] == [0, 0]
    # Two orphans burnt 0.4 s each after their parents had exited: both are counted.
    assert result["cpu"] >= 0.75
