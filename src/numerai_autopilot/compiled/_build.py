"""Preparing forests in a child process: ``python -m numerai_autopilot.compiled._build``.

A child because LightGBM and numba are loaded only there (the parent may be the scheduler,
which stays lean) and because a memory bound (RLIMIT_DATA) and a crash stay there. It reads a
JSON list of jobs on stdin, writes each entry's files into the staging folder the job names,
and prints one JSON line per job; the parent installs the entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import _platform
from ._forest import Unsupported, read_forest
from ._kernel import walks
from ._runtime import CompiledForest, _check_as_integers
from ._store import BAD, EXPECTED, FORMAT, META, OBJECT, SAMPLE, VERIFIED, Engine, write_file
from ._verify import disagreement, with_missing


def build(
    artifact: Path, sample: Path, staged: Path, artifact_sha256: str, jit: Path
) -> dict[str, Any]:
    """Read ``artifact`` into a forest in ``staged`` and verify it against LightGBM on the
    stored live rows at ``sample`` (plus a copy with missing values). Returns the metadata."""
    # LightGBM imports scikit-learn, scipy and pandas when they are installed, for APIs a
    # Booster does not use: 1-14 s of this child's start on 2 busy cores. Hidden here only.
    for optional in ("sklearn", "pandas", "dask", "polars"):
        sys.modules.setdefault(optional, None)  # type: ignore[arg-type]
    import lightgbm as lgb

    started = time.monotonic()
    forest = read_forest(artifact)
    seconds = time.monotonic() - started
    booster = lgb.Booster(model_file=str(artifact))
    names = list(booster.feature_name())
    if names != list(forest.features):
        raise ValueError("the forest's feature list is not LightGBM's")
    with np.load(sample, allow_pickle=False) as stored:
        where = {str(c): i for i, c in enumerate(stored["columns"])}
        absent = [n for n in names if n not in where]
        if absent:
            raise ValueError(f"the stored live rows lack {len(absent)} of the model's features")
        values = stored["values"]
    x = with_missing(values[:, [where[n] for n in names]].astype(np.float64))
    expected = np.asarray(booster.predict(x, num_threads=1), dtype=np.float64)
    data = forest.to_bytes()
    write_file(staged / OBJECT, data)
    # Verified as the run will use it: read back from the bytes written.
    staged_forest = CompiledForest(type(forest).from_bytes(data), "staged", jit, build=True)
    got = staged_forest.predict(x)
    why = disagreement(expected, got) or _check_as_integers(staged_forest, x, expected)
    write_file(staged / SAMPLE, _npy(x))
    write_file(staged / EXPECTED, _npy(expected))
    engine = Engine.installed()
    meta = {
        "format": FORMAT,
        "artifact_sha256": artifact_sha256,
        "engine": engine.__dict__ if engine else None,
        "object_sha256": hashlib.sha256(data).hexdigest(),
        "n_features": len(names),
        "features": names,
        "trees": len(forest.roots),
        "nodes": len(forest.kind),
        "walk": "fast" if forest.fast else "general",
        "sample_rows": len(x),
        "status": BAD if why else VERIFIED,
        "reason": why,
        "max_abs_diff": float(np.max(np.abs(got - expected))) if len(x) else 0.0,
        "compile_seconds": round(seconds, 3),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "created": time.time(),
    }
    write_file(staged / META, json.dumps(meta, indent=1).encode())
    return meta


def _npy(a: np.ndarray[Any, Any]) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _one(job: dict[str, str], jit: Path, memory_mb: int) -> dict[str, Any]:
    try:
        return build(
            Path(job["artifact"]), Path(job["sample"]), Path(job["staged"]), job["sha"], jit
        )
    except Unsupported as exc:
        return {"refused": str(exc)}
    except MemoryError:
        return {"error": f"out of memory under a memory bound of {memory_mb} MB"}
    except Exception as exc:  # noqa: BLE001  a damaged model or LightGBM's error: one line
        # Under the bound, a failed allocation in C code surfaces as any error at all.
        bound = f" (under a memory bound of {memory_mb} MB: --memory-mb)" if memory_mb else ""
        return {"error": f"{type(exc).__name__}: {exc}{bound}"}


def main(argv: list[str]) -> int:
    memory_mb, nice = int(argv[0]), int(argv[1])
    jit = Path(argv[2])
    if nice > 0:  # the scheduler's background preparation: a run meanwhile gets the cores
        with contextlib.suppress(OSError, AttributeError):
            os.nice(nice)
    host = _platform.HOST
    base = host.data_bytes()
    if base is not None and memory_mb > 0:
        host.limit_data(base + memory_mb * 1024 * 1024)
    jobs = json.loads(sys.stdin.read() or "[]")
    try:
        walks(jit, build=True)  # once per machine: numba compiles, llvmlite emits objects
    except Exception as exc:  # noqa: BLE001  numba or LLVM failing, often under the bound
        bound = f" under a memory bound of {memory_mb} MB" if memory_mb else ""
        print(json.dumps({"error": f"the walk did not compile{bound}: {type(exc).__name__}"}))
        return 1
    for job in jobs:
        print(json.dumps({"model": job["model"], **_one(job, jit, memory_mb)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
