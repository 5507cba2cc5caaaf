"""The seam between the HTTP layer and the sandbox: :class:`App`, the few things server.py
needs. ``Sandbox`` provides them; the server never imports it, so the layers stay one-way
(sandbox -> server -> ports -> core)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from graphql import DocumentNode, GraphQLSchema

from ..clock import Clock
from .core import Caller, SandboxCore
from .faults import Counters, Faults


class App(Protocol):
    """What the HTTP layer needs from the sandbox behind it."""

    @property
    def clock(self) -> Clock: ...
    @property
    def schema(self) -> GraphQLSchema: ...
    @property
    def core(self) -> SandboxCore: ...
    @property
    def faults(self) -> Faults: ...
    @property
    def tally(self) -> Counters: ...
    @property
    def stopping(self) -> threading.Event: ...
    @property
    def bandwidth(self) -> int | None: ...
    def graphql(self, document: DocumentNode, variables: Any, caller: Caller) -> dict[str, Any]: ...
    def locate(self, path: str) -> tuple[Path, str] | None: ...
    def etag(self, path: Path, data: bytes) -> str: ...
    def close_round(self, tournament: int | None = None) -> None: ...
    def admin(
        self, method: str, path: str, query: Mapping[str, str], body: bytes
    ) -> tuple[int, object]: ...
