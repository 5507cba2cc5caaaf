"""Running the walks: native objects loaded with llvmlite, called through ctypes.

The objects are compiled once per machine by ``_build_walks`` (numba, in the preparation
child) into the ``jit`` folder, keyed by the walks' source, numba's and llvmlite's versions and
the CPU; a run loads them in about 0.2 s with llvmlite alone (numba would cost about 3 s of
import and first dispatch in every run). Machine code runs as loaded: the folder has the
models folder's trust, and each object's sha256 is checked against the manifest.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import dataclasses
import hashlib
import json
import math
import threading
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ._forest import Forest

_MIN_ROWS_PER_THREAD = 1024
_SOURCES = ("_walks.py", "_build_walks.py", "_kinds.py")
_P = ctypes.c_void_p
_I = ctypes.c_int64
_LOCK = threading.Lock()
_loaded: dict[str, Walks] = {}


class WalksUnavailable(LookupError):
    """No compiled walks for this machine in the folder (``models prepare`` builds them)."""


@dataclasses.dataclass
class Walks:
    """The loaded walks by name (``heap_int8``...), and the engine that keeps them mapped."""

    functions: dict[str, Any]
    engine: Any


def key() -> dict[str, Any]:
    """What the objects depend on: the walks' text, the compilers' versions, this CPU."""
    import llvmlite.binding as llvm

    here = Path(__file__).parent
    source = hashlib.sha256(b"".join((here / s).read_bytes() for s in _SOURCES)).hexdigest()
    try:
        features = str(llvm.get_host_cpu_features().flatten())
    except RuntimeError:  # LLVM cannot detect them on some hosts: the name alone then
        features = ""
    numba = _version("numba")
    cpu = {"name": str(llvm.get_host_cpu_name()), "features": features}
    return {"source": source, "numba": numba, "llvmlite": _version("llvmlite"), "cpu": cpu}


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def walks(jit: Path, *, build: bool = False) -> Walks:
    """The walks compiled for this machine under ``jit`` (built first when ``build`` and
    missing or stale; else :class:`WalksUnavailable`). Loaded once per process."""
    with _LOCK:
        if str(jit) in _loaded:
            return _loaded[str(jit)]
        want = key()
        manifest = _manifest(jit)
        if manifest is None or manifest.get("key") != want:
            if not build:
                raise WalksUnavailable(f"no compiled walks for this machine in {jit}")
            from ._build_walks import build as compile_walks

            manifest = compile_walks(jit, want)
        _loaded[str(jit)] = loaded = _load(jit, manifest)
        return loaded


def compiled_for_this_machine(jit: Path) -> bool:
    """Whether ``jit`` holds walks for this machine and these versions (imports llvmlite)."""
    manifest = _manifest(jit)
    return manifest is not None and manifest.get("key") == key()


def _manifest(jit: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads((jit / "walks.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _noop(_: int) -> None:
    """Stands for numba's ``NRT_MemInfo_call_dtor``, which the objects declare but never
    call (the walks allocate nothing)."""


_DTOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(_noop)


def _load(jit: Path, manifest: dict[str, Any]) -> Walks:
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    llvm.add_symbol("NRT_MemInfo_call_dtor", ctypes.cast(_DTOR, ctypes.c_void_p).value or 0)
    target = llvm.Target.from_default_triple()
    cpu = manifest["key"]["cpu"]
    machine = target.create_target_machine(
        cpu=cpu["name"], features=cpu["features"], reloc="pic", codemodel="default"
    )
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), machine)
    symbols = {}
    for name, doc in manifest["objects"].items():
        data = (jit / f"{name}.o").read_bytes()
        if hashlib.sha256(data).hexdigest() != doc["sha256"]:
            raise WalksUnavailable(f"{jit / name}.o changed since it was compiled")
        engine.add_object_file(llvm.ObjectFileRef.from_data(data))
        symbols[name] = doc["symbol"]
    engine.finalize_object()
    functions = {}
    for name, symbol in symbols.items():
        arity, ints = _SIGNATURES[name.split("_", 1)[0]]
        prototype = ctypes.CFUNCTYPE(None, *(_I if i in ints else _P for i in range(arity)))
        functions[name] = prototype(engine.get_function_address(symbol))
    return Walks(functions, engine)


# Each walk's C signature as ``_build_walks`` declares it: its arity and which arguments are
# int64 sizes (the others are pointers).
_SIGNATURES = {
    "heap": (12, (1, 2, 7, 8)),
    "fast": (15, (1, 2, 3, 4)),
    "general": (20, (1, 2, 3, 4, 5)),
}


def warm(jit: Path | None) -> None:
    """Load the walks now, when compiled (the fork server calls this: workers inherit them)."""
    if jit is None:
        return
    try:
        walks(jit)
    except Exception:  # noqa: BLE001  never the fork server's death: a worker says why
        return


def _ptr(a: np.ndarray[Any, Any]) -> int:
    return int(a.ctypes.data)


def predict_raw(
    forest: Forest, x: np.ndarray[Any, Any], *, threads: int = 1, jit: Path, build: bool = False
) -> np.ndarray[Any, Any]:
    """The forest's predictions for the rows ``x`` (columns in ``forest.features`` order),
    with the walks compiled under ``jit`` (``build``: compile them if missing)."""
    if x.ndim != 2 or x.shape[1] != forest.n_features:
        raise ValueError(f"rows must have {forest.n_features} features, not {x.shape}")
    row = "int8" if x.dtype == np.int8 else "float32" if x.dtype == np.float32 else "float64"
    x = np.ascontiguousarray(x, dtype=np.dtype(row))  # other integers: exact as float64
    loaded = walks(jit, build=build)
    out = np.empty(x.shape[0], dtype=np.float64)
    call = _caller(forest, loaded, row)
    n = x.shape[0]
    if threads <= 1 or n < 2 * _MIN_ROWS_PER_THREAD:
        call(x, out)
    else:
        step = math.ceil(n / threads)
        # ctypes releases the GIL for the call: threads take disjoint slices of rows.
        with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
            jobs = [
                pool.submit(call, x[i : i + step], out[i : i + step]) for i in range(0, n, step)
            ]
            for job in jobs:
                job.result()
    return finish(forest, out)


def _caller(
    f: Forest, loaded: Walks, row: str
) -> Callable[[np.ndarray[Any, Any], np.ndarray[Any, Any]], None]:
    h = f.heap
    if h is not None:
        fn = loaded.functions[f"heap_{row}"]
        trees = len(h.leaves) // (2**h.depth)
        fixed: tuple[Any, ...] = (_ptr(h.feature), _ptr(h.threshold), _ptr(h.nan_left))
        fixed += (_ptr(h.leaves), trees, h.depth)
        sizes: tuple[Any, ...] = ()
    elif f.fast:
        fn = loaded.functions[f"fast_{row}"]
        sizes = (len(f.kind), len(f.roots))
        fixed = tuple(_ptr(a) for a in (f.feature, f.threshold, f.nan_left, f.children))
        fixed += tuple(_ptr(a) for a in (f.value, f.roots, f.depths))
    else:
        fn = loaded.functions[f"general_{row}"]
        sizes = (len(f.kind), len(f.roots), len(f.cat_bits))
        arrays: tuple[Any, ...] = (f.feature, f.threshold, f.kind, f.default_left, f.children)
        arrays += (f.value,)
        arrays += (f.cat_start, f.cat_len, f.cat_bits, f.roots, f.depths)
        fixed = tuple(_ptr(a) for a in arrays)

    def call(x: np.ndarray[Any, Any], out: np.ndarray[Any, Any]) -> None:
        idx, acc = np.zeros(32, np.int64), np.zeros(32, np.float64)
        n, width = x.shape
        if h is not None:
            fn(_ptr(x), n, width, *fixed, _ptr(idx), _ptr(acc), _ptr(out))
        else:
            fn(_ptr(x), n, width, *sizes, *fixed, _ptr(idx), _ptr(acc), _ptr(out))

    return call


def finish(forest: Forest, raw: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The objective's transform of the trees' sum (LightGBM's ConvertOutput)."""
    if forest.average:
        raw = raw / len(forest.roots)
    if forest.sigmoid:
        return 1.0 / (1.0 + np.exp(-forest.sigmoid * raw))
    return raw
