from pathlib import Path

import pytest

from numerai_autopilot.config import load_models_file
from numerai_autopilot.errors import ConfigError
from numerai_autopilot.tournaments import Tournament


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "models.toml").write_text(text)
    return tmp_path


def test_full_example_parses_with_defaults_applied(tmp_path: Path) -> None:
    d = write(
        tmp_path,
        """
[defaults]
data_version = "v5.2"
features = "medium"

[[model]]
name = "anas"
artifact = "anas/model.txt"
format = "lightgbm"
sha256 = "9F2C000000000000000000000000000000000000000000000000000000000000"

[[model]]
name = "netta"
tournament = "signals"
artifact = "netta/predict.pkl"
features = "feats/list.json"
rank = true

[[model]]
name = "corvus"
blend = { anas = 0.7, sub = 0.3 }

[[model]]
name = "sub"
artifact = "sub.joblib"
enabled = false

[[model]]
name = "ep"
entrypoint = "mymod:predict"
""",
    )
    cfg = load_models_file(d)
    m = cfg.by_name()
    assert m["anas"].tournament is Tournament.CLASSIC
    assert m["anas"].artifact == (d / "anas/model.txt").resolve()
    assert m["anas"].features == "medium"
    assert m["anas"].data_version == "v5.2"
    assert m["anas"].sha256 == "9f2c" + "0" * 60
    assert m["netta"].tournament is Tournament.SIGNALS
    assert m["netta"].features == str((d / "feats/list.json").resolve())
    assert m["netta"].rank is True
    assert m["corvus"].format == "blend"
    assert m["ep"].format == "entrypoint"
    assert [s.name for s in cfg.enabled()] == ["anas", "netta", "corvus", "ep"]


def test_missing_models_dir_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NUMERAI_MODELS_DIR"):
        load_models_file(tmp_path / "nope")


def test_missing_models_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models\.toml.*\[\[model\]\]"):
        load_models_file(tmp_path)


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    d = write(tmp_path, "[[model]\nname=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_models_file(d)


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        (
            '[[model]]\nname = "a"\nartifact = "a.txt"\nfromat = "x"\n',
            ["model #1 ('a')", "fromat", "unknown field"],
        ),
        (
            '[[model]]\nname = "a"\nartifact = "a.txt"\nformat = "h5"\n',
            ["model #1 ('a')", "format", "unknown format"],
        ),
        ('[[model]]\nname = "a"\n', ["model #1 ('a')", "artifact: missing"]),
        (
            '[[model]]\nname = "a"\ntournament = "forex"\nartifact = "a"\n',
            ["tournament", "classic, signals or crypto"],
        ),
        (
            '[[model]]\nname = "a"\nartifact = "a"\n[[model]]\nname = "a"\nartifact = "b"\n',
            ["model #2 ('a')", "duplicate"],
        ),
        ('[[model]]\nname = "a"\nartifact = "a"\nsha256 = "abc"\n', ["sha256", "64 hexadecimal"]),
        ('[[model]]\nname = "b"\nblend = { zz = 1.0 }\n', ["blend", "no entry named 'zz'"]),
        (
            '[[model]]\nname = "b"\nblend = { a = -1.0 }\n[[model]]\nname="a"\nartifact="a"\n',
            ["blend", "positive"],
        ),
        ('[[model]]\nname = "a"\nartifact = "../outside.pkl"\n', ["outside the models dir"]),
        ('[[model]]\nname = "a"\nentrypoint = "not a spec"\n', ["module:function"]),
        (
            '[defaults]\nrank = "yes please"\n[[model]]\nname="a"\nartifact="a"\n',
            ["[defaults]", "rank"],
        ),
        ('[[model]]\nartifact = "a"\n', ["model #1", "name"]),
    ],
)
def test_each_mistake_names_file_entry_and_field(
    tmp_path: Path, body: str, needles: list[str]
) -> None:
    d = write(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_models_file(d)
    text = str(err.value)
    assert str(d / "models.toml") in text
    for n in needles:
        assert n in text, text


def test_blend_across_tournaments_is_refused(tmp_path: Path) -> None:
    d = write(
        tmp_path,
        """
[[model]]
name = "c"
artifact = "c.txt"
[[model]]
name = "s"
tournament = "signals"
artifact = "s.pkl"
[[model]]
name = "b"
blend = { c = 1, s = 1 }
""",
    )
    with pytest.raises(ConfigError, match="another tournament"):
        load_models_file(d)


def test_names_differing_only_in_case_are_refused_naming_both(tmp_path: Path) -> None:
    # The plan matches names case-insensitively: both entries would submit to one model.
    d = write(
        tmp_path,
        '[[model]]\nname = "anas_platyrhynchos"\nartifact = "a.txt"\n'
        '[[model]]\nname = "ANAS_PLATYRHYNCHOS"\nartifact = "b.txt"\n',
    )
    with pytest.raises(ConfigError) as err:
        load_models_file(d)
    text = str(err.value)
    assert "model #2 ('ANAS_PLATYRHYNCHOS')" in text
    assert "model #1 ('anas_platyrhynchos')" in text
    assert "duplicate" in text and "ignore case" in text


def test_blend_components_resolve_as_names_compare(tmp_path: Path) -> None:
    d = write(
        tmp_path,
        '[[model]]\nname = "Anas"\nartifact = "a.txt"\n'
        '[[model]]\nname = "netta"\nartifact = "n.txt"\n'
        '[[model]]\nname = "b"\nblend = { ANAS = 0.7, Netta = 0.3 }\n',
    )
    blend = load_models_file(d).by_name()["b"].blend
    # Keyed as the components' own entries spell them: the run keys predictions by entry name.
    assert blend == {"Anas": 0.7, "netta": 0.3}


def test_blend_naming_one_component_twice_in_two_cases_is_refused(tmp_path: Path) -> None:
    d = write(
        tmp_path,
        '[[model]]\nname = "anas"\nartifact = "a.txt"\n'
        '[[model]]\nname = "b"\nblend = { anas = 0.5, ANAS = 0.5 }\n',
    )
    with pytest.raises(ConfigError, match=r"model 'b': blend: 'ANAS' names 'anas' a second time"):
        load_models_file(d)


def test_a_models_file_that_is_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "models.toml").write_bytes(b'[[model]]\nname = "caf\xe9"\nartifact = "a.txt"\n')
    with pytest.raises(ConfigError, match=r"models.toml: not UTF-8 text \(byte 0xe9 at offset 21"):
        load_models_file(tmp_path)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("memory_mb = 1099511627776", "memory_mb"),  # 2**40 MB
        ("timeout = inf", "timeout"),
        ("timeout = nan", "timeout"),
        ("timeout = 1e300", "timeout"),
    ],
)
def test_unbounded_numbers_are_refused_naming_entry_and_field(
    tmp_path: Path, line: str, field: str
) -> None:
    d = write(tmp_path, f'[[model]]\nname = "a"\nartifact = "a.txt"\n{line}\n')
    with pytest.raises(ConfigError, match=rf"model #1 \('a'\): {field}: "):
        load_models_file(d)
    d = write(tmp_path, f'[defaults]\n{line}\n[[model]]\nname = "a"\nartifact = "a.txt"\n')
    with pytest.raises(ConfigError, match=rf"\[defaults\]: {field}: "):
        load_models_file(d)


