"""Keep the run's secrets out of reach of the model code it runs (Linux; elsewhere a no-op).

A model's code runs as the same user as the run. Without this, it could read the API key, the
notification URLs and the webhook secret from ``/proc/<run pid>/environ``: that file shows the
environment the process was *started* with, whatever ``os.environ`` says later. So, once, when
the CLI starts:

- :func:`wipe_start_environ` overwrites the values of the named variables in that start-up
  block (the kernel reads it from the process's own memory, which the process may write);
- :func:`wipe_start_args` does the same for the values of secret options on the command line
  (``/proc/<pid>/cmdline``, readable by every user);
- :func:`make_undumpable` sets ``PR_SET_DUMPABLE`` to 0: other processes of the same user
  can no longer read the run's memory, environment or file descriptors through ``/proc`` or
  ptrace, and no core dump is written. Processes with ``CAP_SYS_PTRACE`` (root, in most
  containers) still can: that is why the values are wiped as well.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Collection

log = logging.getLogger(__name__)

_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3


def _start_block(first_field: int) -> tuple[int, int] | None:
    """(start, end) addresses of the arguments (``first_field`` 48) or the environment (50)
    block, from /proc/self/stat (fields counted from 1, as in proc(5))."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count after its last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        start, end = int(fields[first_field - 3]), int(fields[first_field - 2])
    except (IndexError, ValueError):
        return None
    return (start, end) if 0 < start < end else None


def _rewrite(block: tuple[int, int], edit: bytearray) -> bool:
    """Write ``edit`` over ``block`` of this process's memory, through /proc/self/mem (an
    unmapped address is an error there, not a crash)."""
    start, end = block
    try:
        fd = os.open("/proc/self/mem", os.O_RDWR)
    except OSError:
        return False
    try:
        return os.pwrite(fd, bytes(edit), start) == end - start
    except OSError:
        return False
    finally:
        os.close(fd)


def _read(block: tuple[int, int]) -> bytearray | None:
    start, end = block
    try:
        fd = os.open("/proc/self/mem", os.O_RDONLY)
    except OSError:
        return None
    try:
        return bytearray(os.pread(fd, end - start, start))
    except OSError:
        return None
    finally:
        os.close(fd)


def wipe_start_environ(names: Collection[str]) -> int:
    """Overwrite with NUL bytes the values of ``names`` in the environment this process was
    started with (what ``/proc/self/environ`` shows); the number of values wiped."""
    if not sys.platform.startswith("linux") or not names:
        return 0
    block = _start_block(50)
    data = None if block is None else _read(block)
    if block is None or data is None:
        return 0
    wiped, offset = 0, 0
    for entry in bytes(data).split(b"\0"):
        name, eq, value = entry.partition(b"=")
        if eq and value and name.decode("utf-8", "replace") in names:
            at = offset + len(name) + 1
            data[at : at + len(value)] = bytes(len(value))
            wiped += 1
        offset += len(entry) + 1
    if wiped and not _rewrite(block, data):
        return 0
    return wiped


def wipe_start_args(options: Collection[str]) -> int:
    """Overwrite with ``*`` the value after each of ``options`` (``--opt value`` or
    ``--opt=value``) in the command line this process was started with; the number wiped."""
    if not sys.platform.startswith("linux") or not options:
        return 0
    block = _start_block(48)
    data = None if block is None else _read(block)
    if block is None or data is None:
        return 0
    wiped, offset, mask_next = 0, 0, False
    for arg in bytes(data).split(b"\0"):
        text = arg.decode("utf-8", "replace")
        opt, eq, _ = text.partition("=")
        start = None
        if mask_next and arg:
            start = 0
        elif eq and opt in options:
            start = len(opt.encode()) + 1
        mask_next = not eq and text in options
        if start is not None and start < len(arg):
            data[offset + start : offset + len(arg)] = b"*" * (len(arg) - start)
            wiped += 1
        offset += len(arg) + 1
    if wiped and not _rewrite(block, data):
        return 0
    return wiped


def make_undumpable() -> bool:
    """Forbid other processes of this user to read this one's memory and environment (and
    core dumps); True when set. Linux only: False elsewhere or when prctl is unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            return False
        return bool(libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def harden_process(env_names: Collection[str], options: Collection[str]) -> None:
    """Everything above, once, at the start of a CLI process (never in a library caller's)."""
    environ = wipe_start_environ(env_names)
    args = wipe_start_args(options)
    dumpable = not make_undumpable()
    log.debug(
        "hardened: %d environment value(s) and %d option value(s) wiped, dumpable=%s",
        environ,
        args,
        dumpable,
    )
