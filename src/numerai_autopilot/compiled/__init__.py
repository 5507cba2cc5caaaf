"""Prepared LightGBM models: the booster as flat arrays, walked by one numba kernel.

Prepared outside the round (seconds per model: nothing is compiled per model; the walk is
compiled once per machine) and verified against LightGBM before use, bit-identical on every
model tried (see docs/performance.md for the figures and the lleaves engine this replaced).

Public API:

- :class:`CompiledStore` -- the cache folder (``<state>/compiled``) and its lock;
- :func:`prepare_models` (a models file) / :func:`prepare` (specs) -> :class:`Prepared` per
  model -- compile what has no usable entry; :func:`prepare_in_background` on a thread (the
  ``models prepare`` command, ``models check`` and the scheduler between rounds);
- :func:`remember_sample` -- a run stores live rows the compiled models are verified on;
- :func:`open_verified` -- in a worker: the compiled model, only if it still agrees with
  LightGBM on its stored sample (else it is rejected and LightGBM is used);
- :func:`unsupported_reason` -- what the walk does not reproduce (multiclass, linear trees).

Nothing here is imported by the idle run; numba only where a forest is walked.
"""

from ._models import prepare_in_background, prepare_models, store_for
from ._prepare import DEFAULT_MEMORY_MB, Prepared, prepare, remember_sample
from ._runtime import WORKERS_JIT, CompiledForest, jit_dir, open_verified
from ._store import CompiledStore, Engine
from ._support import unsupported_reason

__all__ = [
    "DEFAULT_MEMORY_MB",
    "WORKERS_JIT",
    "CompiledForest",
    "CompiledStore",
    "Engine",
    "Prepared",
    "jit_dir",
    "open_verified",
    "prepare",
    "prepare_in_background",
    "prepare_models",
    "remember_sample",
    "store_for",
    "unsupported_reason",
]
