"""Prepare the compiled models of a configured models file (the commands' one library call)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from ..config import ModelSpec, Settings, load_models_file
from ..errors import AutopilotError, ConfigError
from ._prepare import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, Prepared, is_lightgbm, prepare
from ._store import CompiledStore, Engine

log = logging.getLogger(__name__)


def store_for(settings: Settings) -> CompiledStore:
    """The compiled cache of these settings: ``<state>/compiled``, beside the data cache."""
    return CompiledStore(settings.state_path / "compiled")


def prepare_models(
    settings: Settings,
    only: Sequence[str] | None = None,
    *,
    memory_mb: int = DEFAULT_MEMORY_MB,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Prepared]:
    """Compile and verify the LightGBM models of the models file (``only``: these names)."""
    specs = load_models_file(settings.models_dir).models
    if only:
        unknown = sorted(set(only) - {s.name for s in specs})
        if unknown:
            raise ConfigError(f"no model named {', '.join(unknown)} in {settings.models_file}")
        specs = [s for s in specs if s.name in set(only)]
    return prepare(specs, store_for(settings), memory_mb=memory_mb, timeout=timeout)


_background: threading.Thread | None = None


def prepare_in_background(settings: Settings, specs: Sequence[ModelSpec]) -> bool:
    """Start compiling ``specs``' LightGBM models on a thread (the scheduler, between rounds);
    False when one is still at it or nothing is to compile. Each compile is a child process
    under the store's lock: a round's run meanwhile uses LightGBM, and waits for nothing."""
    global _background  # noqa: PLW0603  one background preparation per process
    if _background is not None and _background.is_alive():
        return False
    if Engine.installed() is None or not any(is_lightgbm(s) for s in specs):
        return False

    def work() -> None:
        try:
            for p in prepare(specs, store_for(settings), nice=10):
                if p.status in ("compiled", "mismatch", "failed"):
                    log.log(
                        logging.INFO if p.ok else logging.WARNING,
                        "compiled model of %s: %s (%s)",
                        p.model,
                        p.status,
                        p.detail,
                    )
        except (OSError, AutopilotError) as exc:
            log.warning("preparing compiled models failed: %s", exc)

    _background = threading.Thread(target=work, name="prepare-compiled", daemon=True)
    _background.start()
    return True
