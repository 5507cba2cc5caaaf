"""Shards: ``run --shard K/N`` runs a stable share of the models, blends with their parts, and
N shard processes at once submit every model exactly once (real CLI processes, sandbox)."""

from __future__ import annotations

import json
import logging
import sys
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from numerai_autopilot.cli.app import run_cli
from numerai_autopilot.config import ModelsConfig, ShardSpec, load_settings, parse_models
from numerai_autopilot.errors import ConfigError
from numerai_autopilot.run.ledger import Ledger
from numerai_autopilot.run.shard import (
    TIMES_FILE,
    assign,
    blend_groups,
    load_times,
    measured_times,
    share,
    write_times,
)
from numerai_autopilot.sandbox import Sandbox
from support.receiver import Receiver
from support.rig import CLASSIC, Rig

EXTRA = [f"model_{i}" for i in range(1, 7)]
BLENDS = {
    "model_blend_a": {"anas_platyrhynchos": 0.5, "model_1": 0.5},
    "model_blend_b": {"netta_rufina": 0.4, "model_2": 0.3, "model_3": 0.3},
    "model_blend_c": {"model_4": 0.5, "model_5": 0.5},
}
ALL = [*CLASSIC, *EXTRA, *BLENDS]


def _blend_toml() -> str:
    out = ""
    for name, parts in BLENDS.items():
        table = ", ".join(f"{p} = {w}" for p, w in parts.items())
        out += f'[[model]]\nname = "{name}"\nblend = {{ {table} }}\n\n'
    return out


def _config(toml: str, path: Path = Path("/m/models.toml")) -> ModelsConfig:
    return parse_models(tomllib.loads(toml), path)


def _entries(names: list[str], extra: str = "") -> str:
    body = "".join(f'[[model]]\nname = "{n}"\nentrypoint = "m:f_{n}"\n\n' for n in names)
    return body + extra


# -- the setting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "says"),
    [("3/2", "0 to 1"), ("0/0", "N must be from 1"), ("x", "must be K/N"), ("2/2", "0 to 1")],
)
def test_bad_shard_is_a_config_error_naming_the_setting(value: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"shard": value}, environ={})
    assert "NUMERAI_SHARD / --shard" in str(err.value) and says in str(err.value)
    with pytest.raises(ConfigError, match="NUMERAI_SHARD"):
        load_settings(environ={"NUMERAI_SHARD": value})


def test_shard_comes_from_the_engines_index_with_its_count() -> None:
    def shard(env: dict[str, str]) -> ShardSpec | None:
        return load_settings(environ=env).shard

    assert shard({}) is None
    assert shard({"NUMERAI_SHARD": "1/4"}) == ShardSpec(1, 4)
    assert shard({"JOB_COMPLETION_INDEX": "2", "NUMERAI_SHARDS": "3"}) == ShardSpec(2, 3)
    aws = {"AWS_BATCH_JOB_ARRAY_INDEX": "0", "AWS_BATCH_JOB_ARRAY_SIZE": "5"}
    assert shard(aws) == ShardSpec(0, 5)
    assert shard({"AWS_BATCH_JOB_ARRAY_INDEX": "4", "NUMERAI_SHARDS": "5"}) == ShardSpec(4, 5)
    # The explicit setting wins over the engine's index; the option over both.
    both = {"NUMERAI_SHARD": "0/2", "JOB_COMPLETION_INDEX": "1", "NUMERAI_SHARDS": "2"}
    assert shard(both) == ShardSpec(0, 2)
    assert load_settings({"shard": "1/2"}, environ=both).shard == ShardSpec(1, 2)


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"JOB_COMPLETION_INDEX": "1"}, "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job)"),
        ({"AWS_BATCH_JOB_ARRAY_INDEX": "1"}, "AWS_BATCH_JOB_ARRAY_SIZE or NUMERAI_SHARDS"),
        ({"JOB_COMPLETION_INDEX": "3", "NUMERAI_SHARDS": "3"}, "JOB_COMPLETION_INDEX/NUMERAI"),
        ({"JOB_COMPLETION_INDEX": "x", "NUMERAI_SHARDS": "3"}, "must be K/N"),
    ],
)
def test_an_engine_index_without_a_count_or_out_of_range_is_refused(
    env: dict[str, str], says: str
) -> None:
    # Without N every replica would run every model: refused, never guessed.
    with pytest.raises(ConfigError) as err:
        load_settings(environ=env)
    assert says in str(err.value)


# -- the assignment ---------------------------------------------------------------------------


def test_blends_and_their_parts_form_one_group() -> None:
    cfg = _config(_entries([*CLASSIC, *EXTRA], _blend_toml()))
    groups = sorted(sorted(s.name for s in g) for g in blend_groups(cfg.models))
    assert groups == [
        ["anas_platyrhynchos", "model_1", "model_blend_a"],
        ["corvus_corone"],
        ["model_2", "model_3", "model_blend_b", "netta_rufina"],
        ["model_4", "model_5", "model_blend_c"],
        ["model_6"],
    ]


