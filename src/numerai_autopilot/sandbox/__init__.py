"""A local Numerai for tests, benchmarks and demos: see :class:`Sandbox` and docs/sandbox.md."""

from __future__ import annotations

from .sandbox import Sandbox

__all__ = ["Sandbox"]
