"""What the forest walk reproduces: read from a LightGBM text model's header, no import.

Numerical and categorical splits with every missing-value type, single-output objectives whose
transform LightGBM documents (identity for the regression family, the sigmoid for binary and
cross-entropy), random-forest averaging. Refused: linear trees (``is_linear=1``: the leaves'
linear terms), multiclass (our predictors return one value per row), other objectives.
"""

from __future__ import annotations

from pathlib import Path

from ._forest import Unsupported, transform


def unsupported_reason(path: Path) -> str | None:
    """Why the forest walk must not stand in for the LightGBM text model at ``path``."""
    header: dict[str, str] = {}
    try:
        with path.open("r", encoding="utf-8", errors="replace") as f:
            if f.readline().strip() != "tree":
                return "not a LightGBM text model (it must start with 'tree')"
            for raw in f:
                line = raw.strip()
                if line.startswith("Tree=") or line == "end of trees":
                    break
                key, _, value = line.partition("=")
                header[key] = value
            for raw in f:  # a tree's own flag (the header has none in some versions)
                if raw.strip() == "is_linear=1":
                    return "linear trees (linear_tree) are not supported"
                if raw.startswith("end of trees"):
                    break
        transform(header)
    except Unsupported as exc:
        return str(exc)
    except (OSError, ValueError) as exc:
        return f"cannot read the model file: {exc}"
    if header.get("is_linear") == "1":
        return "linear trees (linear_tree) are not supported"
    return None
