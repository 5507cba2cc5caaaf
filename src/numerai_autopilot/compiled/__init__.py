"""Compiled LightGBM models (lleaves), prepared outside the round and verified before use.

Public API:

- :class:`CompiledStore` -- the cache folder (``<state>/compiled``) and its lock;
- :func:`prepare_models` (a models file) / :func:`prepare` (specs) -> :class:`Prepared` per
  model -- compile what has no usable entry; :func:`prepare_in_background` on a thread (the
  ``models prepare`` command, ``models check`` and the scheduler between rounds);
- :func:`remember_sample` -- a run stores live rows the compiled models are verified on;
- :func:`open_verified` -- in a worker: the compiled model, only if it still agrees with
  LightGBM on its stored sample (else it is rejected and LightGBM is used);
- :func:`unsupported_reason` -- what lleaves cannot compile (multiclass, linear trees...).

Nothing here is imported by the idle run; llvmlite only where a compiled model is loaded.
"""

from ._models import prepare_in_background, prepare_models, store_for
from ._prepare import DEFAULT_MEMORY_MB, Prepared, prepare, remember_sample
from ._runtime import CompiledForest, open_verified
from ._store import CompiledStore, Engine
from ._support import unsupported_reason

__all__ = [
    "DEFAULT_MEMORY_MB",
    "CompiledForest",
    "CompiledStore",
    "Engine",
    "Prepared",
    "open_verified",
    "prepare",
    "prepare_in_background",
    "prepare_models",
    "remember_sample",
    "store_for",
    "unsupported_reason",
]
