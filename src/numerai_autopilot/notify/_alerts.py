"""Sending alerts: apprise notifications and healthcheck pings, never failing the run.

Notification URLs and the healthcheck URL carry tokens: they are secrets. They are never
logged whole (a URL is named by its position or its host) and apprise's own log lines pass a
redaction filter holding them.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from ..errors import ConfigError
from ..redact import RedactFilter, redact
from ..retry import Backoff
from ._message import Message, crash_message, report_message

if TYPE_CHECKING:
    from ..config import Settings
    from ..run.report import RunReport

log = logging.getLogger(__name__)
_SPLIT = re.compile(r"[\s,]+")
# A ping is retried once, soon: a dead-man's switch only needs it to arrive within minutes.
_PING_WAITS = Backoff(first=0.25, cap=0.25, attempts=2)


def url_secrets(url: str) -> list[str]:
    """The parts of a notification URL that may be tokens, for redaction: user, password, a
    host without dots (``slack://TokenA/TokenB``), the path and its longer segments, the query.
    A library may log the URL in another form (``json://`` as ``http://``), so the whole URL
    is not enough."""
    try:
        parts = urlsplit(url)
        # As written: ``hostname`` is lowercased, and tokens are case-sensitive.
        host = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
        user, password = parts.username, parts.password
    except ValueError:
        return []
    out = [p for p in (user, password, parts.query) if p]
    if host and "." not in host and host != "localhost":
        out.append(host)
    if parts.path.strip("/"):
        out.append(parts.path)
        out += [seg for seg in parts.path.split("/") if len(seg) >= 6]
    return out


class Alerts:
    """Where a run reports to: apprise ``urls`` (on failure always, on success when
    ``on_success``) and a ``healthcheck`` URL pinged at start, success and failure."""

    def __init__(
        self,
        urls: Sequence[str] = (),
        *,
        on_success: bool = False,
        healthcheck: str | None = None,
        secrets: Sequence[str] = (),
        timeout: float = 10.0,
    ) -> None:
        self.urls = [u for u in urls if u]
        self.on_success = on_success
        self.healthcheck = healthcheck.rstrip("/") if healthcheck else None
        self.timeout = timeout
        every = [*self.urls, *([healthcheck] if healthcheck else [])]
        self.secrets = [*secrets, *every, *(part for u in every for part in url_secrets(u))]
        self._apprise_obj: Any = None
        self.delivered: list[Message] = []
        """Messages apprise accepted, in order (for the report and for tests)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Alerts:
        """Alerts as configured by NUMERAI_NOTIFY_URLS (comma or space separated),
        NUMERAI_NOTIFY_ON_SUCCESS and NUMERAI_HEALTHCHECK_URL."""
        raw = settings.notify_urls.get_secret_value() if settings.notify_urls else ""
        hc = settings.healthcheck_url.get_secret_value() if settings.healthcheck_url else None
        return cls(
            [u for u in _SPLIT.split(raw) if u],
            on_success=settings.notify_on_success,
            healthcheck=hc or None,
            secrets=settings.secret_values(),
        )

    @property
    def configured(self) -> bool:
        return bool(self.urls or self.healthcheck)

    def library_missing(self) -> ConfigError | None:
        """The error to stop a run with when notification URLs are set but apprise is not
        installed (a run would otherwise go on and lose every alert it owed with a log line),
        else None. The URLs are dropped then: nothing could send them; pings still go."""
        if not self.urls:
            return None
        try:
            import apprise  # noqa: F401 - start() imports it next anyway
        except ImportError:
            self.urls = []
            return ConfigError(
                "NUMERAI_NOTIFY_URLS is set but apprise is not installed: install the notify "
                "extra (pip install 'numerai-autopilot[notify]'), or unset NUMERAI_NOTIFY_URLS"
            )
        return None

    # -- the three moments ------------------------------------------------------------------

    def start(self) -> None:
        """Tell the dead-man's switch a run began (so a run that never ends is noticed), and
        check the notification URLs now, so a wrong one is reported before it is needed."""
        if self.urls:
            try:
                self._targets()
            except Exception as exc:  # noqa: BLE001 - a notification failure never fails the run
                log.warning("cannot set up notifications: %s", redact(repr(exc), self.secrets))
        self._ping("/start", "")

    def finished(self, report: RunReport) -> None:
        """Alert on a finished run: failures always, success when asked and something was
        submitted; then ping success or fail."""
        msg = report_message(report, self.secrets)
        submitted = any(str(o.status) == "submitted" for o in report.outcomes)
        if msg.failure or (self.on_success and submitted):
            self._notify(msg)
        self._ping("/fail" if msg.failure else "", msg.title + "\n" + msg.body)

    def crashed(self, exc: BaseException) -> None:
        """Alert on a run that stopped before it could report on each model."""
        msg = crash_message(exc, self.secrets)
        self._notify(msg)
        self._ping("/fail", msg.title + "\n" + msg.body)

    def alert(self, msg: Message, *, notify: bool = True) -> None:
        """Report a state found by a look rather than a run (``watch``): notify ``msg`` when
        ``notify``, and ping ``/fail`` for a failure, success otherwise."""
        if notify:
            self._notify(msg)
        self._ping("/fail" if msg.failure else "", msg.title + "\n" + msg.body)

    def interrupted(self) -> None:
        """A run stopped by Ctrl-C or SIGINT: a person did it, so no notification; the
        dead-man's switch still hears that this run did not finish."""
        self._ping("/fail", "interrupted; the next run resumes where this one stopped")

    # -- transports ---------------------------------------------------------------------------

    def _notify(self, msg: Message) -> None:
        if not self.urls:
            return
        # Whatever goes wrong while notifying is logged and the run goes on: an alert channel
        # that is down must not turn a good run into a failed one (healthchecks' rule).
        try:
            self._apprise(msg)
        except Exception as exc:  # noqa: BLE001 - a notification failure never fails the run
            log.warning("could not send the notification: %s", redact(repr(exc), self.secrets))

    def _apprise(self, msg: Message) -> None:
        import apprise  # imported only when there is something to send

        alog = logging.getLogger("apprise")
        guard = RedactFilter(self.secrets)
        alog.addFilter(guard)
        try:
            ap = self._targets()
            if len(ap) == 0:
                return
            kind = apprise.NotifyType.FAILURE if msg.failure else apprise.NotifyType.SUCCESS
            if ap.notify(title=msg.title, body=msg.body, notify_type=kind):
                self.delivered.append(msg)
                log.info("notification sent to %d URL(s)", len(ap))
            else:
                log.warning("a notification could not be delivered to every URL (see above)")
        finally:
            alog.removeFilter(guard)

    def _targets(self) -> Any:
        """The apprise object holding every URL it understands (built once; the others are
        reported by position, never printed: they hold tokens)."""
        if self._apprise_obj is None:
            import apprise  # imported only when notifications are configured

            alog = logging.getLogger("apprise")
            guard = RedactFilter(self.secrets)
            alog.addFilter(guard)
            try:
                ap = apprise.Apprise()
                for i, url in enumerate(self.urls, 1):
                    if not ap.add(url):
                        log.warning(
                            "notification URL #%d of NUMERAI_NOTIFY_URLS is not one apprise "
                            "understands: check its scheme (e.g. slack://, discord://, "
                            "mailto://)",
                            i,
                        )
            finally:
                alog.removeFilter(guard)
            self._apprise_obj = ap
        return self._apprise_obj

    def _ping(self, suffix: str, body: str) -> None:
        if not self.healthcheck:
            return
        url = self.healthcheck + suffix
        host = _ping_host(url)
        if host is None:  # skipped with one warning, then never tried again in this run
            log.warning("NUMERAI_HEALTHCHECK_URL is not a valid http(s) URL: pings skipped")
            self.healthcheck = None
            return
        for attempt in range(1, _PING_WAITS.attempts + 1):
            if attempt > 1:
                time.sleep(_PING_WAITS.delay(attempt - 1))
            try:
                with httpx.Client(timeout=self.timeout, follow_redirects=True) as http:
                    resp = http.post(url, content=body.encode()[:10_000])
            except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
                problem = f"{type(exc).__name__}"
            else:
                if resp.is_success:
                    return
                problem = f"HTTP {resp.status_code}"
            log.warning(
                "healthcheck ping %s to %s failed (%s), attempt %d of %d",
                suffix or "/",
                host,
                problem,
                attempt,
                _PING_WAITS.attempts,
            )


def _ping_host(url: str) -> str | None:
    """The host to name in a log line: never ``user:password@`` nor the path (where tokens
    are); None when ``url`` is not a usable http(s) URL."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        return None
    return host if parts.scheme in ("http", "https") and host else None
