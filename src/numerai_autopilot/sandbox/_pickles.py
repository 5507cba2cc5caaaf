"""Model Uploads in the sandbox, shaped as Numerai's real schema has them: the data versions
and images to choose from, ``createComputePickleUpload`` with its data version and image, and
``computePickles`` listing what an account uploaded."""

from __future__ import annotations

import dataclasses
from typing import Any

from graphql import GraphQLResolveInfo

from ..clock import format_time
from ..errors import ApiError
from .views import Context

DATA_VERSIONS = {
    "v5.3": "6d8e9a52-7d51-4a83-9e0f-0a1d1ecf5203",
    "v5.2": "6d8e9a52-7d51-4a83-9e0f-0a1d1ecf5202",
    "v5.1": "6d8e9a52-7d51-4a83-9e0f-0a1d1ecf5201",
}
DOCKER_IMAGES = {
    "Python 3.12": "0c9b3f5e-2d1c-4a6f-8b1e-3a2f6d7c3120",
    "Python 3.11": "0c9b3f5e-2d1c-4a6f-8b1e-3a2f6d7c3110",
}
_NAMES = {v: k for table in (DATA_VERSIONS, DOCKER_IMAGES) for k, v in table.items()}

Info = GraphQLResolveInfo[Any]


def q_named(table: dict[str, str]) -> Any:
    def resolve(_: None, info: Info, **_a: Any) -> list[dict[str, Any]]:
        context: Context = info.context
        context.caller.require(None)
        return [
            {"name": name, "id": ident, "default": i == 0, "deprecated": False}
            for i, (name, ident) in enumerate(table.items())
        ]

    return resolve


def m_pickle(_: None, info: Info, **a: Any) -> dict[str, Any]:
    ctx: Context = info.context
    account = ctx.caller.require("upload_submission")
    for arg, table in (("dataVersionId", DATA_VERSIONS), ("dockerImageId", DOCKER_IMAGES)):
        if a.get(arg) is not None and a[arg] not in table.values():
            raise ApiError(f"Invalid {arg}: {a[arg]}")
    upload_id = ctx.core.create_pickle(account, a["filename"], a.get("modelId"))
    with ctx.core.state.lock:
        upload = ctx.core.state.pickles[upload_id]
        upload = dataclasses.replace(
            upload,
            data_version_id=a.get("dataVersionId"),
            docker_image_id=a.get("dockerImageId"),
            inserted_at=ctx.core.clock.now(),
        )
        ctx.core.state.pickles[upload_id] = upload
    return pickle_view(upload_id, upload)


def q_pickles(_: None, info: Info, **a: Any) -> list[dict[str, Any]]:
    """The account's uploads (one model's with ``modelId``; one with ``id``), newest first."""
    ctx: Context = info.context
    account = ctx.caller.require("read_submission_info")
    owned = {m.id for m in account.models}
    with ctx.core.state.lock:
        items = list(ctx.core.state.pickles.items())
    out = [
        pickle_view(pid, p)
        for pid, p in items
        if p.model_id in owned
        and a.get("modelId") in (None, p.model_id)
        and a.get("id") in (None, pid)
    ]
    return out[::-1]


def pickle_view(upload_id: str, upload: Any) -> dict[str, Any]:
    """A ComputePickleUpload as the API shows it."""
    version, image = upload.data_version_id, upload.docker_image_id
    return {
        "id": upload_id,
        "filename": upload.filename,
        "modelId": upload.model_id,
        "dataVersionId": version,
        "dataVersion": _NAMES.get(version or ""),
        "dockerImageId": image,
        "dockerImageName": _NAMES.get(image or ""),
        "insertedAt": format_time(upload.inserted_at) if upload.inserted_at else None,
        "validationStatus": "pending",
        "assignedModelSlots": [upload.model_id] if upload.model_id else [],
    }
