"""Pieces of resident mode (resident.py): its counters, a child forked by the server as the
run tracks it, the key a loaded model is kept under, and the state file ``status`` reads."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ModelSpec
from ..fileio import sha256_file
from ._artifact_hashes import stamp

if TYPE_CHECKING:
    from ..tournaments import Tournament
    from ._resident_server import Entry
    from .worker import LiveData

log = logging.getLogger(__name__)

RESIDENT_FORMATS = frozenset({"lightgbm", "xgboost", "catboost"})
"""Formats kept loaded: native models that run no user code and start no thread on load."""


@dataclass
class Stats:
    """What the resident server did in this process (tests and the log read it)."""

    servers: int = 0
    """Servers started (1 + replacements)."""
    loads: int = 0
    """Model loads by the current server."""
    rss_mb: float = 0.0
    statuses: dict[str, str] = field(default_factory=dict)
    """Each model's last load status: kept, loaded in ..., memory, changed, failed: ..."""


class RemoteProcess:
    """A prediction child forked by the resident server, as the run tracks it (the subset of
    ``multiprocessing.Process`` the workers use). Its exit code comes through a status pipe."""

    def __init__(self, pid: int, status_r: int) -> None:
        self.pid = pid
        self.sentinel = status_r
        self.exitcode: int | None = None
        self.lost = False
        """The server died before the child's end was reported (so did the child)."""
        self._closed = False

    def _read(self, timeout: float) -> None:
        if self.exitcode is not None or self.lost:
            return
        from multiprocessing.connection import wait

        if not wait([self.sentinel], timeout=timeout):
            return
        from ._child import EXIT_STATUS as STATUS

        data = os.read(self.sentinel, STATUS.size)
        if len(data) == STATUS.size:
            self.exitcode = STATUS.unpack(data)[0]
        else:
            self.lost = True
            self.exitcode = -9

    def is_alive(self) -> bool:
        self._read(0)
        return self.exitcode is None

    def join(self, timeout: float | None = None) -> None:
        self._read(5.0 if timeout is None else timeout)
        if self.exitcode is not None and not self._closed:
            self._closed = True
            os.close(self.sentinel)

    def kill(self) -> None:
        if self.exitcode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, 9)


class Keys:
    """The key each model is kept under; artifacts re-hashed only when their stat changes."""

    def __init__(self) -> None:
        self._hashes: dict[tuple[str, tuple[int, ...]], str] = {}  # (path, stat) -> sha256

    def entry(
        self,
        spec: ModelSpec,
        fmt: str,
        *,
        live: Mapping[Tournament, LiveData],
        models_dir: Path | None,
        compiled: Path | None,
        memory_mb: int | None,
    ) -> Entry | None:
        if fmt not in RESIDENT_FORMATS or spec.artifact is None or spec.tournament not in live:
            return None
        try:
            sha = self.sha256(spec.artifact)
        except OSError:
            return None  # the child reports it
        sets = live[spec.tournament].feature_sets
        columns = sets.get(spec.features) if isinstance(spec.features, str) and sets else None
        from ._resident_server import Entry

        # A prepared forest is kept too: its walk is numba code without a thread of its own
        # (threads only for more than one thread asked, in the worker). Whether an entry is
        # ready is part of the key: a model prepared between rounds is loaded again, as a
        # forest.
        ready = fmt == "lightgbm" and _compiled_ready(compiled, sha)
        text = repr((spec, fmt, sha, columns, str(models_dir), str(compiled), ready))
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        bound = spec.memory_mb or memory_mb
        return Entry(key, spec, sha, sets, models_dir, compiled, bound)

    def sha256(self, path: Path) -> str:
        key = (str(path), stamp(path))
        if key not in self._hashes:
            self._hashes = {k: v for k, v in self._hashes.items() if k[0] != str(path)}
            self._hashes[key] = sha256_file(path)
        return self._hashes[key]


def write_state(path: Path, state: Mapping[str, Any]) -> None:
    """``<state>/resident.json`` for ``status`` (atomic; a failure only logs)."""
    target = path / "resident.json"
    try:
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        log.debug("cannot write %s: %s", target, exc)


def _compiled_ready(root: Path | None, sha: str) -> bool:
    """Whether a verified compiled entry exists now (then the worker loads the model)."""
    if root is None or not root.is_dir():
        return False
    from ..compiled import CompiledStore, Engine

    return Engine.installed() is not None and CompiledStore(root).ready(sha)


def read_state(path: Path) -> dict[str, Any] | None:
    """What ``<state>/resident.json`` says, when the server it names is still running."""
    from .. import _platform

    try:
        state = json.loads((path / "resident.json").read_text(encoding="utf-8"))
        pid = int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if _platform.HOST.pid_alive(pid) else None


def clear_state(path: Path) -> None:
    """Remove ``resident.json`` once the server it names has ended."""
    if read_state(path) is None:
        with contextlib.suppress(OSError):
            (path / "resident.json").unlink()


def describe(state: Mapping[str, Any]) -> str:
    """One line for ``status``: the server, its RSS against the limit, the models it holds."""
    models = ", ".join(state.get("models") or {}) or "none"
    return (
        f"resident server pid {state['pid']}: {state.get('rss_mb', 0):.0f} MB RSS "
        f"(limit {state.get('limit_mb')} MB); models loaded: {models}"
    )


def report_line(state: Mapping[str, Any], out: Mapping[str, str]) -> str:
    """The run's log line: RSS against the limit, what is resident, what loads per run."""
    kept = ", ".join(f"{n} ({s})" for n, s in state["models"].items()) or "none"
    per_run = "; loaded per run: " + ", ".join(f"{n} ({s})" for n, s in out.items())
    return (
        f"resident server pid {state['pid']}: {state['rss_mb']:.0f} MB RSS of "
        f"{state['limit_mb']} MB; models resident: {kept}{per_run if out else ''}"
    )
