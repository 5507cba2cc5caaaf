"""Every JSON log line says which run, model and stage it is about (logctx + JsonFormatter)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from numerai_autopilot import logctx
from numerai_autopilot.cli.logs import JsonFormatter
from numerai_autopilot.config import ModelSpec
from numerai_autopilot.errors import ConfigError
from numerai_autopilot.models._features import configured_features
from numerai_autopilot.progress import stage
from numerai_autopilot.tournaments import Tournament


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, object]] = []
        self.setFormatter(JsonFormatter())
        self.addFilter(logctx.ContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def kept() -> Iterator[_Keep]:
    handler = _Keep()
    loggers = [logging.getLogger(n) for n in ("test.logctx", "numerai_autopilot.progress")]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    yield handler
    for log, level in zip(loggers, levels, strict=True):
        log.removeHandler(handler)
        log.setLevel(level)


def test_lines_carry_the_bound_run_model_and_stage_even_from_another_thread(kept: _Keep) -> None:
    log = logging.getLogger("test.logctx")
    log.info("before any run")
    with logctx.bind(run_id="r1"), stage("upload"), logctx.bind(model="anas"):
        log.info("inside")
        worker = threading.Thread(target=log.info, args=("from a thread",))
        worker.start()
        worker.join(10)
        log.info("explicit", extra={"model": "netta"})
    log.info("after")
    by_msg = {str(x["msg"]): x for x in kept.lines}
    assert {k: by_msg["before any run"][k] for k in logctx.FIELDS} == dict.fromkeys(logctx.FIELDS)
    assert {k: by_msg["inside"][k] for k in logctx.FIELDS} == {
        "run_id": "r1",
        "model": "anas",
        "stage": "upload",
    }
    # A thread started without the run's context still names the run (not its model).
    assert by_msg["from a thread"]["run_id"] == "r1"
    assert by_msg["explicit"]["model"] == "netta"
    assert by_msg["after"]["run_id"] is None
    starts = [x for x in kept.lines if x.get("event") == "stage.start"]
    ends = [x for x in kept.lines if x.get("event") == "stage.end"]
    assert [x["stage"] for x in starts + ends] == ["upload", "upload"]
    assert isinstance(ends[0]["seconds"], float)


def test_unknown_feature_set_suggests_the_closest(tmp_path: Path) -> None:
    spec = ModelSpec("m", Tournament.CLASSIC, "lightgbm", tmp_path / "m.txt", features="meduim")
    with pytest.raises(ConfigError, match="did you mean 'medium'"):
        configured_features(spec, {"small": ["a"], "medium": ["a", "b"], "all": ["a", "b"]})
