"""The three tree walks, as plain Python over arrays: numba compiles them (``_build_walks``).

Nothing is compiled per model: a model is data (``_forest.Forest``), a walk is code, compiled
once per machine into native objects that runs load with llvmlite alone (``_kernel``). Rows go
in blocks; inside a block every row takes one step of the same tree at a time, so the steps are
independent and the CPU overlaps them (walking row after row waits on each load: 3.4x slower
measured on the example model). Trees are summed in LightGBM's order from 0.0, so the sums are
the same doubles LightGBM computes. ``idx`` and ``acc`` are scratch of ``BLOCK`` entries
(int64, float64), passed in so that the compiled code allocates nothing; no slice is
assigned either (numba may copy through a temporary): the objects must not call into numba's
runtime, which a run does not load.

This file's text is part of the compiled objects' key: any change here rebuilds them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._kinds import CATEGORICAL, NUM_NAN, NUM_ZERO, ZERO

BLOCK = 32  # rows walked together: 16-128 measured within 5 % of each other
_A = np.ndarray[Any, Any]


def heap(  # noqa: PLR0917  numba compiles positional arrays
    x: _A,
    feature: _A,
    threshold: _A,
    nan_left: _A,
    leaves: _A,
    depth: int,
    idx: _A,
    acc: _A,
    out: _A,
) -> None:
    """Complete trees (``_heap.Heap``): node k's children at 2k+1 and 2k+2, found by
    arithmetic; a step is one comparison and an add."""
    block = BLOCK
    n = x.shape[0]
    inner = (1 << depth) - 1
    trees = leaves.shape[0] // (inner + 1)
    for start in range(0, n, block):
        m = min(block, n - start)
        for j in range(m):
            acc[j] = 0.0
        for t in range(trees):
            base = t * inner
            for j in range(m):
                idx[j] = 0
            for _ in range(depth):
                for j in range(m):
                    k = base + idx[j]
                    v = float(x[start + j, feature[k]])
                    go_left = (v <= threshold[k]) | (np.isnan(v) & nan_left[k])
                    idx[j] = 2 * idx[j] + 2 - go_left
            lb = t * (inner + 1) - inner
            for j in range(m):
                acc[j] += leaves[lb + idx[j]]
        for j in range(m):
            out[start + j] = acc[j]


def fast(  # noqa: PLR0917  numba compiles positional arrays
    x: _A,
    feature: _A,
    threshold: _A,
    nan_left: _A,
    children: _A,
    value: _A,
    roots: _A,
    depths: _A,
    idx: _A,
    acc: _A,
    out: _A,
) -> None:
    """Numerical splits with missing type None or NaN (``Forest.fast``): one comparison per
    step, and where a NaN goes precomputed per node (never NaN for integer rows)."""
    n = x.shape[0]
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        for j in range(m):
            acc[j] = 0.0
        for t in range(roots.shape[0]):
            for j in range(m):
                idx[j] = roots[t]
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
        for j in range(m):
            out[start + j] = acc[j]


def general(  # noqa: PLR0917  numba compiles positional arrays
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
    idx: _A,
    acc: _A,
    out: _A,
) -> None:
    """Any rows: LightGBM's NumericalDecision and CategoricalDecision, missing values too."""
    n = x.shape[0]
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        for j in range(m):
            acc[j] = 0.0
        for t in range(roots.shape[0]):
            for j in range(m):
                idx[j] = roots[t]
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
        for j in range(m):
            out[start + j] = acc[j]
