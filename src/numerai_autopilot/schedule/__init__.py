"""Round-aware triggering: the foreground scheduler and the webhook trigger.

- :class:`Scheduler` -- sleeps until a round opens (times from the API), runs, retries what
  failed until the close, survives restarts (``numerai-autopilot schedule``)
- :func:`run_round`, :class:`Backoff` -- one round's job: run, retry with bounded backoff
  (a :class:`numerai_autopilot.retry.Backoff` with the round job's defaults)
- :func:`start_server`, :class:`WebhookServer`, :class:`WebhookTrigger` -- the webhook Numerai
  calls when a round opens (``numerai-autopilot serve``)
- :func:`register_webhooks`, :func:`webhook_url` -- ``numerai-autopilot webhook register``
"""

from ._http import WebhookServer
from ._job import Backoff, JobResult, run_round
from .register import Registration, register_webhooks, webhook_url
from .scheduler import Scheduler, ScheduleSummary
from .serve import start_server
from .webhook import FailureLimiter, WebhookTrigger, require_secret

__all__ = [
    "Backoff",
    "FailureLimiter",
    "JobResult",
    "Registration",
    "ScheduleSummary",
    "Scheduler",
    "WebhookServer",
    "WebhookTrigger",
    "register_webhooks",
    "require_secret",
    "run_round",
    "start_server",
    "webhook_url",
]
