"""Imported by the fork server (a run with prepared LightGBM models): numba and the compiled
walk loaded once, before the workers are forked, so that none of them pays for it (about
0.5 s of import plus the walk's load from numba's cache, per worker)."""

from __future__ import annotations

import os
from pathlib import Path

from ._kernel import warm

_cache = os.environ.get("NUMBA_CACHE_DIR")
warm(Path(_cache) if _cache else None)
