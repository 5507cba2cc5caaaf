"""numerai-tools' submission validators, imported once per process without its scoring module
(the run's validation and the sandbox's both call :func:`submissions`)."""

from __future__ import annotations

import importlib
import sys
import threading
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

_IMPORTING = threading.Lock()


def submissions() -> types.ModuleType:
    """numerai-tools' validators (``numerai_tools.submissions``), imported without its scoring
    module. ``submissions`` imports ``scoring`` for ``tie_kept_rank`` alone (used by its
    ``clean_predictions``, which no validator calls), and ``scoring`` imports scipy.stats and
    scikit-learn: 1 to 1.5 s of CPU in every run, for nothing. So a stand-in ``scoring`` is in
    ``sys.modules`` while ``submissions`` is imported; its ``tie_kept_rank`` calls the real one
    (importing it then). The stand-in is gone once the import is done: any later import of
    ``numerai_tools.scoring`` gets the real module. A numerai-tools whose ``submissions`` needs
    more of ``scoring`` fails the stand-in, and is then imported whole."""
    with _IMPORTING:
        done = sys.modules.get("numerai_tools.submissions")
        if done is not None:
            return done
        if "numerai_tools.scoring" in sys.modules:
            return importlib.import_module("numerai_tools.submissions")
        stand_in = types.ModuleType(
            "numerai_tools.scoring", "stand-in: see numerai_autopilot/_numerai_tools.py"
        )

        def tie_kept_rank(s: pd.Series) -> pd.Series:
            from numerai_tools.scoring import tie_kept_rank as real

            return real(s)

        stand_in.tie_kept_rank = tie_kept_rank  # type: ignore[attr-defined]
        sys.modules["numerai_tools.scoring"] = stand_in
        found: types.ModuleType | None = None
        try:
            found = importlib.import_module("numerai_tools.submissions")
        except ImportError:
            pass  # it needs more than tie_kept_rank: imported whole, below
        finally:
            if sys.modules.get("numerai_tools.scoring") is stand_in:
                del sys.modules["numerai_tools.scoring"]
            package = sys.modules.get("numerai_tools")
            if package is not None and getattr(package, "scoring", None) is stand_in:
                delattr(package, "scoring")
        return found or importlib.import_module("numerai_tools.submissions")
