"""Model artifacts behind one interface: every format loads into a :class:`Predictor`.

Public API:

- :mod:`.formats`: the registry of formats (:data:`~.formats.REGISTRY`), one entry each;
- :func:`infer_format`, :func:`declared_features`, :func:`needs_benchmarks`,
  :func:`verify_artifact`: cheap, no model library imported (the run plans with them);
- :func:`this_python`, ``NUMERAI_IMAGE_PINS``: the Python and the library versions of
  Numerai's Model Upload images, to compare a pickle's needs with;
- :func:`load_predictor`: loads the artifact (runs inside a prediction worker: unpickling
  executes code) and returns a :class:`Predictor`.

Formats: see :data:`~.formats.REGISTRY`. Model libraries are imported lazily; a missing one
raises MissingExtraError naming the pip extra. Importing this package imports neither pandas
nor a model library (config reads the registry at its import).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ModelError
from ._compat import NUMERAI_IMAGE_PINS, this_python
from ._features import names_feature_set
from ._spec import declared_features, infer_format, needs_benchmarks, verify_artifact
from .formats import REGISTRY, FormatSpec, LoadRequest, Predictor, get_format

if TYPE_CHECKING:
    from ..config import ModelSpec

__all__ = [
    "NUMERAI_IMAGE_PINS",
    "REGISTRY",
    "FormatSpec",
    "Predictor",
    "declared_features",
    "get_format",
    "infer_format",
    "load_predictor",
    "names_feature_set",
    "needs_benchmarks",
    "this_python",
    "verify_artifact",
]


def load_predictor(
    spec: ModelSpec,
    feature_sets: Mapping[str, list[str]] | None,
    *,
    models_dir: Path | None = None,
    compiled: Path | None = None,
) -> Predictor:
    """Verify and load the entry's artifact into a Predictor.

        ``feature_sets`` (features.json's sets) resolves a ``features`` set name; ``models_dir``
        is where ``module:function`` entry points are imported from; ``compiled`` the compiled-model
    cache a LightGBM model is taken from when a verified entry is there. Raises ModelError (with
        ArtifactChangedError, MissingExtraError, MissingFeatureError as the cause says) or
        ConfigError for a wrong ``features`` setting.
    """
    name = infer_format(spec)
    verify_artifact(spec)
    try:
        fmt = get_format(name)
    except KeyError:
        raise ModelError(f"model {spec.name!r}: unknown format {name!r}") from None
    if fmt.loader is None:
        raise ModelError(
            f"model {spec.name!r} is a blend: it is computed from its components' predictions"
        )
    if fmt.needs_artifact and spec.artifact is None:
        raise ModelError(f"model {spec.name!r}: format {name} needs an artifact")
    return fmt.load()(LoadRequest(spec, spec.artifact, feature_sets, models_dir, name, compiled))
