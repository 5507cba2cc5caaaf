"""A local Numerai for tests, benchmarks and demos: see :class:`Sandbox` and docs/sandbox.md.

Layers, each importing only those below it (tests/test_structure.py holds them to it, type-only
imports included):

- ``sandbox.py``: :class:`Sandbox`, the facade: lifecycle, the Python controls, the wiring;
- ``server.py``: HTTP (GraphQL, files, uploads, faults), typed against ``ports.App``;
  ``admin.py``: the ``/_sandbox/`` route table, typed against ``admin.Controls``;
- ``core.py`` with ``resolvers.py``, ``views.py`` and ``schema.py``: Numerai's rules behind
  GraphQL;
  ``state.py``, ``rounds.py``, ``faults.py``, ``urls.py``, ``data.py``: the parts they use.
"""

from __future__ import annotations

from .sandbox import Sandbox

__all__ = ["Sandbox"]
