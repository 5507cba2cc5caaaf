"""Issue 11's memory target, from the untimed memory rounds (bench.Bench.case, memory=True):
"peak memory growth N = 5 to 20 under the models' own size plus 10 %".

The peak is the highest summed PSS of the approach's processes over its memory rounds, read
in full every 0.2 s (poller.py): cron one, resident two (its peak varies by 20-50 MB from round
to round, with the server's own heap and how far its workers are into their model when two run
side by side); quick mode: cron one, the resident its warm-up round. The models' own size
is their artifacts' bytes on disk (the 15 models N = 5 -> 20 adds are 15 x 5.8 MB text files);
the bound is 1.10 x the added models' bytes. When the growth is over the bound, the roles
(process kinds) that grew most are named. Without memory rounds (an old records file), the
timed cases' budgeted peaks are used.
"""

from __future__ import annotations

from typing import Any

MB = 1e6
Target = tuple[str, str, bool | None]

# What the autopilot's processes are, by (command, depth in the measured tree), as this build
# runs them (run/_process.py, run/resident.py): one level under the run (cron) or `serve`
# (resident), multiprocessing's fork server (libraries preloaded) and its resource tracker;
# under the fork server, the resident model server (which keeps the models loaded); prediction
# workers fork from that server (resident) or the fork server (cron). Unknown roles keep their
# raw "command, depth k" name.
NAMES = {
    ("numerai-autopilot run", 1): "the run (CLI)",
    ("resident_serve.py", 0): "serve",
    ("python -c", 1): "fork server + resource tracker",
}
CRON_NAMES = {("python -c", 2): "fork server + resource tracker", ("python -c", 3): "workers"}
RESIDENT_NAMES = {("python -c", 2): "resident model server", ("python -c", 3): "workers"}


def role_name(role: str, approach: str) -> str:
    """A readable name for a poller role ("python -c, depth 2, already running")."""
    parts = role.split(", ")
    if len(parts) < 2 or not parts[1].startswith("depth "):
        return role
    key = (parts[0], int(parts[1].removeprefix("depth ")))
    table = NAMES | (RESIDENT_NAMES if approach == "resident" else CRON_NAMES)
    return table.get(key, role)


def record(meta: dict[str, Any], approach: str, n: int | None) -> dict[str, Any] | None:
    """The memory round of (lgbm, ``approach``, ``n``) with the highest peak, if any."""
    found: list[dict[str, Any]] = [
        r
        for r in meta.get("memory") or []
        if r.get("set", "lgbm") == "lgbm" and r["approach"] == approach and r["n"] == n
    ]
    return max(found, key=lambda r: int(r["peak_pss"])) if found else None


def target(
    approach: str,
    meta: dict[str, Any],
    rows: tuple[dict[str, Any] | None, dict[str, Any] | None],
    mid: int | None,
    big: int,
) -> Target:
    """The growth target of ``approach`` from N = ``mid`` to ``big``: from the memory rounds,
    else from the timed rows (their budgeted peaks; "not measured" when they had none)."""
    first = "?" if mid is None else str(mid)
    label = (
        f"{approach}: peak memory growth N = {first} to {big} under the added models' size + 10%"
    )
    a, b = record(meta, approach, mid), record(meta, approach, big)
    how = "the highest of the untimed memory rounds, the whole tree's PSS every 0.2 s"
    if a is None or b is None:
        a, b = rows
        how = "budgeted PSS snapshots of the timed cases"
    if a is None or b is None:
        return (label, "not measured (needs two values of N)", None)
    if not (a["peak_pss"] and b["peak_pss"]):
        return (label, "not measured (no PSS sample fitted the poller's budget)", None)
    growth = b["peak_pss"] - a["peak_pss"]
    added = b["models_bytes"] - a["models_bytes"]
    allowed = 1.10 * added
    text = (
        f"{growth / MB:+.0f} MB PSS ({a['peak_pss'] / MB:.0f} -> {b['peak_pss'] / MB:.0f} MB; "
        f"{how}) vs {allowed / MB:.0f} MB allowed (1.1 x the {big - (mid or 0)} added models' "
        f"{added / MB:.1f} MB on disk)"
    )
    if growth > allowed:
        text += "; grew: " + grown(a.get("at_peak") or {}, b.get("at_peak") or {}, approach)
    return (label, text, growth <= allowed)


def _by_name(roles: dict[str, list[int]], approach: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for role, counts in roles.items():
        acc = out.setdefault(role_name(role, approach), [0, 0, 0])
        for i, v in enumerate(counts):
            acc[i] += v
    return out


def grown(
    a: dict[str, list[int]], b: dict[str, list[int]], approach: str = "", top: int = 3
) -> str:
    """The processes whose PSS at the peak changed most from ``a`` to ``b`` ("-" if unknown).
    Pages shared by a fork family are split among its members: a server that holds more
    models shows part of them in its workers' PSS (the RSS says who maps them)."""
    a, b = _by_name(a, approach), _by_name(b, approach)
    diffs = []
    for role in set(a) | set(b):
        ca, cb = a.get(role, [0, 0, 0]), b.get(role, [0, 0, 0])
        diffs.append((cb[2] - ca[2], role, ca[0], cb[0], cb[1] - ca[1]))
    diffs.sort(key=lambda d: -abs(d[0]))
    parts = [
        f"{role} ({na} -> {nb}) {pss / MB:+.0f} MB PSS ({rss / MB:+.0f} MB RSS)"
        for pss, role, na, nb, rss in diffs[:top]
    ]
    return "; ".join(parts) or "-"


def section(meta: dict[str, Any]) -> list[str]:
    """The results page's memory table: each memory round's peak and what it is made of."""
    mem = meta.get("memory") or []
    if not mem:
        return []
    lines = [
        "",
        "## Peak memory (untimed memory rounds, the whole tree's PSS every 0.2 s)",
        "",
        "| set | N | approach | peak MB PSS | peak MB RSS | models MB on disk | at the peak, "
        "by process: count, MB PSS (RSS) | snapshots | poller % of a core |",
        "|---|---:|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in sorted(mem, key=lambda r: (r.get("set", "lgbm"), r["approach"], r["n"])):
        named = _by_name(r.get("at_peak") or {}, r["approach"])
        roles = sorted(named.items(), key=lambda kv: -kv[1][2])
        parts = "; ".join(f"{role}: {c[0]}, {c[2] / MB:.0f} ({c[1] / MB:.0f})" for role, c in roles)
        lines.append(
            f"| {r.get('set', 'lgbm')} | {r['n']} | {r['approach']}"
            f"{' (first round)' if r.get('warm_up') else ''} | {r['peak_pss'] / MB:.0f} | "
            f"{r['peak_rss'] / MB:.0f} | {r['models_bytes'] / MB:.1f} | {parts or '-'} | "
            f"{r.get('pss_samples', 0)} | {100 * r.get('poller_share', 0.0):.1f} |"
        )
    lines += [
        "",
        "Processes: the run (CLI); serve; fork server + resource tracker (multiprocessing's, "
        "libraries preloaded); resident model server (keeps the models loaded; the workers "
        "fork from it and share its pages, so its PSS drops while they run); workers. "
        "Rounds of their own, after the timed ones: a full PSS snapshot costs 0.025-0.05 ms per "
        "MB of RSS (17-20 ms for the cron run's tree, 31-45 ms for the resident server's), more "
        "than 1% of a core of a 2-3 s resident round, so the timed cases keep the budgeted "
        "poller and these rounds are not timed.",
    ]
    return lines