@pytest.mark.parametrize("weight", ["inf", "nan", "1e300", "-inf"])
def test_blend_weights_must_be_finite_and_bounded(tmp_path: Path, weight: str) -> None:
    d = write(
        tmp_path,
        '[[model]]\nname = "a"\nartifact = "a.txt"\n'
        f'[[model]]\nname = "b"\nblend = {{ a = {weight} }}\n',
    )
    with pytest.raises(ConfigError, match=r"model #2 \('b'\): blend: .*positive finite") as err:
        load_models_file(d)
    assert f"a = {float(weight)}" in str(err.value)


def test_every_mistake_is_reported_in_one_pass_with_suggestions(tmp_path: Path) -> None:
    # Shape mistakes (unknown key, wrong type) and meaning mistakes (no artifact, a blend of
    # nothing) used to come in two passes: the second only after fixing the first.
    d = write(
        tmp_path,
        """
[defualts]
rank = true

[[model]]
name = "typo"
artifact = "a.txt"
fromat = "lightgbm"

[[model]]
name = "bad_format"
artifact = "b.txt"
format = "lightgmb"

[[model]]
name = "ranked"
artifact = "c.txt"
rank = "yes"

[[model]]
name = "memory"
artifact = "d.txt"
memory_mb = 2.0

[[model]]
name = "no_artifact"

[[model]]
name = "mix"
blend = { rankd = 1.0, typo = 1.0 }
""",
    )
    with pytest.raises(ConfigError) as err:
        load_models_file(d)
    lines = str(err.value).splitlines()[1:]
    text = "\n".join(lines)
    for needle in (
        "defualts: unknown table or key (did you mean 'defaults'?)",
        "model #1 ('typo'): fromat: unknown field (did you mean 'format'?)",
        "model #2 ('bad_format'): format: unknown format 'lightgmb' (did you mean 'lightgbm'?)",
        "model #3 ('ranked'): rank: Input should be a valid boolean",
        "model #4 ('memory'): memory_mb: Input should be a valid integer",
        "model #5 ('no_artifact'): artifact: missing",
        "model 'mix': blend: no entry named 'rankd' (did you mean 'ranked'?)",
    ):
        assert needle in text, text
    assert len(lines) == 7, text  # the blend's part 'typo' is wrong itself: said once, there


@pytest.mark.parametrize(
    ("field", "value"),
    [("rank", '"yes"'), ("rank", "1"), ("memory_mb", "2.0"), ("timeout", '"60"'), ("name", "7")],
)
def test_values_of_the_wrong_type_are_errors_not_coerced(
    tmp_path: Path, field: str, value: str
) -> None:
    body = {"name": '"m"', "artifact": '"m.txt"', field: value}
    d = write(tmp_path, "[[model]]\n" + "".join(f"{k} = {v}\n" for k, v in body.items()))
    with pytest.raises(ConfigError, match=rf"{field}: Input should be a valid"):
        load_models_file(d)


def test_whole_numbers_are_fine_where_a_number_is_expected(tmp_path: Path) -> None:
    d = write(tmp_path, '[[model]]\nname = "m"\nartifact = "m.txt"\ntimeout = 60\n')
    assert load_models_file(d).models[0].timeout == 60.0
