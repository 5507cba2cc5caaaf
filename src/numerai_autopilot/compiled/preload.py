"""Imported by the fork server (a run with prepared LightGBM models): the compiled walks
loaded once with llvmlite, before the workers are forked, so that none of them pays for it
(about 0.2 s per worker otherwise). The run names their folder in _AUTOPILOT_JIT_DIR. The
engine's versions too (17 ms a worker otherwise); the LightGBM loader's module is preloaded
with it (run/_process.py)."""

from __future__ import annotations

import os
from pathlib import Path

from ._kernel import warm
from ._runtime import WORKERS_JIT
from ._store import Engine

_cache = os.environ.get(WORKERS_JIT)
warm(Path(_cache) if _cache else None)
Engine.installed()
