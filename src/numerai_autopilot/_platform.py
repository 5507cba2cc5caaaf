"""What this host offers to the prediction workers, probed in one place.

Linux gives the workers a CPU affinity mask, ``/dev/shm``, ``/proc/self/status``, glibc's
``prctl``/``mallopt`` and a fork server that is safe after importing the model libraries.
macOS has none of the Linux-only calls and forking there is unsafe once some libraries are
loaded (Python itself defaults to ``spawn`` there); Windows has no fork and no ``resource``
module at all. Every worker call that is not portable goes through :data:`HOST`, a snapshot of
these probes; a test replaces it to run on a pretend macOS or Windows host, and the run hands
it to each spawned child so the child behaves as the same host.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

resource: ModuleType | None
try:
    import resource
except ImportError:  # Windows
    resource = None

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # linux prctl option
_M_ARENA_MAX = -8  # glibc mallopt parameter


@dataclass(frozen=True)
class Host:
    """The probes' results. ``None``/``False`` means "not on this host": the caller falls back."""

    affinity: bool
    """``os.sched_getaffinity`` exists (Linux): the cores this process may run on."""
    shm: Path | None
    """A RAM-backed folder for the shared live frame (``/dev/shm``)."""
    proc_status: Path | None
    """``/proc/self/status``, for the data segment a memory bound starts from."""
    libc: str | None
    """The glibc to load for ``prctl`` (die with the run) and ``mallopt`` (fewer arenas)."""
    rlimit_data: bool
    """``resource.RLIMIT_DATA`` exists (not on Windows): models can get a memory bound."""
    maxrss_unit: int
    """Bytes per unit of ``ru_maxrss`` (kilobytes on Linux, bytes on macOS); 0: no getrusage."""
    fork_server: bool
    """Workers start from a fork server; otherwise each is spawned as a fresh interpreter."""
    posix: bool
    """``os.kill(pid, 0)`` probes a process (on Windows it would terminate it)."""

    def portable(self) -> Host:
        """This host without anything Linux-only: spawned workers, no /dev/shm (the frame goes
        to a file in the data dir), no /proc, no libc, no affinity mask; what macOS and
        Windows get, and what ``NUMERAI_WORKER_MODE=portable`` selects on Linux so that the
        portable path is proven there."""
        return replace(
            self, affinity=False, shm=None, proc_status=None, libc=None, fork_server=False
        )

    @property
    def start_method(self) -> str:
        return "forkserver" if self.fork_server else "spawn"

    def cpu_count(self) -> int:
        """The cores this process may use (its affinity mask where the host has one)."""
        if self.affinity:
            return max(1, len(os.sched_getaffinity(0)))
        count = getattr(os, "process_cpu_count", os.cpu_count)()  # 3.13 honours affinity
        return max(1, int(count or 1))

    def die_with_parent(self) -> bool:
        """Ask the kernel to kill this process when its parent dies; False where it cannot."""
        if self.libc is None:
            return False
        try:
            return int(ctypes.CDLL(self.libc).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)) == 0
        except (OSError, AttributeError):
            return False

    def limit_arenas(self) -> None:
        """Fewer malloc arenas (glibc only): each thread's would otherwise claim 64 MB."""
        if self.libc is not None:
            with contextlib.suppress(OSError, AttributeError):
                ctypes.CDLL(self.libc).mallopt(_M_ARENA_MAX, 2)

    def data_bytes(self) -> int | None:
        """What this process already uses, the base of its memory bound: the data segment from
        /proc, else the peak resident size from getrusage, else None (no way to tell)."""
        if self.proc_status is not None:
            with (
                contextlib.suppress(OSError, ValueError, IndexError),
                self.proc_status.open(encoding="ascii") as f,
            ):
                for line in f:
                    if line.startswith("VmData:"):
                        return int(line.split()[1]) * 1024
        if self.maxrss_unit and resource is not None:
            return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * self.maxrss_unit
        return None

    def limit_data(self, limit: int) -> bool:
        """Bound this process's data segment to ``limit`` bytes; False where the OS cannot."""
        if not self.rlimit_data or resource is None:
            return False
        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
        return True

    def pid_alive(self, pid: int) -> bool:
        """Whether process ``pid`` exists; True where that cannot be probed safely."""
        if not self.posix:
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def probe() -> Host:
    """This host, as it is."""
    linux = sys.platform.startswith("linux")
    shm = Path("/dev/shm")  # noqa: S108
    status = Path("/proc/self/status")
    return Host(
        affinity=hasattr(os, "sched_getaffinity"),
        shm=shm if shm.is_dir() else None,
        proc_status=status if status.is_file() else None,
        libc="libc.so.6" if linux else None,
        rlimit_data=resource is not None and hasattr(resource, "RLIMIT_DATA"),
        maxrss_unit=0 if resource is None else (1 if sys.platform == "darwin" else 1024),
        # Only Linux: macOS can fork, but not safely after Accelerate/Objective-C libraries load.
        # Every Linux CPython has the forkserver start method (it passes fds over a Unix
        # socket); importing multiprocessing to ask would cost every command's start 9 ms.
        fork_server=linux,
        posix=os.name == "posix",
    )


HOST: Host = probe()
"""The host the workers run on. Read it as ``_platform.HOST`` at call time (tests replace it)."""


WORKER_MODES = ("auto", "portable")


@contextlib.contextmanager
def worker_mode(mode: str) -> Iterator[Host]:
    """:data:`HOST` as the mode makes it while the block runs (a run's workers start inside):
    ``auto``, the host as probed; ``portable``, :meth:`Host.portable`."""
    global HOST  # noqa: PLW0603  the one switch; read at call time by every worker function
    saved = HOST
    HOST = saved.portable() if mode == "portable" else saved
    try:
        yield HOST
    finally:
        HOST = saved


def cpu_count() -> int:
    """The cores this process may use."""
    return HOST.cpu_count()


def ensure_tempdir(fallback: Path) -> Path:
    """A writable temporary folder for this process and the ones it starts (the fork server's
    socket, the workers' scratch files): the usual one (``TMPDIR``, ``/tmp``...) when there is
    one, else ``fallback``, created private, with one warning naming the mount to add. A
    container with a read-only root and no ``/tmp`` mount (``docker run --read-only``) would
    otherwise fail on the first temporary file."""
    try:
        return Path(tempfile.gettempdir())
    except FileNotFoundError:  # tempfile tried every candidate and could write to none
        pass
    fallback.mkdir(mode=0o700, parents=True, exist_ok=True)
    tempfile.tempdir = str(fallback)
    os.environ["TMPDIR"] = str(fallback)  # for the processes this one starts
    log.warning(
        "no writable temporary folder (/tmp is read-only or missing): using %s; give the "
        "container one (docker run --tmpfs /tmp, or an emptyDir at /tmp)",
        fallback,
    )
    return fallback
