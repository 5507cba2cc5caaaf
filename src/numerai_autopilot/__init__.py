"""numerai-autopilot: submits every Numerai model's predictions every round.

The public API (the CLI is a thin layer over these):

- :func:`load_settings`, :class:`Settings`, :func:`load_models_file`, :class:`ModelSpec`
- :class:`Tournament`
- the error tree in :mod:`numerai_autopilot.errors`
- :class:`numerai_autopilot.sandbox.Sandbox`: a local Numerai for tests and demos
"""

from .config import ModelsConfig, ModelSpec, Settings, load_models_file, load_settings
from .errors import AutopilotError
from .tournaments import Tournament

__version__ = "0.1.0"
__all__ = [
    "AutopilotError",
    "ModelSpec",
    "ModelsConfig",
    "Settings",
    "Tournament",
    "__version__",
    "load_models_file",
    "load_settings",
]
