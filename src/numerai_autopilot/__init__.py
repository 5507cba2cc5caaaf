"""numerai-autopilot: submits every Numerai model's predictions every round.

The public API (the CLI is a thin layer over these, with the same names):

- :func:`load_settings`, :class:`Settings`, :func:`load_models_file`, :class:`ModelSpec`
- :class:`Runner`: ``plan()``, ``run()``, ``status()``; its :class:`RunReport`
- :class:`NumeraiClient`: our API client (timeouts, classified errors, safe retries)
- :class:`Sandbox`: a local Numerai for tests, benchmarks and demos
- :class:`Tournament`, and the error tree in :mod:`numerai_autopilot.errors`
- :mod:`numerai_autopilot.retry`: the one backoff every retry waits by; ``retry.instant()``
  makes those waits zero in tests

``Runner``, ``RunReport``, ``NumeraiClient`` and ``Sandbox`` are imported on first use, so that
``import numerai_autopilot`` stays cheap (an idle run is one request and half a second).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import ModelsConfig, ModelSpec, Settings, load_models_file, load_settings
from .errors import AutopilotError
from .tournaments import Tournament

if TYPE_CHECKING:
    from .client import NumeraiClient
    from .run.report import RunReport
    from .run.runner import Runner
    from .sandbox import Sandbox

__version__ = "0.1.0"
__all__ = [
    "AutopilotError",
    "ModelSpec",
    "ModelsConfig",
    "NumeraiClient",
    "RunReport",
    "Runner",
    "Sandbox",
    "Settings",
    "Tournament",
    "__version__",
    "load_models_file",
    "load_settings",
]

_LAZY = {
    "NumeraiClient": ".client",
    "RunReport": ".run.report",
    "Runner": ".run.runner",
    "Sandbox": ".sandbox",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
