"""PyTorch models on the CPU: TorchScript ``.pt`` (``torch.jit.load``) and ``torch.export``
``.pt2`` (``torch.export.load``, then ``.module()``), run under ``torch.inference_mode``.

Neither format stores feature names. A JSON list saved beside the model as the extra file
``features.json`` (``_extra_files=`` of ``torch.jit.save``, ``extra_files=`` of
``torch.export.save``) is its stored order; else the configured ``features``; else every
``feature_*`` column. A ``.pt2`` records its input's shape and dtype, so the width is checked
before predicting and the int8 features are converted to that dtype; a TorchScript module
records neither: its features go in as the dtype of its first floating parameter (float32 by
default), and a forward that fails on the width is reported naming the model and the width.
A ``.pt2`` exported without a dynamic batch dimension is fed in chunks of its exported batch
size (the last one padded, its padding dropped): rows are taken to be independent, as in any
per-row model.

A file written by ``torch.save`` (a ``state_dict`` or a pickled module) holds no code to run
and is refused with how to save the model instead (see _torch_files.py). Threads:
``torch.set_num_threads`` from the worker's budget (OMP_NUM_THREADS).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import re
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError
from ._features import choose_features, select
from ._output import missing_extra, threads, to_series
from ._torch_files import (
    FEATURES_FILE,
    exported_input,
    first_linear,
    refuse_other_kinds,
    refuse_training_mode,
    stored_features,
)
from .formats import LoadRequest

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd

    from ..config import ModelSpec

_NAMED_ERROR = re.compile(r"^[\w.]*(Error|Exception): ")
_OUT_OF_MEMORY = re.compile(r"failed to map segment|cannot allocate memory", re.IGNORECASE)


class TorchPredictor:
    """A loaded TorchScript module or exported program, called on one float matrix."""

    def __init__(
        self,
        spec: ModelSpec,
        torch: ModuleType,
        module: Any,
        feature_sets: Mapping[str, list[str]] | None,
        *,
        stored: list[str] | None,
        width: int | None,
        batch: int | None,
        dtype: Any = None,
        first_layer: int | None = None,
    ) -> None:
        self.spec = spec
        self.torch = torch
        self.module = module
        self.feature_sets = feature_sets
        self.stored = stored
        self.width = width  # checked before predicting (.pt2); None: not recorded
        self.batch = batch  # a .pt2's static batch size, else None
        self.dtype = dtype  # the torch dtype its input takes; None: float32
        self.first_layer = first_layer  # a TorchScript's first Linear width: a hint only

    def predict(self, live: pd.DataFrame, benchmarks: pd.DataFrame | None) -> pd.Series:
        name = self.spec.name
        torch = self.torch
        names = choose_features(
            self.spec, self.stored, self.feature_sets, list(live.columns), self.width
        )
        # int8 features as the float the model takes (float64 kept exact, others via float32).
        wide = self.dtype == torch.float64
        x = select(self.spec, live, names).to_numpy(dtype=np.float64 if wide else np.float32)
        if not x.flags.writeable:  # already float: a view of the read-only shared frame
            x = x.copy()
        with torch.inference_mode():
            try:
                tensor = torch.from_numpy(x)
                if self.dtype is not None and self.dtype != tensor.dtype:
                    tensor = tensor.to(self.dtype)
                out = self._forward(tensor)
            except MemoryError:
                raise
            except ModelError:
                raise
            except Exception as exc:  # torch's own errors (shapes, dtypes), translated here
                raise ModelError(self._failed(len(names), exc)) from exc
            values = _one_column(out, name).to(torch.float64).numpy()
        return to_series(values, live.index, name)

    def _forward(self, x: Any) -> Any:
        if self.batch is None or len(x) == self.batch:
            return self._call(x)
        parts, size = [], self.batch
        for start in range(0, len(x), size):
            chunk = x[start : start + size]
            rows = len(chunk)
            if rows < size:
                chunk = self.torch.cat([chunk, chunk.new_zeros((size - rows, *chunk.shape[1:]))])
            parts.append(_one_column(self._call(chunk), self.spec.name)[:rows])
        return self.torch.cat(parts)

    def _call(self, x: Any) -> Any:
        out = self.module(x)
        if not isinstance(out, self.torch.Tensor):
            raise ModelError(
                f"model {self.spec.name!r} returned {type(out).__name__}, not one tensor: "
                "return a single tensor of one prediction per row"
            )
        return out

    def _failed(self, given: int, exc: Exception) -> str:
        text = _first_line(exc)
        hint = ""
        if self.first_layer is not None and self.first_layer != given:
            hint = (
                f"; its first Linear layer takes {self.first_layer} features: set 'features' "
                "to the list it was trained on, in order"
            )
        elif self.width is None:
            hint = "; if it was trained on other features, set 'features' to that list, in order"
        return (
            f"model {self.spec.name!r}: torch failed to predict on {given} features: {text}{hint}"
        )


def load_torchscript(req: LoadRequest) -> TorchPredictor:
    """A TorchScript module (``torch.jit.save``), on the CPU, in eval mode."""
    spec, path = req.spec, _artifact(req)
    refuse_other_kinds(spec, path, "torchscript")
    torch = _import_torch(spec.name)
    _bound_threads(torch)
    extra = {FEATURES_FILE: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "torch.jit is deprecated" (2.15)
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except MemoryError:
        raise
    except Exception as exc:  # a corrupt archive, a newer TorchScript version
        raise ModelError(
            f"model {spec.name!r}: cannot load {path} as TorchScript: {_first_line(exc)}"
        ) from exc
    module.eval()
    params = [p for p in module.parameters() if p.is_floating_point()]
    return TorchPredictor(
        spec,
        torch,
        module,
        req.feature_sets,
        stored=stored_features(spec, extra[FEATURES_FILE]),
        width=None,
        batch=None,
        dtype=params[0].dtype if params else None,
        first_layer=first_linear(module),
    )


def load_torch_export(req: LoadRequest) -> TorchPredictor:
    """A ``torch.export`` program (``torch.export.save``): its module, its input checked."""
    spec, path = req.spec, _artifact(req)
    refuse_other_kinds(spec, path, "torch_export")
    torch = _import_torch(spec.name)
    _bound_threads(torch)
    extra = {FEATURES_FILE: ""}
    try:
        with path.open("rb") as f:  # a file object: torch wants a .pt2 suffix on a path
            program = torch.export.load(f, extra_files=extra)
    except MemoryError:
        raise
    except Exception as exc:  # a corrupt archive, an AOTInductor package, a newer schema
        raise ModelError(
            f"model {spec.name!r}: cannot load {path} as a torch.export program: {_first_line(exc)}"
        ) from exc
    shape, dtype = exported_input(spec, program)
    refuse_training_mode(spec, program)
    return TorchPredictor(
        spec,
        torch,
        program.module(),  # in the mode it was exported in: eval() is not supported on it
        req.feature_sets,
        stored=stored_features(spec, extra[FEATURES_FILE]),
        width=shape[1],
        batch=shape[0],
        dtype=dtype,
    )


def _artifact(req: LoadRequest) -> Path:
    if req.path is None:
        raise ModelError(f"model {req.spec.name!r}: format {req.fmt} needs an artifact")
    return req.path


def _import_torch(model: str) -> ModuleType:
    """torch, or the extra to install; an installed torch that fails to import says why."""
    try:
        return importlib.import_module("torch")
    except ImportError as exc:
        try:
            installed = importlib.util.find_spec("torch") is not None
        except ValueError:  # sys.modules["torch"] is None: as good as not installed
            installed = False
        if not installed:
            raise missing_extra("torch", model) from exc
        if _OUT_OF_MEMORY.search(str(exc)):
            # Its 1 GB of libraries could not be mapped under the model's memory bound (a
            # worker that imports torch itself, as in portable mode, needs about 700 MB more).
            raise MemoryError(str(exc)) from exc
        raise ModelError(
            f"model {model!r}: torch is installed but does not import: {_first_line(exc)}"
        ) from exc


def _bound_threads(torch: ModuleType) -> None:
    n = threads()
    if n:
        torch.set_num_threads(n)
        # Settable only before any parallel work; after that it keeps its default.
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(1)


def _one_column(out: Any, model: str) -> Any:
    """A (rows,) or (rows, 1) output as (rows,); more columns refused."""
    if out.ndim == 2 and out.shape[1] == 1:
        return out.reshape(-1)
    if out.ndim == 1:
        return out
    raise ModelError(
        f"model {model!r} returned a tensor of shape {list(out.shape)}; one prediction "
        "column per row is needed"
    )


def _first_line(exc: BaseException) -> str:
    """The reason in one line: TorchScript's interpreter opens with a banner and a traceback of
    the scripted code, and ends with the error itself (``RuntimeError: mat1 and mat2 ...``)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    named = [ln for ln in lines[1:] if _NAMED_ERROR.match(ln)]
    return (named[-1] if named else lines[0])[:300]
