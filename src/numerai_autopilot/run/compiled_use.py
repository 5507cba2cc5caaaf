"""What a run does with the compiled-model cache: read it, feed it, never wait for it.

The run compiles nothing (``models prepare`` does, outside the round). It preloads the
compiled runtime in the fork server when some due model has a verified entry, stores a few
live rows for later compiles to be verified on, hands the cache to the workers (each uses a
verified entry or LightGBM), and reports entries a worker rejected.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from ._artifact_hashes import ArtifactHashes
from .fetch import Group
from .job import Job

log = logging.getLogger(__name__)


class Compiled:
    """The run's view of ``<state>/compiled`` for its LightGBM jobs."""

    def __init__(self, root: Path, jobs: Sequence[Job]) -> None:
        self.root = root
        self._lightgbm = [j for j in jobs if j.resolved.fmt == "lightgbm" and not j.is_blend]
        self._ready: dict[str, str] = {}  # model name -> artifact sha256, entry verified
        if not self._lightgbm or not root.is_dir():
            return
        from ..compiled import CompiledStore, Engine

        if Engine.installed() is None:
            return
        store = CompiledStore(root)
        hashes = ArtifactHashes(root)
        for job in self._lightgbm:
            artifact = job.resolved.spec.artifact
            if artifact is None:
                continue
            try:
                sha = hashes.sha256(artifact)
            except OSError:
                continue  # the worker reports it
            if store.ready(sha):
                self._ready[job.name] = sha
        hashes.save()

    def formats(self, formats: set[str]) -> set[str]:
        """The fork server's preloads for jobs of these ``formats``: with the forest walks
        when some entry is ready (their folder named in the environment, for the server and
        the workers), and without LightGBM when every LightGBM job has one (its import is
        about 1 s of CPU; a worker whose entry fails its check imports it then)."""
        if not self._ready:
            return set(formats)
        if len(self._ready) == len(self._lightgbm):
            formats = formats - {"lightgbm"}
        from ..compiled import WORKERS_JIT, CompiledStore, jit_dir

        jit = jit_dir(CompiledStore(self.root))
        if jit is not None:
            os.environ[WORKERS_JIT] = str(jit)
        return formats | {"compiled"}

    def remember(self, groups: Sequence[Group]) -> None:
        """Store live rows of each tournament with LightGBM models (for ``models prepare``)."""
        if not self._lightgbm:
            return
        from ..compiled import CompiledStore, Engine, remember_sample

        if Engine.installed() is None:
            return
        names = {j.name for j in self._lightgbm}
        store = CompiledStore(self.root)
        for g in groups:
            if g.live is not None and any(j.name in names for j in g.jobs):
                remember_sample(store, g.tournament.label, g.live.frame)

    def report(self) -> None:
        """Say which ready entries a worker rejected (its models fell back to LightGBM)."""
        if not self._ready:
            return
        from ..compiled import CompiledStore

        store = CompiledStore(self.root)
        for model, sha in self._ready.items():
            if not store.ready(sha):
                log.warning(
                    "model %s: its compiled model disagreed with LightGBM or changed and was "
                    "rejected; LightGBM predicted. `numerai-autopilot models prepare` rebuilds it",
                    model,
                )
