"""The API key as the ``Authorization`` header's token: both halves or neither, and each a
value a header can carry."""

from __future__ import annotations

import re

from ..errors import ConfigError

_KEY_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no whitespace: a header value


def api_token(public_id: str | None, secret_key: str | None) -> str | None:
    """``Token <public_id>$<secret_key>``, or None without a key (public calls only). A key
    with one half, an empty half or a half a header cannot carry is a ConfigError."""
    if (public_id is None) != (secret_key is None) or public_id == "" or secret_key == "":
        raise ConfigError(
            "the Numerai API key needs both halves: set NUMERAI_PUBLIC_ID and "
            "NUMERAI_SECRET_KEY (or neither, for public calls only)"
        )
    if public_id is None or secret_key is None:
        return None
    for name, value in (
        ("NUMERAI_PUBLIC_ID", public_id),
        ("NUMERAI_SECRET_KEY", secret_key),
    ):
        if not _KEY_CHARS.fullmatch(value):
            # Never echo the value: it is a secret.
            raise ConfigError(f"{name} contains spaces or control characters: copy it again")
    return f"Token {public_id}${secret_key}"
