"""Watch the whole account: every model, configured here or not (Model Uploads, other
machines), in one API request; an alert when one has no submission near the round's close.

- :func:`watch` -- one look, alerts at most once per model per round (state in the ledger)
- :func:`watched_models` -- the look alone, for a status view (no alert, no ledger)
- :class:`WatchedModel`, :class:`WatchReport`, :class:`Kind`, :class:`Watch`
"""

from ._look import Kind, Watch, WatchedModel, look
from ._watch import WatchReport, configured_specs, watch, watched_models

__all__ = [
    "Kind",
    "Watch",
    "WatchReport",
    "WatchedModel",
    "configured_specs",
    "look",
    "watch",
    "watched_models",
]
