"""The state dir's run lock: two runs never both upload."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from ..errors import ConfigError, LockedError


@contextmanager
def run_lock(state: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold ``<state>/run.lock`` (waiting at most ``wait`` seconds for another run)."""
    path = state / "run.lock"
    lock = filelock.FileLock(path)
    try:
        state.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=max(0.0, wait))
    # filelock.Timeout is an OSError: it must be caught first.
    except filelock.Timeout:
        raise LockedError(
            f"another run holds {path}: it is still submitting; wait for it to finish "
            "(or pass --wait-lock SECONDS)"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot take the run lock {path}: {exc.strerror or exc}; NUMERAI_STATE_DIR / "
            "NUMERAI_DATA_DIR must be a writable directory"
        ) from exc
    try:
        yield
    finally:
        lock.release()
