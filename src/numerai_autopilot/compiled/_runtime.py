"""Loading a verified compiled object and predicting with it (inside a prediction worker).

The object is read once, its sha256 checked against the entry's metadata, and handed to LLVM's
MCJIT from memory (lleaves' own cache loader re-reads the path, unchecked). Before first use in
this process it predicts the entry's stored sample and must agree with the LightGBM predictions
stored beside it; an entry that does not is rejected (marked, so no run uses it again until
``models prepare`` rebuilds it).
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import hashlib
import math
from pathlib import Path
from typing import Any

import numpy as np

from ._store import EXPECTED, OBJECT, SAMPLE, CompiledStore, Engine, entry_name, host_cpu
from ._verify import disagreement

_ENTRY = ctypes.CFUNCTYPE(
    None,
    ctypes.POINTER(ctypes.c_double),
    ctypes.POINTER(ctypes.c_double),
    ctypes.c_int32,
    ctypes.c_int32,
)


class CompiledForest:
    """A compiled LightGBM model: float64 rows in the model's feature order -> predictions."""

    def __init__(self, engine: Any, features: list[str], name: str) -> None:
        self._engine = engine  # keeps the machine code mapped
        self._fn = _ENTRY(engine.get_function_address("forest_root"))
        self.features = features
        self.n_features = len(features)
        self.name = name

    def predict(self, x: np.ndarray[Any, Any], threads: int = 1) -> np.ndarray[Any, Any]:
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"rows must have {self.n_features} features, not {x.shape}")
        n = x.shape[0]
        if n >= 2**31 - 1:
            raise ValueError("too many rows for one call")
        out = np.zeros(n, dtype=np.float64)
        pd_, po = _ptr(x), _ptr(out)
        if threads <= 1 or n < 1024:
            self._fn(pd_, po, 0, n)
            return out
        step = math.ceil(n / threads)
        # The compiled function releases the GIL (ctypes): threads predict disjoint slices.
        with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
            done = [pool.submit(self._fn, pd_, po, i, min(i + step, n)) for i in range(0, n, step)]
            for f in done:
                f.result()
        return out


def _ptr(a: np.ndarray[Any, Any]) -> Any:
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def load_object(data: bytes, cpu: dict[str, str] | None = None) -> Any:
    """An MCJIT engine whose one module is the compiled object ``data`` (for this CPU)."""
    import llvmlite.binding as llvm

    llvm.initialize()
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    cpu = cpu or host_cpu()
    target = llvm.Target.from_triple(llvm.get_process_triple())
    machine = target.create_target_machine(
        cpu=cpu["name"], features=cpu["features"], reloc="pic", codemodel="large"
    )
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), machine)
    engine.set_object_cache(getbuffer_func=lambda _module: data)
    engine.finalize_object()
    engine.run_static_constructors()
    return engine


def open_verified(
    store: CompiledStore, artifact_sha256: str
) -> tuple[CompiledForest | None, str | None]:
    """The artifact's compiled model if a verified entry for this engine and CPU exists and
    agrees with LightGBM on its stored sample now: (forest, None). Else (None, why): why is
    None when there is simply no entry (compile it with ``models prepare``)."""
    engine = Engine.installed()
    if engine is None or not store.ready(artifact_sha256):
        return None, None  # decided without importing llvmlite (about 0.5 s)
    name = entry_name(artifact_sha256, engine, host_cpu())
    if not store.entry(name).exists():
        return None, None
    problem = store.problem(name)
    if problem is not None:
        return None, f"compiled entry {name} not used: {problem}"
    d = store.entry(name)
    meta = store.meta(name) or {}
    data = (d / OBJECT).read_bytes()
    if hashlib.sha256(data).hexdigest() != meta.get("object_sha256"):
        return None, f"compiled entry {name} not used: the object changed while reading it"
    features = meta.get("features")
    if not isinstance(features, list) or len(features) != meta.get("n_features"):
        store.reject(name, "no feature list in its metadata")
        return None, f"compiled entry {name} rejected: no feature list in its metadata"
    forest = CompiledForest(load_object(data), [str(f) for f in features], name)
    why = _check_sample(d, forest)
    if why is not None:
        store.reject(name, why)
        return None, f"compiled entry {name} rejected on its stored sample: {why}"
    return forest, None


def _check_sample(d: Path, forest: CompiledForest) -> str | None:
    try:
        sample = np.load(d / SAMPLE, allow_pickle=False)
        expected = np.load(d / EXPECTED, allow_pickle=False)
    except (OSError, ValueError) as exc:
        return f"unreadable sample: {exc}"
    try:
        got = forest.predict(sample)
    except ValueError as exc:
        return str(exc)
    return disagreement(expected, got)
