"""The one place an API client is built from settings, so every command, the scheduler and
the webhook talk to Numerai with the same key, timeout and clock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._client import NumeraiClient

if TYPE_CHECKING:
    from ..clock import Clock
    from ..config import Settings


def client_from_settings(settings: Settings, *, clock: Clock | None = None) -> NumeraiClient:
    """An authenticated client for ``settings`` (ConfigError when the key is missing); its
    retries sleep and measure on ``clock``, so a test's manual clock governs them too."""
    public_id, secret = settings.require_credentials()
    return NumeraiClient(
        settings.api_url, public_id, secret, timeout=settings.http_timeout, clock=clock
    )
