"""The benchmark's measuring harness: it must count what the autopilot's fork server and
workers spend, although they outlive the process that started them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from benchmarks.measure import reap_orphans, tree_cpu
from benchmarks.poller import Poller, descendants

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


# Holds 80 MB of touched private memory until its stdin closes.
HOLDER = textwrap.dedent(
    """
    import sys
    buf = bytearray(80 * 1024 * 1024)
    buf[::4096] = b"x" * len(buf[::4096])
    print("ready", flush=True)
    sys.stdin.read()
    """
)


def test_tree_cpu_counts_a_long_lived_process_and_its_reaped_children() -> None:
    # A parent that burns CPU itself and in a child it waits for, then stays alive: as the
    # resident server does with its fork server and workers.
    code = textwrap.dedent(
        """
        import os, sys, time
        def burn(s):
            end = time.process_time() + s
            while time.process_time() < end:
                pass
        burn(0.3)
        pid = os.fork()
        if pid == 0:
            burn(0.3)
            os._exit(0)
        os.waitpid(pid, 0)
        print('done', flush=True)
        sys.stdin.read()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "done"
        assert tree_cpu(proc.pid) >= 0.55  # both halves, the reaped child's too
    finally:
        proc.communicate("", timeout=30)


def test_poller_sees_a_process_memory_and_leaves_kept_ones_out() -> None:
    kept = subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    other = subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        for p in (kept, other):
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        both = Poller()
        both.sample()
        one = Poller(keep=[kept.pid])
        one.sample()
        assert {kept.pid, other.pid} <= set(descendants(os.getpid()))
        assert kept.pid not in descendants(os.getpid(), keep=[kept.pid])
        assert one.peak_rss >= 80e6 and one.peak_pss >= 80e6 * 0.9
        assert both.peak_rss >= one.peak_rss + 80e6
    finally:
        for p in (kept, other):
            p.communicate("", timeout=30)


def test_reaping_orphans_spares_the_kept_process() -> None:
    kept = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        reap_orphans(keep=[kept.pid])
        assert kept.poll() is None
    finally:
        kept.communicate(b"", timeout=30)
