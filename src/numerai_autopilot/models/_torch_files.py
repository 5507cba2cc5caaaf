"""What a PyTorch file holds, told from its zip entries without torch, and the checks of a
loaded program that need no tensors: a ``torch.save`` file (weights, not a model) or the other
PyTorch format refused with the fix, the ``features.json`` extra file, an exported program's
one input and its mode."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModelError

if TYPE_CHECKING:
    from ..config import ModelSpec

FEATURES_FILE = "features.json"
_SAVE_HINT = (
    "save the model itself: torch.jit.save(torch.jit.script(model), 'model.pt'), or "
    "torch.export.save(torch.export.export(model.eval(), (example_rows,)), 'model.pt2')"
)


def archive_kind(path: Path) -> str:
    """What a PyTorch file is, from its zip entries (no torch needed)."""
    try:
        with zipfile.ZipFile(path) as z:
            entries = {n.split("/", 1)[1] for n in z.namelist() if "/" in n}
    except zipfile.BadZipFile:
        with path.open("rb") as f:
            head = f.read(2)
        # torch.save before 1.6 wrote a bare pickle (protocol 2)
        return "torch.save" if head == b"\x80\x02" else "unknown"
    except OSError as exc:
        raise ModelError(f"cannot read artifact {path}: {exc.strerror}") from exc
    if "constants.pkl" in entries or any(e.startswith("code/") for e in entries):
        return "torchscript"
    if "archive_format" in entries:
        return "torch_export"
    return "torch.save" if "data.pkl" in entries else "unknown"


def refuse_other_kinds(spec: ModelSpec, path: Path, wanted: str) -> None:
    """Refuse weights without a model, and the other PyTorch format, each with its fix."""
    kind = archive_kind(path)
    if kind == "torch.save":
        raise ModelError(
            f"model {spec.name!r}: {path.name} was written by torch.save (a state_dict or a "
            f"pickled module): it holds weights, not a model to run; {_SAVE_HINT}"
        )
    if kind not in ("unknown", wanted):
        suffix = ".pt2" if kind == "torch_export" else ".pt"
        raise ModelError(
            f"model {spec.name!r}: {path.name} is a {kind} file, not {wanted}: "
            f'name it {suffix} or set format = "{kind}"'
        )


def archive_features(path: Path) -> list[str] | None:
    """The ``features.json`` extra file of a ``.pt``/``.pt2`` archive, read without torch (for
    planning which columns to load); None when absent or not a list of names (the loader
    reports a broken one)."""
    try:
        with zipfile.ZipFile(path) as z:
            entry = next((n for n in z.namelist() if n.endswith(f"/extra/{FEATURES_FILE}")), None)
            raw = z.read(entry) if entry is not None else b""
        names = json.loads(raw) if raw else None
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        return names
    return None


def stored_features(spec: ModelSpec, raw: str | bytes) -> list[str] | None:
    """The ``features.json`` extra file's list, None when the model was saved without one."""
    if not raw:
        return None
    try:
        names = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(
            f"model {spec.name!r}: its {FEATURES_FILE} extra file is not JSON: {exc}"
        ) from exc
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ModelError(
            f"model {spec.name!r}: its {FEATURES_FILE} extra file must be a JSON list of names"
        )
    return names


def exported_input(spec: ModelSpec, program: Any) -> tuple[tuple[int | None, ...], Any]:
    """The shape and the torch dtype of the program's one user input."""
    wanted = list(program.graph_signature.user_inputs)
    nodes = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    if len(wanted) != 1:
        raise ModelError(
            f"model {spec.name!r} takes {len(wanted)} inputs; one (rows, features) tensor is needed"
        )
    val = nodes[wanted[0]].meta.get("val") if wanted[0] in nodes else None
    shape = tuple(getattr(val, "shape", ()))
    if len(shape) != 2:
        raise ModelError(
            f"model {spec.name!r} takes an input of shape {list(shape)}; a (rows, features) "
            "matrix is needed"
        )
    # Static dimensions are ints; dynamic ones (an exported Dim) are symbols: None here.
    return tuple(d if isinstance(d, int) else None for d in shape), getattr(val, "dtype", None)


def refuse_training_mode(spec: ModelSpec, program: Any) -> None:
    """A program exported in training mode keeps dropout and batch statistics on."""
    for node in program.graph.nodes:
        target, args = str(node.target), node.args
        dropout = target.startswith("aten.dropout") and len(args) > 2 and args[2] is True
        norm = target.startswith("aten.batch_norm") and len(args) > 5 and args[5] is True
        if dropout or norm:
            raise ModelError(
                f"model {spec.name!r} was exported in training mode ({target}): export "
                "model.eval() instead, so that dropout and batch statistics are off"
            )


def first_linear(module: Any) -> int | None:
    for sub in module.modules():
        if getattr(sub, "original_name", None) == "Linear":
            width = getattr(sub, "in_features", None)
            return width if isinstance(width, int) else None
    return None
