"""Compiling every LightGBM model of a models file, outside the round: ``models prepare``.

One compile at a time (the store's lock, never waited for: a busy cache is reported and
skipped), each in a child process with a memory bound and a timeout. A run never waits for
any of this: it uses the entries that are ready and LightGBM for the others.
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
from collections.abc import Sequence
from dataclasses import dataclass

import filelock
import numpy as np

from ..config import ModelSpec
from ..fileio import sha256_file, write_atomic
from ._store import BAD, CompiledStore, Engine, entry_name, host_cpu
from ._support import unsupported_reason

log = logging.getLogger(__name__)

DEFAULT_MEMORY_MB = 6144  # the example model's compile peaks at about 2.8 GB
DEFAULT_TIMEOUT = 3600.0  # its compile takes about 250 s of CPU on a 2-core machine
_SECRET = re.compile(r"^NUMERAI_|SECRET|KEY|TOKEN|PASSWORD|CREDENTIAL", re.IGNORECASE)
_SAMPLE_ROWS = 512


@dataclass(frozen=True)
class Prepared:
    """One model's compiled-cache state after prepare."""

    model: str
    status: str
    """ready (was already), compiled, refused (lleaves cannot), mismatch (compiled but not
    equal to LightGBM: LightGBM is used), failed, busy (another compile runs), no-sample,
    unavailable (no ``fast`` extra)."""
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
    """Compile and verify each LightGBM model in ``specs`` that has no usable entry
    (``nice``: the compile children's lower priority)."""
    lightgbm = [s for s in specs if is_lightgbm(s)]
    if not lightgbm:
        return []
    engine = Engine.installed()
    if engine is None:
        why = "pip install 'numerai-autopilot[fast]' to compile LightGBM models"
        return [Prepared(s.name, "unavailable", why) for s in lightgbm]
    lock = store.lock()
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        return [Prepared(s.name, "busy", "another compile is running") for s in lightgbm]
    try:
        store.sweep()
        cpu = host_cpu()
        return [
            _one(s, store, engine=engine, cpu=cpu, memory_mb=memory_mb, timeout=timeout, nice=nice)
            for s in lightgbm
        ]
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


def _one(
    spec: ModelSpec,
    store: CompiledStore,
    *,
    engine: Engine,
    cpu: dict[str, str],
    memory_mb: int,
    timeout: float,
    nice: int,
) -> Prepared:
    path = spec.artifact
    assert path is not None  # noqa: S101  filtered by _is_lightgbm
    reason = unsupported_reason(path)
    if reason is not None:
        return Prepared(spec.name, "refused", reason)
    sha = sha256_file(path)
    name = entry_name(sha, engine, cpu)
    problem = store.problem(name)
    meta = store.meta(name)
    if problem is None:
        return Prepared(spec.name, "ready", name)
    if meta is not None and meta.get("status") == BAD and store.rejected(name) is None:
        # Compiled and verified as unequal: compiling again gives the same object.
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
    return _compile(
        spec,
        store,
        name=name,
        sha=sha,
        sample=sample,
        memory_mb=memory_mb,
        timeout=timeout,
        nice=nice,
    )


def _compile(
    spec: ModelSpec,
    store: CompiledStore,
    *,
    name: str,
    sha: str,
    sample: object,
    memory_mb: int,
    timeout: float,
    nice: int,
) -> Prepared:
    staged = store.staging(name)
    env = {k: v for k, v in os.environ.items() if not _SECRET.search(k)}
    cmd = [sys.executable, "-m", f"{__package__}._build"]
    cmd += [str(spec.artifact), str(sample), str(staged), sha, str(memory_mb), str(nice)]
    started = time.monotonic()
    try:
        # Our own module with this interpreter: no shell, no user input in the command.
        proc = subprocess.run(  # noqa: S603
            cmd, capture_output=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        shutil.rmtree(staged, ignore_errors=True)
        return Prepared(spec.name, "failed", f"the compile took over {timeout:g} s")
    except BaseException:  # Ctrl-C: subprocess.run has killed the child; leave nothing staged
        shutil.rmtree(staged, ignore_errors=True)
        raise
    lines = proc.stdout.decode("utf-8", "replace").strip().splitlines()
    try:
        doc = json.loads(lines[-1]) if lines else {}
    except ValueError:
        doc = {}
    if proc.returncode != 0 or "status" not in doc:
        shutil.rmtree(staged, ignore_errors=True)
        why = doc.get("error") or _exit(proc.returncode, memory_mb)
        return Prepared(spec.name, "failed", str(why), time.monotonic() - started)
    store.install(staged, name)
    status = "compiled" if doc["status"] != BAD else "mismatch"
    detail = name if status == "compiled" else str(doc.get("reason"))
    return Prepared(spec.name, status, detail, doc.get("compile_seconds"), doc.get("peak_mb"))


def _exit(code: int, memory_mb: int) -> str:
    if code < 0:
        # LLVM aborts (SIGABRT) when an allocation fails under the bound.
        return f"the compiler died (signal {-code}) under a memory bound of {memory_mb} MB"
    return f"the compiler exited with code {code} under a memory bound of {memory_mb} MB"
