"""The forest kernel: one generic tree walk, JIT-compiled once per machine by numba.

Nothing is compiled per model: a model is data (``_forest.Forest``), the walk is code. Rows go
in blocks; inside a block every row takes one step of the same tree at a time, so the steps are
independent and the CPU overlaps them (a walk row by row waits on each load: 3.4x slower
measured on the example model). Trees are summed in LightGBM's order from 0.0, so the sums are
the same doubles LightGBM computes.

numba caches the compiled walk under the directory it is given (the compiled cache's ``jit``
folder, with the cache's trust): the first process on a machine pays about 2 s, the next ones
load it in milliseconds.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ._forest import Forest
from ._heap import Heap, walk_heap
from ._kinds import CATEGORICAL, LEAF, NUM_NAN, NUM_ZERO, ZERO

BLOCK = 32  # rows walked together: 16-128 measured within 5 % of each other
_MIN_ROWS_PER_THREAD = 1024

_Kernels = tuple[Callable[..., None], Callable[..., None], Callable[..., None]]
_kernels: _Kernels | None = None


_A = np.ndarray[Any, Any]


def _walk_fast(  # noqa: PLR0917  numba compiles positional arrays
    x: _A,
    feature: _A,
    threshold: _A,
    nan_left: _A,
    children: _A,
    value: _A,
    roots: _A,
    depths: _A,
    out: _A,
) -> None:
    """Numerical splits with missing type None or NaN (``Forest.fast``): one comparison per
    step, and where a NaN goes precomputed per node (never NaN for integer rows)."""
    n = x.shape[0]
    idx = np.empty(BLOCK, np.int32)
    acc = np.empty(BLOCK, np.float64)
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        acc[:m] = 0.0
        for t in range(roots.shape[0]):
            idx[:m] = roots[t]
            for _ in range(depths[t]):
                for j in range(m):
                    k = idx[j]
                    v = float(x[start + j, feature[k]])
                    # Branch-free: which child is data, not a jump the CPU mispredicts half
                    # the time (measured 2.4x slower with the jump).
                    go_left = (v <= threshold[k]) | (np.isnan(v) & nan_left[k])
                    idx[j] = children[2 * k + 1 - go_left]
            for j in range(m):
                acc[j] += value[idx[j]]
        out[start : start + m] = acc[:m]


def _walk_general(  # noqa: PLR0917  numba compiles positional arrays
    x: _A,
    feature: _A,
    threshold: _A,
    kind: _A,
    default_left: _A,
    children: _A,
    value: _A,
    cat_start: _A,
    cat_len: _A,
    cat_bits: _A,
    roots: _A,
    depths: _A,
    out: _A,
) -> None:
    """Any rows: LightGBM's NumericalDecision and CategoricalDecision, missing values too."""
    n = x.shape[0]
    idx = np.empty(BLOCK, np.int32)
    acc = np.empty(BLOCK, np.float64)
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        acc[:m] = 0.0
        for t in range(roots.shape[0]):
            idx[:m] = roots[t]
            for _ in range(depths[t]):
                for j in range(m):
                    k = idx[j]
                    kd = kind[k]
                    v = float(x[start + j, feature[k]])
                    go_left = v <= threshold[k]  # a leaf's children are itself: no branch
                    if kd == CATEGORICAL:
                        go_left = False
                        if abs(v) <= ZERO:
                            v = 0.0
                        # static_cast<int>: truncation; NaN, negatives and >= 2^31 go right
                        if v > -1.0 and v < 2147483648.0:
                            c = int(v)
                            w = c >> 5
                            if w < cat_len[k]:
                                go_left = (cat_bits[cat_start[k] + w] >> (c & 31)) & 1 == 1
                    elif kd == NUM_ZERO or math.isnan(v) or (v != 0.0 and abs(v) <= ZERO):
                        # Rare (tested first, so the common path stays one comparison):
                        # LightGBM reads tiny values as 0 and NaN as 0 unless NaN is missing.
                        if abs(v) <= ZERO or (kd != NUM_NAN and math.isnan(v)):
                            v = 0.0
                        if (kd == NUM_ZERO and v == 0.0) or (kd == NUM_NAN and math.isnan(v)):
                            go_left = default_left[k]
                        else:
                            go_left = v <= threshold[k]
                    idx[j] = children[2 * k + 1 - go_left]
            for j in range(m):
                acc[j] += value[idx[j]]
        out[start : start + m] = acc[:m]


