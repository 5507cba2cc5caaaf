"""`serve`: the webhook trigger, assembled from settings."""

from __future__ import annotations

import logging

from ..clock import Clock
from ..config import Settings
from ..run.lifecycle import Lifecycle
from ._http import WebhookServer
from ._job import Backoff
from .webhook import FailureLimiter, WebhookTrigger, require_secret, runner_job

log = logging.getLogger(__name__)

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def start_server(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    clock: Clock | None = None,
    backoff: Backoff | None = None,
    min_interval: float = 60.0,
    limiter: FailureLimiter | None = None,
    lifecycle: Lifecycle | None = None,
) -> WebhookServer:
    """Check the secret (ConfigError when missing or weak), bind ``host:port`` and serve in a
    background thread. Each accepted call runs ``Runner(settings).run(trigger_id=...)`` with
    retries until the round's deadline; at most one such job at a time."""
    secret = require_secret(settings)
    trigger = WebhookTrigger(
        secret,
        runner_job(settings, clock=clock, backoff=backoff, lifecycle=lifecycle),
        clock=clock,
        min_interval=min_interval,
        limiter=limiter,
    )
    if host not in _LOOPBACK:
        log.warning(
            "listening on %s, not loopback: the secret travels in the URL, so only expose this "
            "port through TLS (a reverse proxy or tunnel)",
            host,
        )
    return WebhookServer(trigger, host, port).start()
