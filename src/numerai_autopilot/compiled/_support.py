"""What lleaves can compile: read from a LightGBM text model's own header, no library import.

lleaves 1.3.0 compiles numerical and categorical splits and NaN/zero missing-value handling; it
has no linear trees (``is_linear=1``: it would silently drop the leaves' linear terms), and we
keep to single-output objectives whose transform it implements exactly. Multiclass is refused
too: our predictors return one value per row.
"""

from __future__ import annotations

from pathlib import Path

# Objectives whose output lleaves reproduces: identity (the regression family), the sigmoid
# (binary) and cross-entropy. Others (ranking, poisson's exp...) are refused: not verified here.
SUPPORTED_OBJECTIVES = frozenset(
    {
        "regression",
        "regression_l1",
        "huber",
        "fair",
        "quantile",
        "mape",
        "binary",
        "cross_entropy",
        "xentropy",
    }
)


def unsupported_reason(path: Path) -> str | None:
    """Why lleaves must not compile the LightGBM text model at ``path``, or None if it may."""
    objective: str | None = None
    num_class = 1
    try:
        with path.open("r", encoding="utf-8", errors="replace") as f:
            first = f.readline().strip()
            if first != "tree":
                return "not a LightGBM text model (it must start with 'tree')"
            for raw in f:
                line = raw.strip()
                if line.startswith("objective="):
                    objective = line.split("=", 1)[1].split()[0] if "=" in line else ""
                elif line.startswith("num_class="):
                    num_class = int(line.split("=", 1)[1] or 1)
                elif line == "is_linear=1":
                    return "linear trees (linear_tree) are not supported by lleaves"
                elif line == "end of trees":
                    break
    except (OSError, ValueError) as exc:
        return f"cannot read the model file: {exc}"
    if num_class != 1:
        return f"multiclass models ({num_class} classes) are not supported"
    if objective is None:
        return "the model file names no objective"
    if objective not in SUPPORTED_OBJECTIVES:
        return f"objective {objective!r} is not supported (only regression and binary kinds)"
    return None
