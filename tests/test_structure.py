"""The package's shape, read from its source with ``ast``: no import circle, no reach into
another package's private modules, no module over 300 lines (the sandbox's data tables aside).

What counts as an import edge:

- module-level imports, and imports inside functions: a lazy import (this project defers
  pandas, numpy and the sandbox's server that way) is a deferred dependency, not an absent one,
  and a circle through it is still a circle for whoever reads or changes the code;
- not imports under ``if TYPE_CHECKING:``: they exist only for the type checker, which
  resolves circles itself, and naming a type is how a narrow ``Protocol`` stays narrow.

``from .pkg import name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``
(its ``__init__``). Parent packages a submodule import runs implicitly are not edges.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "numerai_autopilot"
MAX_LINES = 300

# Debt being paid on other branches; the lead empties these after merging them. A stale entry
# fails the test too, so a list cannot outlive its debt.
#
# No circle is listed: run/runner.py <-> run/execute.py (being rewritten as a pipeline on
# branch "pipeline") is a circle only through execute's TYPE_CHECKING import, which this check
# does not count (see the module docstring).
KNOWN_DEBT_CYCLES: frozenset[frozenset[str]] = frozenset()
KNOWN_DEBT_LONG: frozenset[str] = frozenset()
# Importers still reaching into another package's private module: none left.
KNOWN_DEBT_PRIVATE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int


def _modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = Module(".".join(parts), path, is_package)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST, *, type_only: bool = False) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement; those under ``if TYPE_CHECKING:`` only with ``type_only``."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if not type_only and isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _targets(module: Module, node: ast.Import | ast.ImportFrom, known: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.name.split(".")
            if not module.is_package:
                base.pop()
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join([*base, *([node.module] if node.module else [])])
        else:
            prefix = node.module or ""
        names = [
            f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in known else prefix
            for alias in node.names
        ]
    return [n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")]


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _edges(modules: dict[str, Module], *, type_only: bool = False) -> list[Edge]:
    known = set(modules)
    edges: list[Edge] = []
    for module in modules.values():
        for node in _import_nodes(_tree(module.path), type_only=type_only):
            for target in _targets(module, node, known):
                if target not in known:
                    raise AssertionError(f"{module.name}:{node.lineno} imports unknown {target}")
                edges.append(Edge(module.name, target, node.lineno))
    return edges


def _cycles(nodes: set[str], edges: list[Edge]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module, or a self-import (Tarjan)."""
    graph: dict[str, set[str]] = {n: set() for n in nodes}
    for edge in edges:
        graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _private_owner(target: str) -> str | None:
    """The package that owns ``target`` when it is a private module (``pkg._x``), else None."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


MODULES = _modules()
EDGES = _edges(MODULES)


def test_the_graph_sees_lazy_imports() -> None:
    """Guards the reader itself: a function-level import and a TYPE_CHECKING one."""
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .a import A\n"
        "def f():\n    from .b import B\n"
    )
    found = [n.module for n in _import_nodes(tree) if isinstance(n, ast.ImportFrom)]
    assert sorted(m or "" for m in found) == ["b", "typing"]


def test_cycle_finder_finds_a_circle() -> None:
    edges = [Edge("a", "b", 1), Edge("b", "c", 1), Edge("c", "a", 1), Edge("c", "d", 1)]
    assert _cycles({"a", "b", "c", "d"}, edges) == [frozenset({"a", "b", "c"})]


def test_private_means_underscored_and_owned_by_its_package() -> None:
    assert _private_owner(f"{PACKAGE}.client._snapshot") == f"{PACKAGE}.client"
    assert _private_owner(f"{PACKAGE}.client") is None
    assert _private_owner(f"{PACKAGE}.__main__") is None
    assert _inside(f"{PACKAGE}.client._client", f"{PACKAGE}.client")
    assert not _inside(f"{PACKAGE}.clientele", f"{PACKAGE}.client")


def test_no_import_circle() -> None:
    cycles = set(_cycles(set(MODULES), EDGES))
    new = sorted(sorted(c) for c in cycles - KNOWN_DEBT_CYCLES)
    assert new == [], f"import circles: {new}"
    stale = sorted(sorted(c) for c in KNOWN_DEBT_CYCLES - cycles)
    assert stale == [], f"paid debt still listed in KNOWN_DEBT_CYCLES: {stale}"


def test_sandbox_layers_are_one_way_even_for_types() -> None:
    """The sandbox is a facade over a core: the HTTP layer is typed against ports.App and the
    admin table against admin.Controls, so not even a type-only import points back up."""
    inside = {n for n in MODULES if _inside(n, f"{PACKAGE}.sandbox")}
    edges = [
        e for e in _edges(MODULES, type_only=True) if e.source in inside and e.target in inside
    ]
    assert _cycles(inside, edges) == []


def test_no_import_of_another_packages_private_module() -> None:
    offenders: dict[str, list[str]] = {}
    for edge in EDGES:
        owner = _private_owner(edge.target)
        if owner is not None and not _inside(edge.source, owner):
            offenders.setdefault(edge.source, []).append(f"line {edge.line}: {edge.target}")
    new = {k: v for k, v in sorted(offenders.items()) if k not in KNOWN_DEBT_PRIVATE}
    assert new == {}, f"go through the package's __init__: {new}"
    stale = sorted(KNOWN_DEBT_PRIVATE - set(offenders))
    assert stale == [], f"paid debt still listed in KNOWN_DEBT_PRIVATE: {stale}"


def _exempt_from_length(module: Module) -> bool:
    # The sandbox's data tables are lists of names and values, not logic.
    return module.path.parent.name == "sandbox" and module.path.name.startswith("_data_")


def test_no_module_over_300_lines() -> None:
    lengths = {
        m.name: len(m.path.read_text(encoding="utf-8").splitlines())
        for m in MODULES.values()
        if not _exempt_from_length(m)
    }
    long = {name: n for name, n in sorted(lengths.items()) if n > MAX_LINES}
    new = {name: n for name, n in long.items() if name not in KNOWN_DEBT_LONG}
    assert new == {}, f"modules over {MAX_LINES} lines: {new}"
    stale = sorted(KNOWN_DEBT_LONG - set(long))
    assert stale == [], f"paid debt still listed in KNOWN_DEBT_LONG: {stale}"