def test_every_model_lands_on_exactly_one_shard_with_its_blend() -> None:
    cfg = _config(_entries([*CLASSIC, *EXTRA], _blend_toml()))
    for n in (1, 2, 3, 5, 20):
        shard_of = assign(cfg.models, n)
        assert sorted(shard_of) == sorted(ALL) and all(0 <= k < n for k in shard_of.values())
        for blend, parts in BLENDS.items():
            assert {shard_of[p] for p in parts} == {shard_of[blend]}
        shares = [share(cfg, ShardSpec(k, n)).models for k in range(n)]
        assert sorted(s.name for part in shares for s in part) == sorted(ALL)


def test_hash_assignment_ignores_file_order_and_other_models() -> None:
    names = [*CLASSIC, *EXTRA]
    base = assign(_config(_entries(names)).models, 4)
    assert assign(_config(_entries(list(reversed(names)))).models, 4) == base
    # A model added (or removed) elsewhere moves nobody else.
    grown = assign(_config(_entries([*names, "newcomer"])).models, 4)
    assert {k: v for k, v in grown.items() if k != "newcomer"} == base
    # Names compare as Numerai's do: case does not move a model.
    upper = assign(_config(_entries([n.upper() for n in names])).models, 4)
    assert {k.lower(): v for k, v in upper.items()} == base


def test_measured_times_balance_the_shards(tmp_path: Path) -> None:
    names = [f"m{i}" for i in range(8)]
    cfg = _config(_entries(names))
    times = {"m0": 100.0, "m1": 90.0, "m2": 10.0, "m3": 10.0, "m4": 10.0, "m5": 5.0, "m6": 5.0}
    shard_of = assign(cfg.models, 2, times)
    load = dict.fromkeys(range(2), 0.0)
    for name, k in shard_of.items():
        load[k] += times.get(name, 10.0)  # m7 is unknown: counts as the median, 10
    assert shard_of["m0"] != shard_of["m1"]  # the two heavy ones apart
    assert abs(load[0] - load[1]) <= 10.0, load
    # The same file gives the same answer whatever the models file's order.
    assert assign(_config(_entries(list(reversed(names)))).models, 2, times) == shard_of


def test_times_file_round_trips_and_bad_ones_name_the_file(tmp_path: Path) -> None:
    assert load_times(tmp_path) == {}
    write_times(tmp_path, {"b": 2.5, "a": 1})
    assert load_times(tmp_path) == {"a": 1.0, "b": 2.5}
    for bad in ("{", '["a"]', '{"a": -1}', '{"a": "fast"}', '{"a": true}'):
        (tmp_path / TIMES_FILE).write_text(bad)
        with pytest.raises(ConfigError, match=TIMES_FILE):
            load_times(tmp_path)


@pytest.fixture
def in_process_cli() -> Iterator[None]:
    yield
    # The in-process CLI configured logging onto this test's captured stderr: undo it.
    root = logging.getLogger()
    for h in list(root.handlers):
        if h.get_name() == "numerai-autopilot":
            root.removeHandler(h)
    sys.excepthook = sys.__excepthook__


@pytest.mark.usefixtures("in_process_cli")
def test_measured_times_are_each_models_median_predict_seconds(tmp_path: Path) -> None:
    from numerai_autopilot.run.report import Outcome, Status, record
    from numerai_autopilot.tournaments import Tournament

    with Ledger(tmp_path) as ledger:
        for seconds in (3.0, 1.0, 2.0):
            run_id = ledger.start_run("run")
            o = Outcome("a", Tournament.CLASSIC, Status.SUBMITTED, round_number=1)
            o.timings = {"predict": seconds}
            record(ledger, run_id, o)
        assert measured_times(ledger, ["a", "never_ran"]) == {"a": 2.0}
    # The command writes them where every shard reads them: beside the models file.
    models = tmp_path / "models"
    models.mkdir()
    (models / "models.toml").write_text(_entries(["a", "never_ran"]))
    argv = ["shard-times", "--write", "--data-dir", str(tmp_path), "--models-dir", str(models)]
    assert run_cli(argv) == 0
    assert load_times(models) == {"a": 2.0}


# -- N shard processes at once against the sandbox ---------------------------------------------


@pytest.fixture
def rig12(sb: Sandbox, tmp_path: Path) -> Iterator[Rig]:
    for name in [*EXTRA, *BLENDS]:
        sb.add_model(name, 8)
    receiver = Receiver()
    # Three runs at once on a shared 2-core machine: requests may take longer than the rig's 2 s.
    r = Rig(
        sb, tmp_path, receiver, models=[*CLASSIC, *EXTRA], extra_env={"NUMERAI_HTTP_TIMEOUT": "15"}
    )
    r.write_models(extra_toml=_blend_toml())
    yield r
    receiver.close()


