"""`report --html` and `serve`'s GET /: one self-contained, escaped page against the sandbox."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from numerai_autopilot.errors import ConfigError
from numerai_autopilot.run.ledger import Ledger
from numerai_autopilot.schedule import FailureLimiter, WebhookServer, start_server
from support.glance import cli, doc
from support.rig import Rig, settings_for
from support.sandbox import round_number

NETTA = "netta_rufina"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_ERROR = "</td><script>alert('pwned')</script> & \"quoted\""
SECRET = "report-test-secret-" + "k" * 30


def _failed_round_with_hostile_text(rig: Rig, capfd: Any) -> int:
    """A run where netta fails at predict; an account model with markup for a name; a ledger
    failure whose reason is markup (the ledger holds error texts from the API and models)."""
    rig.sb.add_model(HOSTILE_NAME, 8)
    rig.knobs(**{"raise": [NETTA]})
    assert cli(rig, capfd, "run")[0] == 1
    number = round_number(rig.sb)
    with Ledger(rig.data_dir) as ledger:
        run_id = ledger.start_run("run")
        ledger.record(
            run_id,
            "corvus_corone",
            tournament=8,
            round_number=number - 1,
            stage="download",
            status="failed",
            error=HOSTILE_ERROR,
        )
        ledger.finish_run(run_id, 1, {"failed": 1}, {"resolve": 0.1, "download": 0.5})
    return number


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_self_contained(html: str) -> None:
    """No script, no event handler, no external asset, the CSP that forbids them."""
    parser = _Tags()
    parser.feed(html)
    names = {tag for tag, _ in parser.tags}
    assert {"table", "svg", "rect", "style"} <= names
    assert not names & {"script", "img", "iframe", "link", "object", "embed", "a", "form"}
    for tag, attrs in parser.tags:
        bad = [a for a in attrs if a in ("src", "href") or a.startswith("on")]
        assert not bad, (tag, attrs)
    assert "@import" not in html and "url(" not in html
    # The one URL is the SVG namespace (an identifier, never fetched).
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}
    (csp,) = [a for t, a in parser.tags if t == "meta" and a.get("http-equiv")]
    assert "default-src 'none'" in (csp.get("content") or "")


def test_report_html_is_self_contained_escaped_and_shows_grid_runs_and_failures(
    rig: Rig, capfd: Any, tmp_path: Path
) -> None:
    number = _failed_round_with_hostile_text(rig, capfd)
    page = tmp_path / "out" / "report.html"
    code, out, err = cli(rig, capfd, "report", "--html", str(page))
    assert code == 0, err
    assert doc(out, "report") == {
        "event": "report",
        "path": str(page),
        "failures": 2,
        "error": None,
    }
    html = page.read_text(encoding="utf-8")
    assert_self_contained(html)
    assert HOSTILE_NAME not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert HOSTILE_ERROR not in html
    assert "&lt;/td&gt;&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt; &amp;" in html
    assert f'data-round="{number}" data-mark="failed"' in html
    assert "exploded on purpose" in html  # netta's reason, whole
    assert html.count('class="stage stage-') >= 3  # the chart's stage bars
    assert page.stat().st_mode & 0o777 == 0o644
    assert not list(page.parent.glob(".*.tmp"))


def test_report_when_the_api_is_down_still_writes_the_ledgers_part_and_exits_1(
    rig: Rig, capfd: Any, tmp_path: Path
) -> None:
    assert cli(rig, capfd, "run")[0] == 0
    page = tmp_path / "report.html"
    code, _, err = cli(
        rig,
        capfd,
        "report",
        "--html",
        str(page),
        NUMERAI_API_URL="http://127.0.0.1:9/",
        NUMERAI_HTTP_TIMEOUT="1",
    )
    assert code == 1
    assert "the page lacks the grid" in err
    html = page.read_text(encoding="utf-8")
    assert 'id="api-error"' in html and "127.0.0.1:9" in html
    assert 'class="stage stage-predict"' in html  # the run from the ledger, charted
    assert 'class="grid"' not in html


@pytest.fixture
def server(rig: Rig, capfd: Any) -> Iterator[WebhookServer]:
    _failed_round_with_hostile_text(rig, capfd)
    settings = settings_for(rig.sb, rig.base, webhook_secret=SECRET, data_dir=rig.data_dir)
    srv = start_server(settings, port=0, limiter=FailureLimiter(limit=3, window=60))
    yield srv
    srv.stop()


def test_serve_shows_the_page_at_root_only_with_the_secret(server: WebhookServer) -> None:
    with httpx.Client(timeout=30) as http:
        assert http.get(f"{server.url}/").status_code == 401
        wrong = http.get(f"{server.url}/", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["WWW-Authenticate"] == "Bearer"
        # The secret in the path is the webhook's way, not the page's.
        assert http.get(f"{server.url}/webhook/{SECRET}").status_code == 405
        ok = http.get(f"{server.url}/", headers={"Authorization": f"Bearer {SECRET}"})
        assert ok.status_code == 200
        assert ok.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "default-src 'none'" in ok.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in ok.headers["Content-Security-Policy"]
        assert ok.headers["X-Content-Type-Options"] == "nosniff"
        assert ok.headers["Cache-Control"] == "no-store"
        assert_self_contained(ok.text)
        assert 'data-mark="failed"' in ok.text and "&lt;img src=x" in ok.text
        head = http.head(f"{server.url}/", headers={"Authorization": f"Bearer {SECRET}"})
        assert head.status_code == 200 and head.content == b""
        # Refused calls count: over the limit, the page is refused too (429).
        for _ in range(3):
            http.get(f"{server.url}/")
        assert http.get(f"{server.url}/").status_code == 429
    assert server.trigger.counts.started == 0  # reading the page never starts a run


def test_serve_answers_503_with_the_reason_when_the_page_cannot_be_built(
    rig: Rig, tmp_path: Path
) -> None:
    def broken() -> str:
        raise ConfigError("models.toml: model #1: fromat: unknown field")

    settings = settings_for(rig.sb, tmp_path, webhook_secret=SECRET)
    srv = start_server(settings, port=0, page=broken)
    try:
        auth = {"Authorization": f"Bearer {SECRET}"}
        answer = httpx.get(f"{srv.url}/", headers=auth, timeout=10)
        assert answer.status_code == 503
        assert answer.json() == {
            "error": "the report cannot be built: models.toml: model #1: fromat: unknown field"
        }
        assert httpx.get(f"{srv.url}/health", timeout=10).json()["status"] == "ok"
    finally:
        srv.stop()
