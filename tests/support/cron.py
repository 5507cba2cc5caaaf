"""A tiny five-field cron matcher for the deployment tests (lists, ranges, steps, *)."""

from __future__ import annotations

from datetime import datetime, timedelta

_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _field(text: str, lo: int, hi: int) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if rng == "*":
            a, b = lo, hi
        elif "-" in rng:
            a_text, b_text = rng.split("-")
            a, b = int(a_text), int(b_text)
        else:
            a = int(rng)
            b = hi if step_text else a
        if not (lo <= a <= b <= hi) or step < 1:
            raise ValueError(f"cron field {text!r} out of range {lo}..{hi}")
        out.update(range(a, b + 1, step))
    return out


def parse(expr: str) -> list[set[int]]:
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"need five cron fields, got {expr!r}")
    sets = [_field(f, lo, hi) for f, (lo, hi) in zip(fields, _BOUNDS, strict=True)]
    if 7 in sets[4]:
        sets[4].discard(7)
        sets[4].add(0)
    return sets


def matches(expr: str, t: datetime) -> bool:
    minute, hour, dom, month, dow = parse(expr)
    cron_dow = (t.weekday() + 1) % 7  # Python: Monday 0; cron: Sunday 0
    return (
        t.minute in minute
        and t.hour in hour
        and t.day in dom
        and t.month in month
        and cron_dow in dow
    )


def fire_times(expr: str, start: datetime, end: datetime) -> list[datetime]:
    """Every minute in [start, end) the expression fires (start truncated to the minute)."""
    t = start.replace(second=0, microsecond=0)
    out = []
    while t < end:
        if matches(expr, t):
            out.append(t)
        t += timedelta(minutes=1)
    return out
