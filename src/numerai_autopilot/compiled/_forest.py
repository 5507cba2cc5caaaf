"""A LightGBM text model as flat node arrays: what the forest kernel walks.

Read from the model file itself (no LightGBM import): every tree's nodes, in LightGBM's own
order, with the decision each node makes exactly as LightGBM's ``Tree::Predict`` makes it
(``NumericalDecision``/``CategoricalDecision`` in its ``tree.h``). Leaves are nodes too, that
lead to themselves: a walk of a tree's depth ends on its leaf whatever the path's length, so a
block of rows can walk in lockstep (see ``_kernel``).

Node kinds: 0 numerical split, missing type None (NaN is read as 0); 1 numerical, missing type
Zero (0 and NaN take the default side); 2 numerical, missing type NaN (NaN takes the default
side); 3 categorical split (bitset); 4 leaf.
"""

from __future__ import annotations

import dataclasses
import math
import mmap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._forest_file import pack, unpack
from ._heap import Heap, build_heap
from ._kinds import CATEGORICAL, LEAF, NUM_NAN, NUM_NONE, NUM_ZERO, ZERO

_MISSING = {0: NUM_NONE, 1: NUM_ZERO, 2: NUM_NAN}
# Output transforms, by objective (LightGBM's ObjectiveFunction::ConvertOutput): identity for
# the regression family, the sigmoid for binary and cross-entropy. Others are refused.
_IDENTITY = frozenset({"regression", "regression_l1", "huber", "fair", "quantile", "mape"})
_SIGMOID = frozenset({"binary", "cross_entropy", "xentropy"})
_ARRAYS: tuple[str, ...] = (
    "feature",
    "threshold",
    "kind",
    "default_left",
    "nan_left",
    "children",
    "value",
)
_ARRAYS += ("cat_start", "cat_len", "cat_bits", "roots", "depths")
_HEAP = ("feature", "threshold", "nan_left", "leaves")


class Unsupported(ValueError):
    """A model the forest kernel does not reproduce (multiclass, linear trees, ...)."""


@dataclass(frozen=True)
class Forest:
    """Every node of every tree, plus how the sum of the trees becomes the prediction."""

    feature: np.ndarray[Any, Any]  # int32: the column a split reads
    threshold: np.ndarray[Any, Any]  # float64: numerical threshold (+inf on leaves)
    kind: np.ndarray[Any, Any]  # int8: the kinds above
    default_left: np.ndarray[Any, Any]  # bool: where missing values go
    nan_left: np.ndarray[Any, Any]  # bool: where a NaN goes (the fast walk's one lookup)
    children: np.ndarray[Any, Any]  # int32: node k's left at 2k, right at 2k+1; a leaf's: k
    value: np.ndarray[Any, Any]  # float64: a leaf's output (0 on splits)
    cat_start: np.ndarray[Any, Any]  # int32: a categorical split's words in cat_bits
    cat_len: np.ndarray[Any, Any]
    cat_bits: np.ndarray[Any, Any]  # uint32: the categories going left, as bitsets
    roots: np.ndarray[Any, Any]  # int32: each tree's first node
    depths: np.ndarray[Any, Any]  # int32: each tree's depth (steps to any leaf, at most)
    features: tuple[str, ...]
    sigmoid: float  # 0: identity; else 1 / (1 + exp(-sigmoid * sum))
    average: bool  # random forest mode: the mean of the trees, not their sum
    heap: Heap | None = None  # the same trees laid out complete, when shallow (``_heap``)

    @property
    def n_features(self) -> int:
        return len(self.features)

    @property
    def fast(self) -> bool:
        """Whether the one-comparison walk is exact: no categorical split, no missing type
        Zero, and no threshold in [-z, z) (z = 1e-35, below which LightGBM reads a value as 0;
        outside it ``v <= t`` equals ``0 <= t`` for every such v)."""
        numerical = np.isin(self.kind, (NUM_NONE, NUM_NAN))
        t = self.threshold[numerical]
        near_zero = bool(((t >= -ZERO) & (t < ZERO)).any())
        return not near_zero and bool(np.isin(self.kind, (NUM_NONE, NUM_NAN, LEAF)).all())

    def to_bytes(self) -> bytes:
        h = self.heap
        arrays = {k: getattr(self, k) for k in _ARRAYS}
        if h is not None:
            arrays |= {f"heap_{k}": getattr(h, k) for k in _HEAP}
        info = {
            "features": list(self.features),
            "sigmoid": self.sigmoid,
            "average": self.average,
            "heap_depth": h.depth if h else 0,
        }
        return pack(arrays, info)

    @classmethod
    def from_bytes(cls, data: bytes | mmap.mmap) -> Forest:
        """The forest of ``to_bytes``'s bytes; its arrays are read-only views of them."""
        arrays, info = unpack(data)
        depth = int(info["heap_depth"])
        heap = Heap(**{k: arrays[f"heap_{k}"] for k in _HEAP}, depth=depth) if depth else None
        return cls(
            **{k: arrays[k] for k in _ARRAYS},
            features=tuple(str(n) for n in info["features"]),
            sigmoid=float(info["sigmoid"]),
            average=bool(info["average"]),
            heap=heap,
        )


