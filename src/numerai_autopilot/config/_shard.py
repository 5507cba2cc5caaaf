"""The shard a run is: ``K/N`` from ``--shard`` or ``NUMERAI_SHARD``, or from the index an
engine gives each replica (Kubernetes Indexed Jobs, AWS Batch array jobs) with ``N`` beside it.

``K`` counts from 0, as the engines' indices do, so ``--shard $JOB_COMPLETION_INDEX/3`` works.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

SHARD_VAR = "NUMERAI_SHARD"
SHARDS_VAR = "NUMERAI_SHARDS"
MAX_SHARDS = 1000
"""More replicas than this is a typo (and every shard reads the whole models file)."""

_ENGINES = (
    # (index variable, variables that may give N in order, what sets the index)
    ("JOB_COMPLETION_INDEX", (SHARDS_VAR,), "a Kubernetes Indexed Job"),
    (
        "AWS_BATCH_JOB_ARRAY_INDEX",
        ("AWS_BATCH_JOB_ARRAY_SIZE", SHARDS_VAR),
        "an AWS Batch array job",
    ),
)


@dataclass(frozen=True)
class ShardSpec:
    """Shard ``index`` of ``count`` (0 <= index < count)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> ShardSpec:
    """``K/N`` as a :class:`ShardSpec`; ValueError saying what is wrong (no setting name: the
    caller adds the one it read)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if m is None:
        raise ValueError("must be K/N, shard K (from 0) of N, such as 0/3")
    index, count = int(m.group(1)), int(m.group(2))
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"N must be from 1 to {MAX_SHARDS}")
    if index >= count:
        raise ValueError(f"K counts from 0: shard {index} of {count} must be 0 to {count - 1}")
    return ShardSpec(index, count)


def shard_from_engine(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """``(K/N, None)`` from an engine's index variable and its count, ``(None, problem)`` when
    one is set without a count or with a bad value, ``(None, None)`` when none is set."""
    for index_var, count_vars, engine in _ENGINES:
        index = env.get(index_var, "").strip()
        if not index:
            continue
        count_var = next((v for v in count_vars if env.get(v, "").strip()), None)
        if count_var is None:
            # Without N every replica would run every model: refuse rather than guess.
            return None, (
                f"{index_var} is set ({engine}) but {' or '.join(count_vars)} is not: set "
                f"{SHARDS_VAR} to the number of replicas (or {SHARD_VAR}=K/N)"
            )
        text = f"{index}/{env[count_var].strip()}"
        try:
            parse_shard(text)
        except ValueError as exc:
            return None, f"{index_var}/{count_var} = {text}: {exc}"
        return text, None
    return None, None
