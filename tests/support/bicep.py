"""Evaluate the subset of Bicep expressions main.bicep uses, over pycep-parser's JSON.

Parameters and variables get values; other resources stay symbolic ("<identity.id>"), except
their literal names, so the job resource becomes the plain JSON ARM would receive, with
placeholders where only Azure knows the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any


class Sym(str):
    """A value only Azure knows, e.g. <vault.properties.vaultUri>."""


class BicepEval:
    def __init__(self, doc: Mapping[str, Any], values: dict[str, Any], rg_location: str) -> None:
        self.doc = doc
        self.rg_location = rg_location
        self.scope: dict[str, Any] = {}
        for name, p in doc["parameters"].items():
            self.scope[name] = values[name] if name in values else self.eval(p["default"])
        for name, v in doc.get("variables", {}).items():
            self.scope[name] = self.eval(v["value"])

    def resource(self, name: str) -> dict[str, Any]:
        cfg = self.doc["resources"][name]["config"]
        if "condition" in cfg:
            if not self.eval(cfg["condition"]):
                raise LookupError(f"{name} is not deployed with these parameters")
            cfg = cfg["config"]
        return {k: self.eval(v) for k, v in cfg.items() if k not in {"dependsOn", "parent"}}

    def _ref(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        if head in self.scope and not rest:
            return self.scope[head]
        if head in self.doc["resources"]:
            if rest == "name":
                return self.eval(self._raw_config(head)["name"])
            return Sym(f"<{path}>")
        raise KeyError(f"unknown reference {path!r}")

    def _raw_config(self, name: str) -> dict[str, Any]:
        cfg: dict[str, Any] = self.doc["resources"][name]["config"]
        return cfg["config"] if "condition" in cfg else cfg

    def _interpolate(self, text: str) -> str:
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._ref(m.group(1).strip())), text)

    def eval(self, node: Any) -> Any:
        if isinstance(node, str):
            if node in self.scope:
                return self.scope[node]
            if node in self.doc["resources"]:
                return Sym(f"<{node}>")
            return self._interpolate(node)
        if isinstance(node, list):
            return [self.eval(n) for n in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"operator"}:
            return self._operator(node["operator"])
        if set(node) == {"function"}:
            return self._function(node["function"])
        return {self._interpolate(k.strip("'")): self.eval(v) for k, v in node.items()}

    def _operator(self, op: dict[str, Any]) -> Any:
        kind, ops = op["type"], op["operands"]
        if kind == "conditional":
            chosen = ops["true_value"] if self.eval(ops["condition"]) else ops["false_value"]
            return self.eval(chosen)
        if kind == "property_accessor":
            base = ops["operand_1"]
            if isinstance(base, str) and base in self.doc["resources"]:
                return self._ref(f"{base}.{ops['operand_2']}")
            value = self.eval(base)
            if value == "<resourceGroup()>" and ops["operand_2"] == "location":
                return self.rg_location  # the group the CLI creates in the chosen region
            if isinstance(value, Sym):
                return Sym(f"{value[:-1]}.{ops['operand_2']}>")
            raise KeyError(f"cannot read .{ops['operand_2']} of {value!r}")
        if kind == "logical_not":
            return not self.eval(ops["bool_value"])
        raise NotImplementedError(f"operator {kind}")

    def _function(self, fn: dict[str, Any]) -> Any:
        kind, params = fn["type"], fn.get("parameters", {})
        args = [self.eval(v) for v in params.values()]
        if kind == "json":
            return json.loads(args[0])
        if kind == "string":
            return str(args[0])
        if kind == "empty":
            return not args[0]
        if kind == "resource_group":
            return Sym("<resourceGroup()>")
        return Sym(f"<{kind}()>")
