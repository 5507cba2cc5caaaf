"""Deployment: triggers for every platform from one set of round-window slots, the Azure set-up
and its cost estimate.

- ``slots``: the recommended slots (``RECOMMENDED``), as cron and systemd calendar expressions.
- ``triggers.render_trigger(kind)``: systemd | cron | aca | k8s, what ``schedule --print`` shows.
- ``azure``: ``AzureParams``, ``plan_azure`` (the ``az`` set-up as steps), ``render_script``.
- ``estimate``: the monthly Azure cost from the ledger's run times and list prices.
- ``files``: the repository's deploy/ files, rendered from the same templates.
- ``apply_steps``: runs the Azure set-up's steps with the ``az`` CLI (``deploy azure --apply``).
"""

from ._apply import apply_steps
from .slots import BENIGN_EXIT_CODES, RECOMMENDED, Slots
from .triggers import KINDS, render_trigger

__all__ = ["BENIGN_EXIT_CODES", "KINDS", "RECOMMENDED", "Slots", "apply_steps", "render_trigger"]
