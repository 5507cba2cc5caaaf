"""Fixtures every test area shares: a sandbox per test (cheap: its generated data is cached on
disk for the whole session), our API client pointed at it with short timeouts and instant
retries, and the session's trained model artifacts. Areas add their own fixtures in their own
conftest.py; helpers live in the ``support`` package."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from numerai_autopilot import _platform
from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.sandbox import Sandbox
from support import net_guard, real_schema
from support.sandbox import OPENED, sandbox
from support.workshop import ArtifactCache

net_guard.install()


@pytest.fixture(autouse=True)
def _nothing_leaves_the_machine() -> Iterator[None]:
    net_guard.take()
    yield
    refused = net_guard.take()
    assert not refused, f"this test tried to leave the machine: {refused}"


# The suites whose every GraphQL document (sent by the autopilot's client) must be one Numerai's
# real schema accepts; other suites send foreign or deliberately broken documents.
_HELD_TO_THE_REAL_SCHEMA = ("e2e", "faults", "run", "schedule", "glance", "watch")


@pytest.fixture(autouse=True)
def _documents_are_valid_on_numerai(request: pytest.FixtureRequest) -> Iterator[None]:
    OPENED.clear()
    yield
    opened, suite = list(OPENED), request.path.parent.name
    OPENED.clear()
    if suite in _HELD_TO_THE_REAL_SCHEMA:
        refused = real_schema.invalid(text for box in opened for text in box.documents())
        assert not refused, f"documents Numerai's real schema refuses: {refused}"


@pytest.fixture(scope="session", autouse=True)
def _one_jit_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One folder of compiled forest walks for the session (numba compiles them once, about
    20-40 s on 2 busy cores, instead of once per test's state folder), as NUMERAI_JIT_DIR
    allows a user with several state folders."""
    old = os.environ.get("NUMERAI_JIT_DIR")
    os.environ["NUMERAI_JIT_DIR"] = str(tmp_path_factory.mktemp("jit"))
    yield
    if old is None:
        os.environ.pop("NUMERAI_JIT_DIR", None)
    else:
        os.environ["NUMERAI_JIT_DIR"] = old


@pytest.fixture(scope="session")
def sandbox_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-data")


@pytest.fixture
def sb(sandbox_data: Path, tmp_path: Path) -> Iterator[Sandbox]:
    with sandbox(sandbox_data, tmp_path / "sb") as box:
        yield box


@pytest.fixture
def api(sb: Sandbox) -> Iterator[NumeraiClient]:
    with NumeraiClient(
        sb.url, sb.public_id, sb.secret_key, timeout=2.0, retry_wait_initial=0.0
    ) as client:
        yield client


@pytest.fixture
def non_linux_host(monkeypatch: pytest.MonkeyPatch) -> _platform.Host:
    """This process as a macOS-like host: no CPU affinity mask, /dev/shm, /proc or glibc, and
    workers spawned rather than forked (spawned children are handed the same view). The real
    Linux-only call is removed too, so any direct use of it still fails the test."""
    host = _platform.Host(
        affinity=False,
        shm=None,
        proc_status=None,
        libc=None,
        rlimit_data=True,
        maxrss_unit=1024,  # the real getrusage of this (Linux) machine counts kilobytes
        fork_server=False,
        posix=True,
    )
    monkeypatch.setattr(_platform, "HOST", host)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    return host


@pytest.fixture(scope="session")
def artifacts() -> ArtifactCache:
    """Model artifacts trained once per session (pass to ``Workshop``)."""
    return ArtifactCache()
