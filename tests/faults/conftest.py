"""Fixtures of the fault suite: a rig (sandbox, models, alert receiver) per test."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from numerai_autopilot.sandbox import Sandbox
from support.receiver import Receiver
from support.rig import Rig


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def rig(sb: Sandbox, tmp_path: Path, receiver: Receiver) -> Iterator[Rig]:
    r = Rig(sb, tmp_path, receiver)
    r.write_models()
    yield r
    # The in-process CLI configured logging onto this test's captured stderr: undo it.
    root = logging.getLogger()
    for h in list(root.handlers):
        if h.get_name() == "numerai-autopilot":
            root.removeHandler(h)
    sys.excepthook = sys.__excepthook__
