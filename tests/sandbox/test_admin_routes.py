"""The admin API's route table and its documentation are the same list, in both directions."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.sandbox.admin import ROUTES

DOC = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"
# A row's first cell opens with `METHOD[/METHOD...] /_sandbox/path[?query]`.
ROW = re.compile(r"^\| `(?P<methods>[A-Z/]+) (?P<path>/_sandbox/[^`?\s]*)[^`]*`")


def documented_routes(text: str) -> set[tuple[str, str]]:
    """(method, path) of every row of the table under "## Admin API"."""
    section = text.split("## Admin API", 1)[1].split("\n## ", 1)[0]
    routes: set[tuple[str, str]] = set()
    for line in section.splitlines():
        found = ROW.match(line)
        if found is not None:
            routes |= {(m, found["path"]) for m in found["methods"].split("/")}
    return routes


def test_reader_splits_methods_and_drops_queries() -> None:
    text = (
        "## Admin API\n| request | effect |\n|---|---|\n"
        "| `GET/DELETE /_sandbox/counters` | x |\n"
        "| `GET /_sandbox/submissions?model=<id>` | y |\n"
        "## Faults\n| `GET /_sandbox/elsewhere` | z |\n"
    )
    assert documented_routes(text) == {
        ("GET", "/_sandbox/counters"),
        ("DELETE", "/_sandbox/counters"),
        ("GET", "/_sandbox/submissions"),
    }


def test_docs_list_exactly_the_admin_routes() -> None:
    documented = documented_routes(DOC.read_text(encoding="utf-8"))
    assert sorted(documented - set(ROUTES)) == [], "documented but not served"
    assert sorted(set(ROUTES) - documented) == [], "served but not documented"


def test_admin_answers_400_for_a_bad_body_and_404_for_a_wrong_method(
    sb: Sandbox, client: httpx.Client
) -> None:
    bad = client.post("/_sandbox/late", content=b"[1]")
    assert bad.status_code == 400
    assert bad.json() == {"error": "ValueError: the body must be a JSON object"}
    missing = client.post("/_sandbox/late", json={})
    assert (missing.status_code, missing.json()) == (400, {"error": "KeyError: 'accepted'"})
    wrong = client.put("/_sandbox/late", json={"accepted": True})
    assert wrong.status_code == 404
    assert wrong.json() == {"error": "no admin route PUT /_sandbox/late"}
    assert sb.state.late_accepted is True
