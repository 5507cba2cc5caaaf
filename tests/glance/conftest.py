"""Fixtures of the glance tests: a rig (sandbox, entry-point models, alert receiver) and the
CLI in this process with the rig's environment."""

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
def rig(sb: Sandbox, tmp_path: Path) -> Iterator[Rig]:
    receiver = Receiver()
    r = Rig(sb, tmp_path, receiver)
    r.write_models()
    yield r
    receiver.close()
    root = logging.getLogger()  # the in-process CLI set up logging on this test's stderr
    for h in list(root.handlers):
        if h.get_name() == "numerai-autopilot":
            root.removeHandler(h)
    sys.excepthook = sys.__excepthook__
