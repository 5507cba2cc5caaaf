"""A config value checked against its field: type, bounds, choices, one validator.

The configuration is small and flat (the models file's entries, the settings), and importing
pydantic for it cost about 0.1 s of every command's start, a third of the idle run's budget
(issue 11). This is the part of it the config used, in the same words ("Input should be ..."),
so messages read as they did. Two modes: *strict* for the models file (TOML has types:
``rank = "yes"`` is a mistake to report, not to coerce) and *lax* for the settings (every
environment variable is a string).

A table's fields are dataclass fields made with :func:`spec`; :func:`build` checks a mapping
against them and returns the instance, or one :class:`Problem` per mistake (every field's, not
only the first)."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
Convert = Callable[[object, bool], Any]
"""``(value, strict) -> value``; raises :class:`Invalid`."""

_CHECK = "numerai_autopilot.check"  # the dataclass field metadata key


class SecretStr:
    """A secret value that shows in no repr, str or log line (pydantic's name and API)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')" if self._value else "SecretStr('')"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class Invalid(ValueError):
    """A value's mistakes: ``(loc inside the value, message)`` each (a dict has one per key)."""

    def __init__(self, msg: str, loc: tuple[str, ...] = ()) -> None:
        super().__init__(msg)
        self.errors: list[tuple[tuple[str, ...], str]] = [(loc, msg)]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One mistake in a table: where (field, then key), what, and whether the field is unknown
    (``extra``) or the value is not a table at all (``loc`` empty)."""

    loc: tuple[str, ...]
    msg: str
    extra: bool = False
    value: object = None
    """The value given (never put it in a message of a secret)."""


@dataclasses.dataclass(frozen=True)
class Check:
    convert: Convert
    required: bool = False
    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    finite: bool = False
    min_length: int = 0
    before: Callable[[object], object] | None = None
    after: Callable[[Any], Any] | None = None
    """Validators; a ValueError they raise becomes ``Value error, <its text>``."""


def spec(
    convert: Convert,
    default: Any = None,
    *,
    factory: Callable[[], Any] | None = None,
    **check: Any,
) -> Any:
    """A dataclass field checked by ``convert`` and ``check``'s bounds and validators
    (:class:`Check`); ``None`` passes unchecked when it is the default (an optional field)."""
    meta = {_CHECK: Check(convert, **check)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def build(cls: type[T], raw: object, *, strict: bool) -> tuple[T | None, list[Problem]]:
    """``cls`` from ``raw``'s values (defaults for the others), or every problem, in field
    order, then the unknown fields."""
    if not isinstance(raw, Mapping):
        return None, [Problem((), "Input should be a valid dictionary")]
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, f in fields.items():
        if name not in raw:
            if f.metadata[_CHECK].required:
                problems.append(Problem((name,), "Field required"))
            continue
        value = raw[name]
        if value is None and f.default is None:
            values[name] = None
            continue
        try:
            values[name] = check(f.metadata[_CHECK], value, strict=strict)
        except Invalid as exc:
            problems += [Problem((name, *loc), msg, value=value) for loc, msg in exc.errors]
    problems += [
        Problem((str(k),), "Extra inputs are not permitted", extra=True)
        for k in raw
        if k not in fields
    ]
    return (None, problems) if problems else (cls(**values), [])


def field_names(cls: type[Any]) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def check(c: Check, value: object, *, strict: bool) -> Any:
    if c.before is not None:
        value = _validator(c.before, value)
    out = c.convert(value, strict)
    if isinstance(out, int | float) and not isinstance(out, bool):
        if c.finite and not math.isfinite(out):
            raise Invalid("Input should be a finite number")
        if c.gt is not None and not out > c.gt:
            raise Invalid(f"Input should be greater than {_num(c.gt)}")
        if c.ge is not None and not out >= c.ge:
            raise Invalid(f"Input should be greater than or equal to {_num(c.ge)}")
        if c.le is not None and not out <= c.le:
            raise Invalid(f"Input should be less than or equal to {_num(c.le)}")
    if isinstance(out, str) and len(out) < c.min_length:
        s = "" if c.min_length == 1 else "s"
        raise Invalid(f"String should have at least {c.min_length} character{s}")
    if c.after is not None:
        out = _validator(c.after, out)
    return out


def _validator(fn: Callable[[Any], Any], value: object) -> Any:
    try:
        return fn(value)
    except ValueError as exc:
        raise Invalid(f"Value error, {exc}") from None


def _num(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() and abs(bound) < 1e15 else str(bound)


# The converters: (value, strict) -> value, as pydantic's strict and lax modes take them.

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_INT = re.compile(r"\s*[+-]?\d+\s*")


def as_str(value: object, strict: bool) -> str:
    if not isinstance(value, str):
        raise Invalid("Input should be a valid string")
    return value


def as_bool(value: object, strict: bool) -> bool:
    if isinstance(value, bool):
        return value
    if not strict:
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            raise Invalid("Input should be a valid boolean, unable to interpret input")
    raise Invalid("Input should be a valid boolean")


def as_int(value: object, strict: bool) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not strict:
        if isinstance(value, float) and math.isfinite(value):
            if value.is_integer():
                return int(value)
            raise Invalid("Input should be a valid integer, got a number with a fractional part")
        if isinstance(value, str):
            if _INT.fullmatch(value):
                return int(value)
            raise Invalid("Input should be a valid integer, unable to parse string as an integer")
    raise Invalid("Input should be a valid integer")


def as_float(value: object, strict: bool) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not strict and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise Invalid(
                "Input should be a valid number, unable to parse string as a number"
            ) from None
    raise Invalid("Input should be a valid number")


def as_path(value: object, strict: bool) -> Path:
    if isinstance(value, Path):
        return value
    if isinstance(value, str):
        return Path(value)
    raise Invalid("Input is not a valid path")


def as_secret(value: object, strict: bool) -> SecretStr:
    if isinstance(value, SecretStr):
        return value
    return SecretStr(as_str(value, strict))


def one_of(*choices: str) -> Convert:
    """A string that is one of ``choices`` (pydantic's ``Literal``)."""
    said = ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"

    def convert(value: object, strict: bool) -> str:
        if value not in choices:
            raise Invalid(f"Input should be {said}")
        return str(value)

    return convert


def instance_of(cls: type[Any], what: str) -> Convert:
    def convert(value: object, strict: bool) -> Any:
        if not isinstance(value, cls):
            raise Invalid(f"Input should be {what}")
        return value

    return convert


def weights(value: object, strict: bool) -> dict[str, float]:
    """A table of name = number (every wrong key said)."""
    if not isinstance(value, Mapping):
        raise Invalid("Input should be a valid dictionary")
    out: dict[str, float] = {}
    errors: list[tuple[tuple[str, ...], str]] = []
    for k, v in value.items():
        try:
            out[str(k)] = as_float(v, strict)
        except Invalid as exc:
            errors += [((str(k), *loc), msg) for loc, msg in exc.errors]
    if errors:
        wrong = Invalid(errors[0][1])
        wrong.errors = errors
        raise wrong
    return out
