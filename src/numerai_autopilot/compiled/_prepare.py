"""Preparing every LightGBM model of a models file, outside the round: ``models prepare``.

One preparation at a time (the store's lock, never waited for: a busy cache is reported and
skipped), all models in one child process with a memory bound and a timeout. A run never
waits for any of this: it uses the entries that are ready and LightGBM for the others.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock
import numpy as np

from ..config import ModelSpec
from ..fileio import sha256_file, write_atomic
from ._kernel import compiled_for_this_machine
from ._runtime import jit_dir
from ._store import BAD, CompiledStore, Engine, entry_name
from ._support import unsupported_reason

log = logging.getLogger(__name__)

DEFAULT_MEMORY_MB = 2048  # the example model's preparation child peaks at about 290 MB
# The example model takes about 1 s (plus the walk's one-time compile, about 10 s): the bound
# is for a models file of many, or a machine far busier than ours.
DEFAULT_TIMEOUT = 900.0
_SECRET = re.compile(r"^NUMERAI_|SECRET|KEY|TOKEN|PASSWORD|CREDENTIAL", re.IGNORECASE)
_SAMPLE_ROWS = 512


@dataclass(frozen=True)
class Prepared:
    """One model's compiled-cache state after prepare."""

    model: str
    status: str
    """ready (was already), compiled (prepared now), refused (the walk does not reproduce
    it), mismatch (prepared but not equal to LightGBM: LightGBM is used), failed, busy
    (another preparation runs), no-sample, unavailable (no ``fast`` extra)."""
    detail: str = ""
    seconds: float | None = None
    peak_mb: float | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("ready", "compiled", "refused", "busy", "unavailable")


