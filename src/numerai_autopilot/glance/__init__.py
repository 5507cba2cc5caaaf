"""Every model's last rounds at a glance: the grid ``status`` prints and the report page.

- :func:`look`, :class:`Glance` -- one API request and the ledger, read into a :class:`Grid`
  (one :class:`Section` per tournament, a :class:`Row` per model, a :class:`Cell` per round,
  each with its :class:`Mark`) and each configured model's state this round
- :func:`round_history`, :class:`RoundRecord` -- the ledger's decisive record per model and
  round (``history``): the submission, else the newest failure; idle runs never hide it
- :func:`report_page`, :class:`Report` -- the self-contained HTML report (``report --html``,
  ``serve``'s ``/``); :func:`render_page` draws it from a grid and the ledger's runs
"""

from ._grid import SUBMITTED_MARKS, Cell, Grid, Mark, Row, Section, build_grid
from ._ledger_view import RoundRecord, decisive, round_history
from ._look import DEFAULT_ROUNDS, MAX_ROUNDS, Glance, look
from ._page import CSP, render_page
from ._report import DEFAULT_RUNS, Report, report_page

__all__ = [
    "CSP",
    "DEFAULT_ROUNDS",
    "DEFAULT_RUNS",
    "MAX_ROUNDS",
    "SUBMITTED_MARKS",
    "Cell",
    "Glance",
    "Grid",
    "Mark",
    "Report",
    "RoundRecord",
    "Row",
    "Section",
    "build_grid",
    "decisive",
    "look",
    "render_page",
    "report_page",
    "round_history",
]