def test_three_shard_processes_submit_every_model_exactly_once(rig12: Rig) -> None:
    sb, n = rig12.sb, 3
    shard_of = assign(_config((rig12.models_dir / "models.toml").read_text()).models, n)
    mine = {k: sorted(m for m, s in shard_of.items() if s == k) for k in range(n)}
    assert all(mine.values()), f"a shard has no models: pick other names ({mine})"
    rnd = rig12.round_number()

    def data_dir(k: int) -> str:
        return str(rig12.base / f"data-{k}")  # per-pod data cache and ledger

    procs = [rig12.spawn("--shard", f"{k}/{n}", NUMERAI_DATA_DIR=data_dir(k)) for k in range(n)]
    results = [rig12.finish(p) for p in procs]

    for k, res in enumerate(results):
        assert res.code == 0, res.out[-3000:]
        outcomes = res.outcomes()
        assert sorted(outcomes) == mine[k]  # only its share, blends with their parts
        assert {o["status"] for o in outcomes.values()} == {"submitted"}, outcomes
        assert res.report is not None and res.report["bytes_downloaded"] > 0  # its own cache
        assert res.report["outcomes"] and f'"shard {k}/{n}' in res.out
    subs = [s for s in sb.submissions() if s["round"] == rnd]
    assert Counter(str(s["model_name"]) for s in subs) == Counter(ALL)  # each exactly once
    # Each shard downloaded each file once for its models (three caches, three downloads).
    downloads = sb.counters()["downloads"]
    assert downloads["v5.2/live.parquet"] == n and set(downloads.values()) == {n}, downloads

    # A rerun of any shard does nothing: the API says its models are submitted.
    again = rig12.finish(rig12.spawn("--shard", f"1/{n}", NUMERAI_DATA_DIR=data_dir(1)))
    assert again.code == 0, again.out[-3000:]
    assert {o["status"] for o in again.outcomes().values()} == {"already"}
    assert again.report is not None and again.report["bytes_downloaded"] == 0
    assert len([s for s in sb.submissions() if s["round"] == rnd]) == len(ALL)
    assert sb.counters()["downloads"] == downloads


def test_model_option_names_the_shard_of_a_model_run_elsewhere(rig12: Rig) -> None:
    shard_of = assign(_config((rig12.models_dir / "models.toml").read_text()).models, 3)
    other = next(m for m, k in shard_of.items() if k != 0)
    res = rig12.finish(rig12.spawn("--shard", "0/3", "--model", other))
    assert res.code == 2 and "not in this shard's share" in res.out and other in res.out
    assert res.report is None and not rig12.sb.submissions(other)


def test_a_shard_killed_mid_run_leaves_its_models_to_its_next_trigger(rig12: Rig) -> None:
    sb, n = rig12.sb, 3
    shard_of = assign(_config((rig12.models_dir / "models.toml").read_text()).models, n)
    k = max(range(n), key=lambda i: sum(1 for s in shard_of.values() if s == i))
    mine = sorted(m for m, s in shard_of.items() if s == k)
    rnd = rig12.round_number()

    def submitted() -> list[str]:
        return sorted(str(s["model_name"]) for s in sb.submissions() if s["round"] == rnd)

    killed = rig12.finish(rig12.spawn("--shard", f"{k}/{n}", kill_at="after-submit"))
    assert killed.code == -9, killed.out[-2000:]
    first = submitted()
    assert first and set(first) < set(mine), first  # some of its models, none of the others'
    again = rig12.finish(rig12.spawn("--shard", f"{k}/{n}"))  # the next trigger
    assert again.code == 0, again.out[-3000:]
    assert submitted() == mine  # the rest, each once; other shards' models untouched
    statuses = {m: o["status"] for m, o in again.outcomes().items()}
    assert {m for m, s in statuses.items() if s == "already"} == set(first)


@pytest.mark.usefixtures("in_process_cli")
def test_plan_with_a_shard_shows_only_its_share(
    rig12: Rig, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shard_of = assign(_config((rig12.models_dir / "models.toml").read_text()).models, 3)
    for name, value in rig12.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "2")  # as Kubernetes sets it
    monkeypatch.setenv("NUMERAI_SHARDS", "3")
    capfd.readouterr()
    assert run_cli(["plan"]) == 0
    out = capfd.readouterr().out
    (doc,) = [json.loads(x) for x in out.splitlines() if x.startswith('{"event": "plan"')]
    assert sorted(m["model"] for m in doc["models"]) == sorted(
        m for m, k in shard_of.items() if k == 2
    )
    assert rig12.sb.submissions() == []