def read_forest(path: Path) -> Forest:
    """The forest of the LightGBM text model at ``path``; :class:`Unsupported` with the reason
    for what the kernel does not reproduce, ValueError for a file that is not such a model."""
    header, trees = _sections(path.read_text("utf-8", errors="replace"))
    sigmoid = transform(header)
    if header.get("is_linear") == "1" or any(t.get("is_linear") == "1" for t in trees):
        raise Unsupported("linear trees (linear_tree) are not supported")
    names = header.get("feature_names", "").split()
    if not names or len(names) != int(header.get("max_feature_idx", "-1")) + 1:
        raise ValueError("the model file lists no feature names")
    if not trees:
        raise ValueError("the model file has no trees")
    b = _Builder()
    for tree in trees:
        b.add(tree)
    return b.forest(tuple(names), sigmoid, "average_output" in header)


def _sections(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    if not text.startswith("tree"):
        raise ValueError("not a LightGBM text model (it must start with 'tree')")
    body = text.split("end of trees", 1)[0]
    blocks = body.split("\nTree=")
    header = _pairs(blocks[0])
    return header, [_pairs(b) for b in blocks[1:]]


def _pairs(block: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition("=")
        out[key.strip()] = value.strip() if sep else ""
    return out


def transform(header: dict[str, str]) -> float:
    if int(header.get("num_tree_per_iteration", "1") or 1) != 1:
        raise Unsupported(
            f"multiclass models ({header.get('num_class')} classes) are not supported"
        )
    words = header.get("objective", "").split()
    if not words:
        raise ValueError("the model file names no objective")
    objective, options = words[0], words[1:]
    if objective in _IDENTITY and not any(o.startswith("sqrt") for o in options):
        return 0.0
    if objective == "binary":
        for o in options:
            if o.startswith("sigmoid:"):
                return float(o.split(":", 1)[1])
        return 1.0
    if objective in _SIGMOID:
        return 1.0
    raise Unsupported(
        f"objective {' '.join(words)!r} is not supported (only regression and binary kinds)"
    )


def _ints(tree: dict[str, str], key: str) -> list[int]:
    return [int(v) for v in tree.get(key, "").split()]


def _floats(tree: dict[str, str], key: str) -> list[float]:
    # float() rounds a decimal correctly, as LightGBM's own parser does: the same doubles.
    return [float(v) for v in tree.get(key, "").split()]


class _Builder:
    def __init__(self) -> None:
        self.cols: dict[str, list[Any]] = {k: [] for k in _ARRAYS if k != "cat_bits"}
        self.cols |= {"left": [], "right": []}
        self.cat_bits: list[int] = []

    def _node(self, **fields: Any) -> int:
        i = len(self.cols["kind"])
        for k in ("feature", "threshold", "kind", "default_left", "nan_left", "value"):
            self.cols[k].append(fields.get(k, 0))
        for k in ("left", "right"):
            self.cols[k].append(fields.get(k, 0))
        self.cols["cat_start"].append(fields.get("cat_start", 0))
        self.cols["cat_len"].append(fields.get("cat_len", 0))
        return i

    def _leaf(self, value: float) -> int:
        i = self._node(threshold=math.inf, kind=LEAF, value=value, nan_left=True)
        self.cols["left"][i] = self.cols["right"][i] = i
        return i

    def add(self, tree: dict[str, str]) -> None:
        n_leaves = int(tree.get("num_leaves", "1"))
        leaves = _floats(tree, "leaf_value")
        if len(leaves) != n_leaves:
            raise ValueError("a tree's leaf values do not match its num_leaves")
        if n_leaves == 1:
            self.cols["roots"].append(self._leaf(leaves[0]))
            self.cols["depths"].append(0)
            return
        feature, threshold = _ints(tree, "split_feature"), _floats(tree, "threshold")
        decision = _ints(tree, "decision_type")
        left, right = _ints(tree, "left_child"), _ints(tree, "right_child")
        bounds, words = _ints(tree, "cat_boundaries"), _ints(tree, "cat_threshold")
        n = n_leaves - 1
        if not all(len(a) == n for a in (feature, threshold, decision, left, right)):
            raise ValueError("a tree's split arrays do not match its num_leaves")
        leaf_at = [self._leaf(v) for v in leaves]
        split_base = len(self.cols["kind"])

        def ref(child: int) -> int:  # LightGBM: a negative child is ~leaf
            return leaf_at[~child] if child < 0 else split_base + child

        for i in range(n):
            d = decision[i]
            fields: dict[str, Any] = {"feature": feature[i], "default_left": bool(d & 2)}
            fields |= {"left": ref(left[i]), "right": ref(right[i])}
            # Where a NaN goes: the default side when NaN is the missing type, else as 0.
            nan_left = bool(d & 2) if (d >> 2) & 3 else threshold[i] >= 0.0
            fields["nan_left"] = nan_left
            if d & 1:
                cat = int(threshold[i])
                lo, hi = bounds[cat], bounds[cat + 1]
                fields |= {"kind": CATEGORICAL, "threshold": math.inf}
                fields |= {"cat_start": len(self.cat_bits), "cat_len": hi - lo}
                self.cat_bits.extend(words[lo:hi])
            else:
                fields |= {"kind": _MISSING[(d >> 2) & 3], "threshold": threshold[i]}
            self._node(**fields)
        self.cols["roots"].append(split_base)
        self.cols["depths"].append(_depth(left, right))

    def forest(self, names: tuple[str, ...], sigmoid: float, average: bool) -> Forest:
        c = self.cols
        types: dict[str, Any] = {"feature": np.int32, "threshold": np.float64, "kind": np.int8}
        types |= {"default_left": np.bool_, "nan_left": np.bool_}
        types |= {"value": np.float64, "cat_start": np.int32, "cat_len": np.int32}
        types |= {"roots": np.int32, "depths": np.int32}
        arrays: dict[str, Any] = {k: np.asarray(c[k], dtype=t) for k, t in types.items()}
        children = np.empty(2 * len(c["left"]), dtype=np.int32)
        children[0::2], children[1::2] = c["left"], c["right"]
        bits = np.asarray(self.cat_bits or [0], dtype=np.uint32)
        if arrays["feature"].size and int(arrays["feature"].max()) >= len(names):
            raise ValueError("a split reads a feature beyond the model's feature list")
        forest = Forest(
            **arrays,
            children=children,
            cat_bits=bits,
            features=names,
            sigmoid=sigmoid,
            average=average,
        )
        return dataclasses.replace(forest, heap=build_heap(forest))


def _depth(left: list[int], right: list[int]) -> int:
    """The longest root-to-leaf path of one tree, in steps (iterative: deep trees exist)."""
    deepest, stack = 0, [(0, 1)]
    for _ in range(2 * len(left) + 1):
        if not stack:
            break
        node, d = stack.pop()
        deepest = max(deepest, d)
        for child in (left[node], right[node]):
            if child >= 0:
                stack.append((child, d + 1))
    return deepest
