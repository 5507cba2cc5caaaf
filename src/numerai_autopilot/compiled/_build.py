"""One compile, in a child process of its own: ``python -m numerai_autopilot.compiled._build``.

A child because LLVM's memory for an example-size model (2,000 trees) is about 2.8 GB and a
compile may crash: the bound (RLIMIT_DATA) and a crash stay there. It writes the entry's files
into the staging folder it is given and prints one JSON line; the parent installs the entry.
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
from ._runtime import CompiledForest, load_object
from ._store import BAD, EXPECTED, META, OBJECT, SAMPLE, VERIFIED, Engine, host_cpu, write_file
from ._verify import disagreement, with_missing


def build(artifact: Path, sample: Path, staged: Path, artifact_sha256: str) -> dict[str, Any]:
    """Compile ``artifact`` into ``staged`` and verify it against LightGBM on the stored live
    rows at ``sample`` (plus a copy with missing values). Returns the metadata written."""
    # LightGBM imports scikit-learn, scipy and pandas when they are installed, for APIs a
    # Booster does not use: 1-14 s of this child's start on 2 busy cores. Hidden here only.
    for optional in ("sklearn", "pandas", "dask", "polars"):
        sys.modules.setdefault(optional, None)  # type: ignore[arg-type]
    import lightgbm as lgb
    import lleaves

    booster = lgb.Booster(model_file=str(artifact))
    names = list(booster.feature_name())
    with np.load(sample, allow_pickle=False) as stored:
        where = {str(c): i for i, c in enumerate(stored["columns"])}
        absent = [n for n in names if n not in where]
        if absent:
            raise ValueError(f"the stored live rows lack {len(absent)} of the model's features")
        values = stored["values"]
    x = with_missing(values[:, [where[n] for n in names]].astype(np.float64))
    expected = np.asarray(booster.predict(x, num_threads=1), dtype=np.float64)
    started = time.monotonic()
    model = lleaves.Model(model_file=str(artifact))
    model.compile(cache=str(staged / OBJECT))
    seconds = time.monotonic() - started
    data = (staged / OBJECT).read_bytes()
    # Verified as the run will use it: loaded from the bytes, not lleaves' in-memory engine.
    forest = CompiledForest(load_object(data), names, "staged")
    why = disagreement(expected, np.asarray(model.predict(x, n_jobs=1))) or disagreement(
        expected, forest.predict(x)
    )
    write_file(staged / SAMPLE, _npy(x))
    write_file(staged / EXPECTED, _npy(expected))
    engine = Engine.installed()
    meta = {
        "format": 1,
        "artifact_sha256": artifact_sha256,
        "engine": engine.__dict__ if engine else None,
        "cpu": host_cpu(),
        "object_sha256": hashlib.sha256(data).hexdigest(),
        "n_features": len(names),
        "features": names,
        "sample_rows": len(x),
        "status": BAD if why else VERIFIED,
        "reason": why,
        "max_abs_diff": float(np.max(np.abs(forest.predict(x) - expected))) if len(x) else 0.0,
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


def main(argv: list[str]) -> int:
    artifact, sample, staged, sha, memory_mb, nice = argv
    if int(nice) > 0:  # the scheduler's background compile: a run meanwhile gets the cores
        with contextlib.suppress(OSError, AttributeError):
            os.nice(int(nice))
    host = _platform.HOST
    base = host.data_bytes()
    if base is not None and int(memory_mb) > 0:
        host.limit_data(base + int(memory_mb) * 1024 * 1024)
    try:
        meta = build(Path(artifact), Path(sample), Path(staged), sha)
    except MemoryError:
        print(json.dumps({"error": f"out of memory under a memory bound of {memory_mb} MB"}))
        return 1
    except Exception as exc:  # noqa: BLE001  lleaves/LLVM/LightGBM errors: reported, one line
        # Under the bound, a failed allocation in C code surfaces as any error at all.
        bound = f" (under a memory bound of {memory_mb} MB: --memory-mb)" if int(memory_mb) else ""
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}{bound}"}))
        return 1
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
