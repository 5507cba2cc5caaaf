from __future__ import annotations

from collections.abc import Iterator

import pytest

from numerai_autopilot.sandbox import Sandbox


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(scale="tiny", seed=0) as sandbox:
        yield sandbox
