"""One redactor: a secret that contains another is masked whole, whatever the order given."""

from __future__ import annotations

import httpx
import pytest

from numerai_autopilot.client._graphql import GraphQL
from numerai_autopilot.redact import MASK, redact

PUBLIC = "PUBLICID7Q"
SECRET = "s3cr3t-PUBLICID7Q-tail"  # holds the public id inside it


@pytest.mark.parametrize("order", [[PUBLIC, SECRET], [SECRET, PUBLIC]])
def test_longer_secrets_are_masked_first(order: list[str]) -> None:
    text = f"key {PUBLIC}${SECRET} refused"
    assert redact(text, order) == f"key {MASK}${MASK} refused"


def test_the_client_scrubs_with_the_same_redactor() -> None:
    with httpx.Client() as http:
        gql = GraphQL(http, "http://127.0.0.1:9/", None, [PUBLIC, SECRET], 1.0)
        assert gql.scrub(f"Token {PUBLIC}${SECRET}") == f"Token {MASK}${MASK}"
