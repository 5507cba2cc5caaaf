"""Tables that stay readable at 80 columns: names and ids whole (never cut: a cut name hides
the typo), reasons wrapped to a bounded number of lines, times in UTC marked ``Z``."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

REASON_LINES = 3
"""Lines a reason may take in a table (the full text is in ``history --json`` and the ledger)."""
_GAP = 2  # columns between two cells: one space of padding on each side


def table(title: str, whole: Sequence[str], rest: Sequence[str]) -> Table:
    """A table whose ``whole`` columns never wrap nor shrink, then the ``rest`` columns."""
    t = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for name in whole:
        t.add_column(name, no_wrap=True, overflow="ignore")
    for name in rest:
        t.add_column(name, overflow="fold")
    return t


def fit(c: Console, rows: Sequence[Sequence[str]], last: Sequence[str]) -> list[Text]:
    """The ``last`` column's texts wrapped to what is left of the console's width after the
    other columns (``rows``: their cells, header first), at most :data:`REASON_LINES` lines
    each (``…`` where a text was cut)."""
    width = room(c, rows)
    out = []
    for text in last:
        lines = textwrap.wrap(text, width, max_lines=REASON_LINES, placeholder=" …")
        out.append(Text("\n".join(lines)))  # Text: an error's [brackets] are not markup
    return out


def room(c: Console, rows: Sequence[Sequence[str]]) -> int:
    """Columns left for the last column after the others (``rows``: header first)."""
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(len(rows[0]))]
    return max(16, c.width - sum(widths) - _GAP * len(widths))


def utc(ts: str | None) -> str:
    """``2026-12-02T14:31:43.120+00:00`` as ``2026-12-02 14:31:43Z``; ``-`` for none."""
    if not ts:
        return "-"
    return f"{ts[:10]} {ts[11:19]}Z"


def seconds_between(start: str, end: str | None) -> str:
    """How long a run took, as ``12.3s`` (``-`` while it runs)."""
    from datetime import datetime

    if not end:
        return "-"
    try:
        took = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return "-"
    return f"{took:.1f}s"
