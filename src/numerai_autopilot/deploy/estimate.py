"""The monthly cost of the Azure set-up, from the ledger's measured run times and list prices.

A Container Apps Job is billed per second of each execution (vCPU-seconds and GiB-seconds), after
a monthly free grant per subscription; the registry is a fixed daily price; Azure Files and Log
Analytics are billed by volume. The estimate counts one working run per round and idle runs for
every other slot, each with its measured median time plus the container's start.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..run.ledger import RunRow
from .azure import AzureParams
from .slots import RECOMMENDED, Slots

# USD list prices, pay-as-you-go, East US, as published on Azure's pricing pages in 2024-2025;
# the free grants are as stated on learn.microsoft.com "Billing in Azure Container Apps". Written
# here from those pages, not fetched at run time: check the Azure pricing calculator for your
# region and currency before relying on them.
PRICES_AS_OF = "2025 list prices (East US, USD)"
VCPU_SECOND = 0.000024  # Container Apps Consumption, active
GIB_SECOND = 0.000003
FREE_VCPU_SECONDS = 180_000  # per subscription per calendar month, shared with other apps
FREE_GIB_SECONDS = 360_000
REGISTRY_BASIC_PER_DAY = 0.167  # Azure Container Registry, Basic tier
FILES_GIB_MONTH = 0.06  # Azure Files Standard, transaction optimized, LRS, used capacity
LOG_INGEST_GB = 2.30  # Log Analytics, Analytics logs, pay-as-you-go
LOG_FREE_GB = 5.0  # per billing account per month; 31 days of retention included
VAULT_PER_10K_OPS = 0.03  # Key Vault Standard, secrets operations

DAYS_PER_MONTH = 30.44
WEEKS_PER_MONTH = DAYS_PER_MONTH / 7
ROUNDS_PER_WEEK = 5  # Tuesday to Saturday
# Assumptions where nothing is measured (stated in the output when used).
START_OVERHEAD_S = 10.0  # container start and interpreter start, billed with the run
DEFAULT_WORKING_S = 120.0
DEFAULT_IDLE_S = 1.0
LOG_BYTES_WORKING = 50_000
LOG_BYTES_IDLE = 3_000
DEFAULT_DATA_GIB = 0.1  # a few rounds of live files and the ledger


@dataclass(frozen=True)
class Line:
    item: str
    quantity: str
    monthly_usd: float


@dataclass
class Estimate:
    lines: list[Line]
    notes: list[str] = field(default_factory=list)

    @property
    def total_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)


def _is_working(run: RunRow) -> bool:
    return run.summary.get("submitted", 0) + run.summary.get("failed", 0) > 0


def run_times(runs: Sequence[RunRow]) -> tuple[float | None, float | None]:
    """Median ``timings['total']`` of working runs (something submitted or failed) and idle
    runs; ``None`` where the ledger has no such run. A run stopped by an error before it
    reported on its models (a bad key, the API down) is neither: it says nothing of the cost."""
    done = [r for r in runs if r.command == "run" and "total" in r.timings and r.error is None]
    work = [r.timings["total"] for r in done if _is_working(r)]
    idle = [r.timings["total"] for r in done if not _is_working(r)]
    return (
        statistics.median(work) if work else None,
        statistics.median(idle) if idle else None,
    )


def folder_gib(path: Path | None) -> float | None:
    """Bytes under ``path`` in GiB, or None when it does not exist."""
    if path is None or not path.is_dir():
        return None
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**30


def estimate(
    params: AzureParams,
    runs: Sequence[RunRow],
    *,
    slots: Slots = RECOMMENDED,
    models_gib: float | None = None,
    data_gib: float | None = None,
) -> Estimate:
    """The monthly cost of ``params`` on the recommended slots, from measured run times."""
    notes = [f"prices: {PRICES_AS_OF}; see deploy/estimate.py for each source"]
    working_s, idle_s = run_times(runs)
    how_work = "measured median" if working_s is not None else "assumed"
    how_idle = "measured median" if idle_s is not None else "assumed"
    if working_s is None:
        working_s = DEFAULT_WORKING_S
        notes.append(f"no working run in the ledger: assumed {DEFAULT_WORKING_S:g} s per round")
    if idle_s is None:
        idle_s = DEFAULT_IDLE_S
        notes.append(f"no idle run in the ledger: assumed {DEFAULT_IDLE_S:g} s per idle slot")
    executions = slots.per_week * WEEKS_PER_MONTH
    working = ROUNDS_PER_WEEK * WEEKS_PER_MONTH
    idle = max(0.0, executions - working)
    seconds = working * (working_s + START_OVERHEAD_S) + idle * (idle_s + START_OVERHEAD_S)
    notes.append(
        f"{executions:.0f} executions a month: {working:.0f} working ({working_s:.1f} s, "
        f"{how_work}) and {idle:.0f} idle ({idle_s:.2f} s, {how_idle}), each "
        f"+{START_OVERHEAD_S:g} s to start"
    )
    vcpu_s, gib_s = seconds * params.cpu, seconds * params.memory_gib
    compute = max(0.0, vcpu_s - FREE_VCPU_SECONDS) * VCPU_SECOND + (
        max(0.0, gib_s - FREE_GIB_SECONDS) * GIB_SECOND
    )
    without_grant = vcpu_s * VCPU_SECOND + gib_s * GIB_SECOND
    notes.append(
        f"compute without the free grant (if other apps use it up): ${without_grant:.2f}/month"
    )
    lines = [
        Line(
            f"Container Apps Job ({params.cpu:g} vCPU, {params.memory})",
            f"{vcpu_s:,.0f} vCPU-s, {gib_s:,.0f} GiB-s (free: 180,000 / 360,000)",
            compute,
        )
    ]
    if not params.image:
        lines.append(
            Line(
                "Container Registry Basic",
                f"{DAYS_PER_MONTH:g} days",
                REGISTRY_BASIC_PER_DAY * DAYS_PER_MONTH,
            )
        )
    if models_gib is None:
        models_gib = 0.05
        notes.append("models folder not found: assumed 50 MiB of artifacts")
    if data_gib is None:
        data_gib = DEFAULT_DATA_GIB
    stored = models_gib + data_gib
    lines.append(Line("Azure Files (models + data)", f"{stored:.2f} GiB", stored * FILES_GIB_MONTH))
    log_gb = (working * LOG_BYTES_WORKING + idle * LOG_BYTES_IDLE) / 1e9
    lines.append(
        Line(
            "Log Analytics ingestion",
            f"{log_gb * 1000:.1f} MB (5 GB free)",
            max(0.0, log_gb - LOG_FREE_GB) * LOG_INGEST_GB,
        )
    )
    ops = executions * 2
    lines.append(Line("Key Vault", f"{ops:.0f} secret reads", ops / 10_000 * VAULT_PER_10K_OPS))
    return Estimate(lines, notes)
