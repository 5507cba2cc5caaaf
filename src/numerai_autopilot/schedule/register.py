"""`webhook register`: point each configured model's round-open webhook at `serve`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..client import NumeraiClient
from ..config import ModelsConfig
from ..errors import ConfigError
from ._http import PREFIX

log = logging.getLogger(__name__)

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Registration:
    """One model's result: ``set``, ``cleared``, ``refused`` (the API said false) or
    ``unknown`` (no such model in the account)."""

    model: str
    tournament: str
    result: str


def webhook_url(base: str, secret: str) -> str:
    """The URL Numerai is to call: ``base`` (where `serve` is reachable from the internet)
    followed by ``/webhook/<secret>``. The secret travels in the URL, so anything but a loopback
    address must be https."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"webhook URL {base!r}: give an http(s) URL such as https://host.example")
    if parts.scheme != "https" and parts.hostname not in _LOOPBACK:
        raise ConfigError(
            "webhook URL: use https (the URL carries the webhook secret); put a TLS reverse "
            "proxy or tunnel in front of `serve`"
        )
    if parts.query or parts.fragment:
        raise ConfigError("webhook URL: give the base URL without a query or fragment")
    return base.rstrip("/") + PREFIX + "/" + secret


def register_webhooks(
    client: NumeraiClient, models: ModelsConfig, url: str | None
) -> list[Registration]:
    """Set (``url``) or clear (None) the webhook of every enabled model of the models file.

    Models the account does not have are reported as ``unknown``, the others are still set."""
    by_key = {(m.name.lower(), m.tournament): m for m in client.account_models()}
    out: list[Registration] = []
    for spec in models.enabled():
        acct = by_key.get((spec.name.lower(), spec.tournament))
        if acct is None:
            out.append(Registration(spec.name, spec.tournament.label, "unknown"))
            continue
        accepted = client.set_submission_webhook(acct.id, url)
        result = ("set" if url else "cleared") if accepted else "refused"
        log.info("webhook of %s: %s", spec.name, result)
        out.append(Registration(spec.name, spec.tournament.label, result))
    return out
