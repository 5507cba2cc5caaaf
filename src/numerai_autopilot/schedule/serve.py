"""`serve`: the webhook trigger, assembled from settings."""

from __future__ import annotations

import logging

from ..clock import Clock
from ..config import Settings
from ..run.lifecycle import Lifecycle
from ._http import PageFn, WebhookServer
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
    page: PageFn | None = None,
) -> WebhookServer:
    """Check the secret (ConfigError when missing or weak), bind ``host:port`` and serve in a
    background thread. Each accepted call runs ``Runner(settings).run(trigger_id=...)`` with
    retries until the round's deadline; at most one such job at a time. ``GET /`` serves
    ``page()`` (default: the report page of ``settings``' models and ledger)."""
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
    return WebhookServer(trigger, host, port, page=page or report_for(settings, clock)).start()


def report_for(settings: Settings, clock: Clock | None = None) -> PageFn:
    """The report page of ``settings``' models and ledger, built afresh on each call (one API
    request; the models file is read again, so an edit shows without a restart)."""

    def build() -> str:
        from ..glance import report_page
        from ..run.runner import Runner

        with Runner(settings, clock=clock) as runner:
            return report_page(
                runner.client, runner.models.models, settings.state_path, runner.now()
            ).html

    return build
