"""The thread pools of the libraries already loaded (numpy's BLAS, OpenMP runtimes), limited
in a prediction child to its share of the cores.

threadpoolctl finds them by walking every shared library the process has loaded (about 120
in a worker: 20 ms, after 14 ms to import threadpoolctl itself). A child forked from a server
that found them already (the fork server imports _pools_found.py after its preloads; the
resident server calls :func:`find` after each load) only applies the limit: under 1 ms. The
found set is trusted only while no module was imported since (a new library comes with one);
otherwise the child looks again itself, as before.
"""

from __future__ import annotations

import sys
from typing import Any

_found: tuple[int, Any] | None = None
"""(len(sys.modules) when found, threadpoolctl's controller of the pools then loaded)."""


def find() -> None:
    """Find the thread pools loaded now, for the children forked from this process."""
    global _found  # noqa: PLW0603  one per process, inherited by its forked children
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
    except ImportError:
        return
    controller = ThreadpoolController()
    _found = (len(sys.modules), controller)


def limit(threads: int) -> None:
    """At most ``threads`` threads in every thread pool loaded in this process."""
    found = _found
    if found is not None and found[0] == len(sys.modules):
        found[1].limit(limits=threads)
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(threads)
