"""The report page in a real headless browser (Debian's chromium): what a person sees, from
the DOM the browser built (cells, names as text, the failure's reason) and from a screenshot
(the cells' and the chart's colours are painted)."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from numerai_autopilot.glance import Mark
from numerai_autopilot.glance._chart import STAGE_COLOUR
from numerai_autopilot.glance._page import COLOUR
from support.glance import browse, chromium, cli
from support.rig import Rig
from support.sandbox import round_number

NETTA, ANAS = "netta_rufina", "anas_platyrhynchos"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
BROWSER = chromium()
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no chromium: apt-get install -y chromium (see .ci/run)"
)


class _Cells(HTMLParser):
    """The grid as the browser serialised it: (model, round) -> (mark, glyph), and the text
    of the failures table."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, int], tuple[str, str]] = {}
        self.tags: Counter[str] = Counter()
        self.failures: list[str] = []
        self._model: str | None = None
        self._cell: tuple[int, str] | None = None
        self._in_failure = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags[tag] += 1
        if tag == "tr" and "data-model" in a:
            self._model = a["data-model"]
        if tag == "td" and "data-mark" in a:
            self._cell = (int(a["data-round"] or 0), a["data-mark"] or "")
        if tag == "tr" and a.get("class") == "failure":
            self._in_failure = True
            self.failures.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._in_failure = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None and self._model is not None:
            self.cells[self._model, self._cell[0]] = (self._cell[1], data)
            self._cell = None
        if self._in_failure:
            self.failures[-1] += data + " "


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_a_person_sees_the_grid_its_colours_the_chart_and_the_failure(
    rig: Rig, capfd: Any, tmp_path: Path
) -> None:
    assert BROWSER is not None
    rig.sb.add_model(HOSTILE_NAME, 8)
    assert cli(rig, capfd, "run")[0] == 0
    rig.sb.close_round()
    rig.sb.open_round()
    rig.knobs(**{"raise": [NETTA]})
    assert cli(rig, capfd, "run")[0] == 1
    number = round_number(rig.sb)
    page = tmp_path / "report.html"
    assert cli(rig, capfd, "report", "--html", str(page), "--rounds", "4")[0] == 0

    dom = browse(BROWSER, page, tmp_path / "profile-dom", "--dump-dom")
    seen = _Cells()
    seen.feed(dom)
    assert seen.cells[ANAS, number - 1] == ("on-time", "✓")
    assert seen.cells[ANAS, number] == ("on-time", "✓")
    assert seen.cells[NETTA, number - 1] == ("on-time", "✓")
    assert seen.cells[NETTA, number] == ("failed", "F")
    assert seen.cells[NETTA, number - 2] == ("missing", "!")
    assert seen.cells[HOSTILE_NAME, number] == ("not-configured", "·")
    # The name is text in a cell: the browser built no image (and ran no handler) from it.
    assert seen.tags["img"] == 0 and seen.tags["script"] == 0
    (failure,) = seen.failures
    assert NETTA in failure and str(number) in failure and "predict" in failure
    assert "exploded on purpose" in failure

    from PIL import Image

    shot = tmp_path / "report.png"
    browse(
        BROWSER, page, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1000,1000"
    )
    with Image.open(shot) as img:
        rgb = img.convert("RGB")
        colours = rgb.getcolors(maxcolors=rgb.width * rgb.height)
    assert colours is not None
    painted: Counter[object] = Counter({c: n for n, c in colours})
    # Each cell is about 26 x 22 px of its colour; the chart's bars have theirs.
    for mark in (Mark.ON_TIME, Mark.FAILED, Mark.MISSING, Mark.NOT_CONFIGURED):
        assert painted[_hex(COLOUR[mark][0])] > 300, mark
    assert painted[_hex(COLOUR[Mark.LATE][0])] < 50  # none late: the legend shows only what is
    assert painted[_hex(STAGE_COLOUR["predict"])] > 100
    white = painted[(255, 255, 255)]
    assert white < 0.97 * sum(painted.values())  # not a blank page
