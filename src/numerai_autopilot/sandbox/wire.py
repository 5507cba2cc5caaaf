"""Small pure helpers of the HTTP layer: what a request is, byte ranges and answer drift."""

from __future__ import annotations

import json
import logging
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema

from .faults import DOWNLOAD, GRAPHQL, UPLOAD, Fault
from .schema import prepare, root_fields, unknown_field_error

logger = logging.getLogger(__name__)

# What the ``missing_fields`` fault removes by default: fields Numerai has dropped before.
DRIFT_FIELDS = ("closeStakingTime", "roundCloseStaking", "tournament", "status")


def request_sort(method: str, path: str) -> str | None:
    """The sort of request (``faults.GRAPHQL``, ``DOWNLOAD`` or ``UPLOAD``) a method and path
    make, which decides the faults that apply; None when no route serves them."""
    if method == "POST" and path == "/":
        return GRAPHQL
    if method in ("GET", "HEAD") and path.startswith(("/files/", "/submissions/")):
        return DOWNLOAD
    if method == "PUT" and path.startswith("/uploads/"):
        return UPLOAD
    return None


def parse_graphql(body: bytes) -> tuple[Any, DocumentNode | None, list[str]]:
    """The JSON request, its parsed document and its root fields, as far as they parse: a
    document of None is a request to answer 400."""
    request: Any = None
    document = None
    ops: list[str] = []
    try:
        request = json.loads(body or b"null")
        document = prepare(str(request["query"]))
        ops = root_fields(document)
    except (ValueError, TypeError, KeyError, GraphQLError) as exc:
        logger.debug("unparseable GraphQL request: %s", exc)
    return request, document, ops


def strip_fields(value: Any, fields: set[str]) -> Any:
    """``value`` with every dict key in ``fields`` removed, at any depth."""
    if isinstance(value, dict):
        return {k: strip_fields(v, fields) for k, v in value.items() if k not in fields}
    if isinstance(value, list):
        return [strip_fields(v, fields) for v in value]
    return value


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Parse ``bytes=a-b``, ``a-`` or ``-n`` into inclusive (start, end); None: unsatisfiable."""
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            start, end = max(0, size - int(last)), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start >= size or start > end:
        return None
    return start, end


def rejected_by_fault(
    schema: GraphQLSchema, document: DocumentNode, fault: Fault | None
) -> tuple[int, dict[str, Any]] | None:
    """The ``unknown_field`` fault: Absinthe's answer to a document selecting a field the
    server does not have (status, body); None when the fault is off or the field not asked."""
    if fault is None:
        return None
    rejected = unknown_field_error(
        schema,
        document,
        str(fault.params.get("type", "LatestSubmission")),
        str(fault.params.get("field", "filename")),
    )
    return (
        None if rejected is None else (int(fault.params.get("code", 200)), {"errors": [rejected]})
    )


def drifted(result: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
    """The ``missing_fields`` fault: the answer without some fields (API drift)."""
    if fault is None:
        return result
    result["data"] = strip_fields(result["data"], set(fault.params.get("fields", DRIFT_FIELDS)))
    if fault.params.get("messages") is False and "errors" in result:
        result["errors"] = [strip_fields(e, {"message"}) for e in result["errors"]]
    return result
