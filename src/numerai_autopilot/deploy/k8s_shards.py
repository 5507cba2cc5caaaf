"""The sharded Kubernetes CronJob: each slot starts an Indexed Job of N pods, pod K running
shard K/N of the models (docs/shards.md). ``deploy kubernetes --shards N`` prints it.

Built from the plain CronJob's text (``_k8s.CRONJOB``), changed at named anchors, so both keep
the same pod settings; a missing anchor is a programming error that the tests catch.
"""

from __future__ import annotations

from ..config import MAX_SHARDS
from ..errors import ConfigError
from .slots import RECOMMENDED, Slots
from .triggers import DEFAULT_IMAGE, k8s_cronjob

DATA_LIMIT = "8Gi"
"""Per-pod data cache: a round's live files and the models' feature sets, with headroom."""

_EDITS: tuple[tuple[str, str], ...] = (
    (
        "# numerai-autopilot as a Kubernetes CronJob.",
        "# numerai-autopilot as a Kubernetes CronJob of Indexed Jobs: {n} pods per slot, pod K\n"
        "# running shard K/{n} of the models (JOB_COMPLETION_INDEX, set by Kubernetes, with\n"
        "# NUMERAI_SHARDS below; docs/shards.md). Each pod has its own data cache and ledger\n"
        "# (emptyDir): the API, not the ledger, decides what is submitted.\n#",
    ),
    ("  name: numerai-autopilot  # EDIT if you run several", "  name: numerai-autopilot-shards"),
    (
        "      backoffLimit: 1\n",
        "      # One pod per shard, all at once; each shard retried on its own, so a failing\n"
        "      # shard never stops the others (a Job-wide backoffLimit would fail them all).\n"
        "      completionMode: Indexed\n"
        "      completions: {n}\n"
        "      parallelism: {n}\n"
        "      backoffLimitPerIndex: 1\n",
    ),
    (
        '                - name: NUMERAI_WORKERS\n                  value: "2"\n',
        '                - name: NUMERAI_WORKERS\n                  value: "2"\n'
        "                - name: NUMERAI_SHARDS  # with JOB_COMPLETION_INDEX: this pod's shard\n"
        '                  value: "{n}"\n',
    ),
    (
        "            - name: data\n"
        "              persistentVolumeClaim:\n"
        "                claimName: numerai-autopilot-data  # EDIT: cache, ledger and lock\n",
        "            - name: data  # per pod: its shard's data cache, ledger and lock\n"
        "              emptyDir:\n"
        "                sizeLimit: {limit}\n",
    ),
)


def k8s_sharded_cronjob(shards: int, slots: Slots = RECOMMENDED, image: str = DEFAULT_IMAGE) -> str:
    """The CronJob whose every slot runs ``shards`` pods, one shard each."""
    if not 1 <= shards <= MAX_SHARDS:
        raise ConfigError(f"--shards {shards}: must be from 1 to {MAX_SHARDS}")
    text = k8s_cronjob(slots, image)
    for anchor, replacement in _EDITS:
        if text.count(anchor) != 1:
            raise RuntimeError(f"the CronJob template changed: anchor not found once: {anchor!r}")
        text = text.replace(anchor, replacement.format(n=shards, limit=DATA_LIMIT))
    return text
