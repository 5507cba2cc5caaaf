"""NUMERAI_WORKER_MODE=portable: the macOS/Windows worker path, selectable on Linux."""

from __future__ import annotations

import pytest

from numerai_autopilot import _platform
from numerai_autopilot.config import load_settings
from numerai_autopilot.errors import ConfigError


def test_portable_mode_uses_nothing_linux_only_and_is_undone_after() -> None:
    before = _platform.HOST
    with _platform.worker_mode("portable") as host:
        assert _platform.HOST is host
        assert host.start_method == "spawn"
        assert (host.shm, host.proc_status, host.libc, host.affinity) == (None, None, None, False)
        assert not host.die_with_parent()  # no prctl: the child watches its parent instead
        assert host.cpu_count() >= 1
    assert _platform.HOST is before
    with _platform.worker_mode("auto") as host:
        assert host is before


def test_the_mode_is_a_setting_and_a_wrong_one_names_it() -> None:
    assert load_settings(environ={"NUMERAI_WORKER_MODE": "portable"}).worker_mode == "portable"
    assert load_settings(environ={}).worker_mode == "auto"
    with pytest.raises(ConfigError, match="NUMERAI_WORKER_MODE"):
        load_settings(environ={"NUMERAI_WORKER_MODE": "fast"})