def remember_sample(store: CompiledStore, label: str, frame: object) -> None:
    """Store some live rows of a tournament (what compiled models are verified on), unless a
    recent sample is there. Called by a run after loading the live data; never fails it."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame) or frame.empty:
        return
    numeric = [c for c, d in frame.dtypes.items() if pd.api.types.is_numeric_dtype(d)]
    if not store.sample_stale(label) and _covers(store, label, numeric):
        return
    step = max(1, len(frame) // _SAMPLE_ROWS)
    # Numeric columns only: a frame loaded whole (a Model Upload function in the group) also
    # has era and data_type, which no tree is fed.
    rows = frame.iloc[::step].iloc[:_SAMPLE_ROWS][numeric]
    buf = io.BytesIO()
    try:
        store.ensure()
        store.sample_path(label).parent.mkdir(mode=0o700, exist_ok=True)
        # Plain arrays (no pickle, no pandas needed to read them): the compile child stays lean.
        columns = np.array([str(c) for c in rows.columns])
        np.savez(buf, columns=columns, values=rows.to_numpy(dtype=np.float32))
        write_atomic(store.sample_path(label), buf.getvalue(), mode=0o600)
    except (OSError, ValueError, TypeError) as exc:
        log.warning("could not store live rows for compiled models: %s", exc)


def _covers(store: CompiledStore, label: str, columns: list[object]) -> bool:
    """Whether the stored sample has every one of ``columns`` (a new model's features)."""
    try:
        with np.load(store.sample_path(label), allow_pickle=False) as stored:
            names = {str(c) for c in stored["columns"]}
    except (OSError, ValueError, KeyError):
        return False
    return {str(c) for c in columns} <= names


def prepare(
    specs: Sequence[ModelSpec],
    store: CompiledStore,
    *,
    memory_mb: int = DEFAULT_MEMORY_MB,
    timeout: float = DEFAULT_TIMEOUT,
    nice: int = 0,
) -> list[Prepared]:
    """Prepare and verify each LightGBM model in ``specs`` that has no usable entry, all in
    one child process (``nice``: its lower priority)."""
    lightgbm = [s for s in specs if is_lightgbm(s)]
    if not lightgbm:
        return []
    engine = Engine.installed()
    if engine is None:
        why = "pip install 'numerai-autopilot[fast]' to prepare LightGBM models"
        return [Prepared(s.name, "unavailable", why) for s in lightgbm]
    lock = store.lock()
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        return [Prepared(s.name, "busy", "another preparation is running") for s in lightgbm]
    try:
        store.sweep()
        done: dict[str, Prepared] = {}
        todo: list[_Job] = []
        for s in lightgbm:
            p = _state(s, store, engine)
            if isinstance(p, Prepared):
                done[s.name] = p
            else:
                todo.append(p)
        jit = jit_dir(store)
        if jit is None:  # no run would load the walks from there: no entry is usable
            why = "the walks' folder may be written by another user: no machine code is loaded"
            return [
                p if p.status == "refused" else Prepared(p.model, "failed", why)
                for p in (done.get(s.name) or Prepared(s.name, "failed") for s in lightgbm)
            ]
        # With every entry ready the child may still be needed: entries from before an
        # upgrade (or another machine's state folder) need the walks compiled for this one.
        if todo or not compiled_for_this_machine(jit):
            for p in _build(todo, store, jit, memory_mb=memory_mb, timeout=timeout, nice=nice):
                done[p.model] = p
        return [done[s.name] for s in lightgbm]
    finally:
        lock.release()


def is_lightgbm(spec: ModelSpec) -> bool:
    """A LightGBM text model by its first line (a wrong artifact is the run's to report)."""
    if spec.artifact is None or spec.format not in (None, "lightgbm"):
        return False
    try:
        with spec.artifact.open("rb") as f:
            head = f.read(6)
        return head.startswith(b"tree\n") or head == b"tree\r\n"
    except OSError:
        return False


@dataclass(frozen=True)
class _Job:
    spec: ModelSpec
    name: str
    sha: str
    sample: Path


def _state(spec: ModelSpec, store: CompiledStore, engine: Engine) -> Prepared | _Job:
    """The model's entry as it is (a :class:`Prepared`), or the job that builds it."""
    path = spec.artifact
    assert path is not None  # noqa: S101  filtered by is_lightgbm
    reason = unsupported_reason(path)
    if reason is not None:
        return Prepared(spec.name, "refused", reason)
    sha = sha256_file(path)
    name = entry_name(sha, engine)
    problem = store.problem(name)
    meta = store.meta(name)
    if problem is None:
        return Prepared(spec.name, "ready", name)
    if meta is not None and meta.get("status") == BAD and store.rejected(name) is None:
        # Built and verified as unequal: building again gives the same forest.
        return Prepared(spec.name, "mismatch", str(meta.get("reason")))
    sample = store.sample_path(spec.tournament.label)
    if not sample.exists():
        return Prepared(
            spec.name,
            "no-sample",
            "no live rows stored yet: `numerai-autopilot models check` (or a run) stores them",
        )
    if meta is not None or store.entry(name).exists():
        log.info("rebuilding compiled entry %s of %s: %s", name, spec.name, problem)
    return _Job(spec, name, sha, sample)


def _build(
    jobs: Sequence[_Job],
    store: CompiledStore,
    jit: Path,
    *,
    memory_mb: int,
    timeout: float,
    nice: int,
) -> list[Prepared]:
    """Build ``jobs`` in one child (none: the child compiles the walks only)."""
    staged = {j.spec.name: store.staging(j.name) for j in jobs}
    request = [
        {"model": j.spec.name, "artifact": str(j.spec.artifact), "sample": str(j.sample)}
        | {"staged": str(staged[j.spec.name]), "sha": j.sha}
        for j in jobs
    ]
    env = {k: v for k, v in os.environ.items() if not _SECRET.search(k)}
    cmd = [sys.executable, "-m", f"{__package__}._build", str(memory_mb), str(nice), str(jit)]
    started = time.monotonic()
    try:
        # Our own module with this interpreter: no shell, no user input in the command.
        proc = subprocess.run(  # noqa: S603
            cmd,
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        _discard(staged.values())
        return [Prepared(j.spec.name, "failed", f"over {timeout:g} s") for j in jobs]
    except BaseException:  # Ctrl-C: subprocess.run has killed the child; leave nothing staged
        _discard(staged.values())
        raise
    took = time.monotonic() - started
    answers = _answers(proc.stdout)
    out = []
    for j in jobs:
        doc = answers.get(j.spec.name) or answers.get("") or {}
        code = proc.returncode
        where = staged[j.spec.name]
        out.append(_install(j, store, where, doc, code=code, memory_mb=memory_mb, took=took))
    return out


def _answers(stdout: bytes) -> dict[str, dict[str, Any]]:
    """The child's JSON lines by model ("" for an error before any model)."""
    out: dict[str, dict[str, Any]] = {}
    for line in stdout.decode("utf-8", "replace").splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict):
            out[str(doc.get("model", ""))] = doc
    return out


def _install(
    job: _Job,
    store: CompiledStore,
    staged: Path,
    doc: dict[str, Any],
    *,
    code: int,
    memory_mb: int,
    took: float,
) -> Prepared:
    name = job.spec.name
    if "refused" in doc:
        shutil.rmtree(staged, ignore_errors=True)
        return Prepared(name, "refused", str(doc["refused"]))
    if "status" not in doc:
        shutil.rmtree(staged, ignore_errors=True)
        why = doc.get("error") or _exit(code, memory_mb)
        return Prepared(name, "failed", str(why), took)
    store.install(staged, job.name)
    status = "compiled" if doc["status"] != BAD else "mismatch"
    detail = job.name if status == "compiled" else str(doc.get("reason"))
    return Prepared(name, status, detail, doc.get("compile_seconds"), doc.get("peak_mb"))


def _discard(paths: Iterable[Path]) -> None:
    for p in paths:
        shutil.rmtree(p, ignore_errors=True)


def _exit(code: int, memory_mb: int) -> str:
    if code < 0:
        return f"the preparation died (signal {-code}) under a memory bound of {memory_mb} MB"
    return f"the preparation exited with code {code} under a memory bound of {memory_mb} MB"
