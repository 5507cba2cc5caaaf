"""GraphQL resolvers: translate each root field to a SandboxCore call and shape the answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from ..errors import NotFoundError, RoundClosedError
from ._pickles import DATA_VERSIONS, DOCKER_IMAGES, m_pickle, pickle_view, q_named, q_pickles
from .core import ROUND_NOT_OPEN
from .faults import BAD_URL, LOOSE_INT, Fault, RawInt, duplicate_name
from .state import Model
from .views import Context, round_view, submission_view

Info = GraphQLResolveInfo[Any]


def _ctx(info: Info) -> Context:
    context: Context = info.context
    return context


def _fault(info: Info, kind: str, model: str | None = None) -> Fault | None:
    return _ctx(info).core.faults.take_answer(kind, info.field_name, model)


# --- Query ---------------------------------------------------------------------------------------
def q_rounds(_: None, info: Info, **a: Any) -> list[dict[str, Any] | None]:
    ctx = _ctx(info)
    tournament = a.get("tournament") or 8
    clock = ctx.core.rounds
    if a.get("number") == 0:
        current = clock.current(tournament)
        if current is not None:
            view = round_view(ctx, current)
            big = _fault(info, "bad_integer")
            if big is not None:
                view["number"] = RawInt(big.params.get("value", 2**63))
            return [view]
        if clock.between == "error":
            raise RoundClosedError(ROUND_NOT_OPEN)
        if clock.between == "null":
            return [None]
        return [round_view(ctx, clock.latest(tournament))]
    if a.get("number"):
        return [round_view(ctx, clock.get(tournament, a["number"]))]
    # Newest first. Numerai's default ``limit`` is not documented; ten is the sandbox's.
    latest = clock.latest(tournament).number
    numbers = range(latest, max(latest - (a.get("limit") or 10), 0), -1)
    rounds = [clock.get(tournament, n) for n in numbers]
    if a.get("status") is not None:
        now = ctx.core.clock.now()
        # No round is ever resolved here: a round is OPEN, else RESOLVING.
        rounds = [r for r in rounds if ("OPEN" if r.is_open(now) else "RESOLVING") == a["status"]]
    return [round_view(ctx, r) for r in rounds]


def q_account(_: None, info: Info) -> dict[str, Any]:
    ctx = _ctx(info)
    account = ctx.caller.require("read_user_info")
    return {
        "id": account.id,
        "username": account.username,
        "email": f"{account.username}@sandbox.invalid",
        "status": "VERIFIED",
        "mfaEnabled": False,
        "insertedAt": ctx.caller.time(account.inserted_at),
        "walletAddress": "0x" + "0" * 40,
        "availableNmr": "100.000000000000000000",
        "models": duplicate_name(list(account.models), _fault(info, "duplicate_name")),
        "apiTokens": [
            {"name": k.name, "publicId": k.public_id, "scopes": list(k.scopes)}
            for k in account.keys
        ],
        "walletTxns": [],  # no NMR moves in the sandbox
    }


def q_model(_: None, info: Info, modelId: str | None = None) -> Model:
    ctx = _ctx(info)
    return ctx.core.owned_model(ctx.caller.require("read_user_info"), modelId, None)


def q_list_datasets(_: None, info: Info, **a: Any) -> list[str]:
    return _ctx(info).core.list_datasets(a.get("tournament"))


def q_dataset(_: None, info: Info, **a: Any) -> str:
    url = _ctx(info).core.dataset_url(a["filename"], a.get("round"), a.get("tournament"))
    bad = _fault(info, "bad_url")
    return url if bad is None else str(bad.params.get("url", BAD_URL))


def _upload_auth(kind: str) -> Any:
    def resolve(_: None, info: Info, **a: Any) -> dict[str, str]:
        ctx = _ctx(info)
        account = ctx.caller.require("upload_submission")
        tournament = a.get("tournament")
        if kind == "signals":
            tournament = tournament or 11
        auth = ctx.core.upload_auth(account, a["filename"], tournament, a.get("modelId"), kind)
        bad = _fault(info, "bad_url")
        return auth if bad is None else {**auth, "url": str(bad.params.get("url", BAD_URL))}

    return resolve


def q_submissions(_: None, info: Info, modelId: str | None = None) -> list[Any]:
    ctx = _ctx(info)
    account = ctx.caller.require("read_submission_info")
    if modelId is None:
        subs = [s for m in account.models for s in ctx.core.state.submissions_of(m.id)]
    else:
        subs = ctx.core.state.submissions_of(ctx.core.owned_model(account, modelId, None).id)
    return [submission_view(ctx, s) for s in subs]


def q_download_auth(_: None, info: Info, id: str | None = None) -> dict[str, str]:
    ctx = _ctx(info)
    account = ctx.caller.require("read_submission_info")
    if id is None:
        raise NotFoundError("Submission not found")
    return ctx.core.download_url(account, id)


def q_pipeline_status(_: None, info: Info, **a: Any) -> dict[str, Any]:
    ctx = _ctx(info)
    day = dt.date.fromisoformat(a["date"]) if a.get("date") else ctx.core.clock.now().date()
    start = dt.datetime.combine(day, dt.time(12), dt.UTC)
    return {
        "dataReadyAt": ctx.caller.time(start - dt.timedelta(minutes=30)),
        "isScoringDay": day.weekday() in (1, 2, 3, 4, 5),
        "resolvedAt": None,
        "scoredAt": None,
        "startedAt": ctx.caller.time(start),
        "tournament": a.get("tournament") or "classic",
    }


# --- Mutation ------------------------------------------------------------------------------------
def _create(kind: str) -> Any:
    def resolve(_: None, info: Info, **a: Any) -> dict[str, Any]:
        ctx = _ctx(info)
        account = ctx.caller.require("upload_submission")
        sub = ctx.core.create_submission(
            account,
            filename=a["filename"],
            tournament=a.get("tournament"),
            model_id=a.get("modelId"),
            trigger_id=a.get("triggerId"),
            kind=kind,
        )
        return submission_view(ctx, sub)

    return resolve


def m_webhook(_: None, info: Info, **a: Any) -> str:
    ctx = _ctx(info)
    model = ctx.core.owned_model(ctx.caller.require("upload_submission"), a.get("modelId"), None)
    model.webhook = a.get("newSubmissionWebhook")
    return "true"  # Numerai answers the string "true", not a Boolean


# --- Model fields --------------------------------------------------------------------------------
def f_model_submissions(model: Model, info: Info) -> list[dict[str, Any]]:
    ctx = _ctx(info)
    ctx.caller.require("read_submission_info")
    return [submission_view(ctx, s) for s in ctx.core.state.submissions_of(model.id)]


def f_pickle_upload(model: Model, info: Info) -> dict[str, Any] | None:
    """The Model Upload (pickle) Numerai runs for this model, if any."""
    upload = _ctx(info).core.state.pickles.get(model.pickle_upload_id or "")
    return None if upload is None else pickle_view(model.pickle_upload_id or "", upload)


def f_latest(model: Model, info: Info, latestNRounds: int | None = None) -> list[Any] | None:
    ctx = _ctx(info)
    ctx.caller.require("read_submission_info")
    nulls = _fault(info, "null_fields", model.name)
    odd = _fault(info, "unknown_status", model.name)
    big = _fault(info, "bad_integer", model.name)
    if nulls is not None and "latestSubmissions" in nulls.params.get("fields", ()):
        return None
    out = []
    for rnd, sub in ctx.core.latest_submissions(model, latestNRounds or 1):
        entry: dict[str, Any] = {
            "id": sub.id if sub else None,
            "roundNumber": rnd.number,
            # Dates, as the real API answers them ("2025-09-23"): not a flag, not a time.
            "roundOpen": rnd.open_time.date().isoformat(),
            "roundClose": rnd.close_time.date().isoformat(),
            "roundCloseStaking": rnd.close_staking_time.date().isoformat(),
            "status": sub.status if sub else "none",
            "filename": sub.filename if sub else None,
            "timestamp": ctx.caller.time(sub.inserted_at) if sub else None,
        }
        if odd is not None:
            entry["status"] = str(odd.params.get("status", "rejected"))
            # An id of its own, so that the status is the only odd thing in the entry.
            entry["id"] = entry["id"] or f"sbx-{entry['status']}-{rnd.number}-{model.id[:8]}"
        if big is not None:
            entry["roundNumber"] = RawInt(big.params.get("value", 2**63))
        for name in nulls.params.get("fields", ["roundNumber"]) if nulls is not None else ():
            entry[name] = None
        out.append(entry)
    return out


def attach(schema: GraphQLSchema) -> None:
    """Install the resolvers on ``schema`` (built from schema.SDL)."""
    roots: dict[str, dict[str, Any]] = {
        "RootQueryType": {
            "rounds": q_rounds,
            "account": q_account,
            "model": q_model,
            "listDatasets": q_list_datasets,
            "dataset": q_dataset,
            "submissionUploadAuth": _upload_auth("submission"),
            "submissionUploadSignalsAuth": _upload_auth("signals"),
            "computePickleUploadAuth": _upload_auth("pickle"),
            "submissions": q_submissions,
            "submissionDownloadAuth": q_download_auth,
            "pipelineStatus": q_pipeline_status,
            "computePickleDataVersions": q_named(DATA_VERSIONS),
            "computePickleDockerImages": q_named(DOCKER_IMAGES),
            "computePickles": q_pickles,
        },
        "RootMutationType": {
            "createSubmission": _create("submission"),
            "createSignalsSubmission": _create("signals"),
            "setSubmissionWebhook": m_webhook,
            "createComputePickleUpload": m_pickle,
        },
        "Model": {
            "submissions": f_model_submissions,
            "latestSubmissions": f_latest,
            "username": lambda m, _info: m.name,
            "submissionWebhook": lambda m, _info: m.webhook,
            "v2Stake": lambda _m, _info: {"status": None, "txHash": None},
            "computePickleUpload": f_pickle_upload,
        },
    }
    for type_name, fields in roots.items():
        gtype = schema.type_map[type_name]
        if not isinstance(gtype, GraphQLObjectType):
            raise TypeError(f"{type_name} is not an object type in the SDL")
        for name, fn in fields.items():
            gtype.fields[name].resolve = fn
    for type_name, name in (("Round", "number"), ("LatestSubmission", "roundNumber")):
        gtype = schema.type_map[type_name]
        if isinstance(gtype, GraphQLObjectType):
            gtype.fields[name].type = LOOSE_INT
