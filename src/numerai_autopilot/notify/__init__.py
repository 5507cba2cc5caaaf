"""Alerts: notifications through apprise URLs and dead-man's-switch pings (healthchecks.io style).

- :class:`Alerts` -- built from settings; ``start()``, ``finished(report)``, ``crashed(exc)``
- :func:`report_message`, :func:`crash_message` -- the texts, secrets masked

A failure to notify never fails the run: it is logged, and the run's exit code stands.
"""

from ._alerts import Alerts, url_secrets
from ._message import Message, crash_message, report_message

__all__ = ["Alerts", "Message", "crash_message", "report_message", "url_secrets"]