def kernels(cache_dir: Path | None) -> _Kernels:
    """The three walks, compiled (or loaded from numba's cache under ``cache_dir``)."""
    global _kernels  # noqa: PLW0603  one compiled pair per process
    if _kernels is not None:
        return _kernels
    if cache_dir is not None:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(cache_dir)
    import numba
    from numba.core import config

    config.reload_config()  # numba reads NUMBA_CACHE_DIR when imported: maybe before us
    jit = numba.njit(nogil=True, cache=cache_dir is not None)
    _kernels = (jit(_walk_fast), jit(_walk_general), jit(walk_heap))
    return _kernels


def warm(cache_dir: Path | None) -> None:
    """Compile or load the walks most models take (complete trees and nodes) for the rows a
    run feeds (int8, float32, float64), so that forked workers inherit them ready (the fork
    server calls this; the general walk loads when a model needs it)."""
    for forest in (_TINY, _TINY_HEAP):
        for dtype in (np.int8, np.float32, np.float64):
            predict_raw(forest, np.zeros((1, 1), dtype=dtype), cache_dir=cache_dir)


def predict_raw(
    forest: Forest, x: np.ndarray[Any, Any], *, threads: int = 1, cache_dir: Path | None = None
) -> np.ndarray[Any, Any]:
    """The forest's predictions for the rows ``x`` (columns in ``forest.features`` order)."""
    if x.ndim != 2 or x.shape[1] != forest.n_features:
        raise ValueError(f"rows must have {forest.n_features} features, not {x.shape}")
    if x.dtype.kind not in "iuf":
        x = x.astype(np.float64)
    x = np.ascontiguousarray(x)
    fast, general, heap = kernels(cache_dir)
    out = np.empty(x.shape[0], dtype=np.float64)
    f, h = forest, forest.heap
    if h is not None:
        args: tuple[Any, ...] = (h.feature, h.threshold, h.nan_left, h.leaves, h.depth)
        fn: Callable[..., None] = heap
    elif f.fast:
        args = (f.feature, f.threshold, f.nan_left, f.children, f.value, f.roots, f.depths)
        fn = fast
    else:
        args = (f.feature, f.threshold, f.kind, f.default_left, f.children, f.value)
        args += (f.cat_start, f.cat_len, f.cat_bits, f.roots, f.depths)
        fn = general
    n = x.shape[0]
    if threads <= 1 or n < 2 * _MIN_ROWS_PER_THREAD:
        fn(x, *args, out)
    else:
        step = math.ceil(n / threads)
        # The walk releases the GIL (nogil): threads take disjoint slices of rows.
        with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
            jobs = [
                pool.submit(fn, x[i : i + step], *args, out[i : i + step])
                for i in range(0, n, step)
            ]
            for job in jobs:
                job.result()
    return finish(f, out)


def finish(forest: Forest, raw: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The objective's transform of the trees' sum (LightGBM's ConvertOutput)."""
    if forest.average:
        raw = raw / len(forest.roots)
    if forest.sigmoid:
        return 1.0 / (1.0 + np.exp(-forest.sigmoid * raw))
    return raw


def _tiny() -> Forest:
    one = np.zeros(1, np.int32)
    return Forest(
        feature=one,
        threshold=np.full(1, np.inf),
        kind=np.full(1, LEAF, np.int8),
        default_left=np.zeros(1, np.bool_),
        nan_left=np.ones(1, np.bool_),
        children=np.zeros(2, np.int32),
        value=np.zeros(1),
        cat_start=one,
        cat_len=one,
        cat_bits=np.zeros(1, np.uint32),
        roots=one,
        depths=np.ones(1, np.int32),
        features=("x",),
        sigmoid=0.0,
        average=False,
    )


_TINY = _tiny()
_TINY_HEAP = dataclasses.replace(
    _TINY,
    heap=Heap(np.zeros(1, np.int32), np.full(1, np.inf), np.ones(1, np.bool_), np.zeros(2), 1),
)
