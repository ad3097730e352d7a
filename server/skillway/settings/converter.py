"""One cattrs converter for the settings: camelCase keys on the wire, every value checked.

A checked value type is an `Annotated[base, Check(...)]` alias (`Whole`, `Text`, ...): its hook
refuses a wrong value with `Invalid` saying what is expected, instead of coercing it ("5" is not
a number here). Every attrs class is structured with its field names in camelCase and unknown keys
refused. `check` structures one layer's raw object and lists each wrong value by its full key path
(`timeouts.chat`, `quotas.myteam.maxCostUsd`); `without` drops those values from the raw object.
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError, IterableValidationError, IterableValidationNote
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

T = TypeVar("T")
KeyPath = tuple[str, ...]  # camelCase keys from the layer's root: ("quotas", "web", "maxTokens")


class Invalid(ValueError):
    """A wrong value: `expected` says what would be right."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


@attrs.frozen
class Check:
    """The rule of a checked value type: `accepts` says whether a raw value is right, `expected`
    what a right one is, `convert` makes the Python value of a right one."""

    expected: str
    accepts: Callable[[Any], bool]
    convert: Callable[[Any], Any] = lambda value: value


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
DURATION_EXPECTED = 'a duration like "90m", "5h", "24h" or "7d"'


def parse_duration(text: object) -> float:
    """Seconds in a duration like "90m", "5h", "24h" or "7d" (also "s" and "w")."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or float(match.group(1)) <= 0:
        raise Invalid(DURATION_EXPECTED)
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def _is_duration(value: object) -> bool:
    try:
        parse_duration(value)
    except Invalid:
        return False
    return True


Text = Annotated[str, Check("a non-empty string", lambda v: isinstance(v, str) and bool(v.strip()))]
Whole = Annotated[int, Check("a whole number >= 0", lambda v: _integer(v) and v >= 0)]
PositiveWhole = Annotated[int, Check("a whole number > 0", lambda v: _integer(v) and v >= 1)]
Positive = Annotated[float, Check("a number > 0", lambda v: _number(v) and v > 0, float)]
Flag = Annotated[bool, Check("true or false", lambda v: isinstance(v, bool))]
ArgumentBase = Annotated[int, Check("0 or 1", lambda v: _integer(v) and v in (0, 1))]
Duration = Annotated[str, Check(DURATION_EXPECTED, _is_duration)]
UsdPerMillion = Annotated[float, Check("a price >= 0 in USD per million tokens", lambda v: _number(v) and v >= 0, float)]
Rules = Annotated[tuple[str, ...], Check('a list of rules such as "Bash(git diff:*)"',
                                         lambda v: isinstance(v, list) and all(isinstance(item, str) for item in v),
                                         tuple)]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def wire_fields(cls: type) -> dict[str, attrs.Attribute[Any]]:
    """The fields of settings class `cls` that are read from the wire, by their camelCase key."""
    return {camel(field.name): field for field in attrs.fields(cls) if field.metadata.get("wire", True)}


def expected_object(cls: type) -> str:
    """What a right value of settings class `cls` is (its `EXPECTED`, or the keys it takes)."""
    said: str | None = getattr(cls, "EXPECTED", None)
    return said or f"an object with keys among {', '.join(wire_fields(cls))}"


def _check_of(kind: Any) -> Check | None:
    if get_origin(kind) is Annotated:
        return next((item for item in kind.__metadata__ if isinstance(item, Check)), None)
    return None


def _optional_check(kind: Any) -> Check | None:
    """The check of `Checked | None`: on the wire the value is left out, never null."""
    if get_origin(kind) in (typing.Union, types.UnionType):
        inner = [arg for arg in get_args(kind) if arg is not type(None)]
        if len(inner) == 1 and len(get_args(kind)) == 2:
            return _check_of(inner[0])
    return None


def _checked(check: Check) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> Any:
        if not check.accepts(value):
            raise Invalid(check.expected)
        return check.convert(value)

    return structure


_MAPPINGS: tuple[Any, ...] = (Mapping, dict)


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook_factory(lambda kind: _check_of(kind) is not None,
                                              lambda kind: _checked(_check_of(kind)))  # type: ignore[arg-type]
    converter.register_structure_hook_factory(lambda kind: _optional_check(kind) is not None,
                                              lambda kind: _checked(_optional_check(kind)))  # type: ignore[arg-type]

    def mapping(kind: Any) -> Callable[[Any, Any], Any]:
        values = get_args(kind)[1]

        def structure(value: Any, _: Any) -> dict[str, Any]:
            if not isinstance(value, dict):
                raise Invalid(getattr(values, "TABLE_EXPECTED", "an object"))
            result, errors = {}, []
            for name, item in value.items():
                try:
                    result[name] = converter.structure(item, values)
                except Exception as exc:  # gathered, as cattrs does, to name each wrong entry
                    exc.add_note(IterableValidationNote(f"Structuring mapping value @ key {name!r}", name, values))
                    errors.append(exc)
            if errors:
                raise IterableValidationError(f"While structuring {kind!r}", errors, kind)
            return result

        return structure

    converter.register_structure_hook_factory(
        lambda kind: get_origin(kind) in _MAPPINGS and get_args(kind)[:1] == (str,), mapping)

    def section(cls: type) -> Callable[[Any, Any], Any]:
        renames = {field.name: override(rename=camel(field.name), omit=not field.metadata.get("wire", True))
                   for field in attrs.fields(cls)}
        generated: Callable[[Any, Any], Any] = make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True, **renames)  # type: ignore[arg-type]  # cattrs types overrides as keyword-only extras

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, dict):
                raise Invalid(expected_object(cls))
            try:
                return generated(value, cls)
            except cattrs.ClassValidationError as exc:
                missing = [inner for inner in exc.exceptions if isinstance(inner, KeyError)]
                if missing and len(missing) == len(exc.exceptions):
                    raise Invalid(expected_object(cls)) from None  # a required key left out
                raise

        return structure

    converter.register_structure_hook_factory(attrs.has, section)
    converter.register_unstructure_hook_factory(attrs.has, lambda cls: make_dict_unstructure_fn(
        cls, converter, **{field.name: override(rename=camel(field.name), omit=not field.metadata.get("wire", True))
                           for field in attrs.fields(cls)}))  # type: ignore[arg-type]
    return converter


converter = _make_converter()


def structure(value: object, kind: type[T]) -> T:
    """`value` (camelCase, as on the wire) as `kind`; cattrs' validation errors otherwise."""
    return converter.structure(value, kind)


def unstructure(value: object) -> Any:
    """A settings value as on the wire (camelCase keys)."""
    return converter.unstructure(value)


@attrs.frozen
class Wrong:
    """A wrong value of a layer: its key path, what was expected, the value given (unknown keys:
    `expected` is None and `known` lists the keys that are)."""

    path: KeyPath
    expected: str | None
    value: object
    known: tuple[str, ...] = ()


def check(raw: dict[str, Any], kind: type) -> list[Wrong]:
    """Every wrong value of `raw` as settings class `kind`, by its key path."""
    try:
        converter.structure(raw, kind)
    except Exception as exc:  # every kind of wrong value is reported the same way
        return _wrongs(exc, (), raw, kind)
    return []


def _wrongs(exc: BaseException, path: KeyPath, value: object, kind: Any) -> list[Wrong]:
    if isinstance(exc, ForbiddenExtraKeysError):
        known = tuple(wire_fields(exc.cl)) if attrs.has(exc.cl) else ()
        return [Wrong((*path, key), None, value.get(key) if isinstance(value, dict) else None, known)
                for key in sorted(exc.extra_fields, key=list(value).index if isinstance(value, dict) else str)]
    if isinstance(exc, cattrs.BaseValidationError):
        found: list[Wrong] = []
        for inner in exc.exceptions:
            if isinstance(inner, KeyError):  # a required key left out: the object is wrong
                found.append(Wrong(path, expected_object(kind) if attrs.has(kind) else "an object", value))
                continue
            key, inner_kind = _step(inner, kind)
            if key is None:
                found += _wrongs(inner, path, value, kind)
            else:
                item = value.get(key) if isinstance(value, dict) else None
                found += _wrongs(inner, (*path, key), item, inner_kind)
        return found
    expected = exc.expected if isinstance(exc, Invalid) else (
        expected_object(kind) if attrs.has(kind) else str(exc) or type(exc).__name__)
    return [Wrong(path, expected, value)]


def _step(inner: BaseException, kind: Any) -> tuple[str | None, Any]:
    """The key (camelCase) and type one level down that `inner`, an error inside `kind`, is about."""
    for note in getattr(inner, "__notes__", ()):
        if isinstance(note, IterableValidationNote):
            return str(note.index), get_args(kind)[1] if get_args(kind) else Any
        if isinstance(note, cattrs.AttributeValidationNote):
            return camel(note.name), note.type
    return None, kind


def without(raw: dict[str, Any], wrongs: list[Wrong], kind: type) -> dict[str, Any]:
    """`raw` with the wrong values left out: a wrong field of a section alone, a wrong entry of a
    table (`quotas.web`) whole; the right values kept."""
    cleaned = dict(raw)
    for wrong in wrongs:
        _drop(cleaned, wrong.path, kind)
    return cleaned


def _drop(raw: dict[str, Any], path: KeyPath, kind: Any) -> None:
    key, rest = path[0], path[1:]
    if key not in raw:
        return
    field = wire_fields(kind).get(key) if attrs.has(kind) else None
    item_kind = _resolved(kind, field) if field is not None else None
    if not rest or not isinstance(raw[key], dict) or item_kind is None:
        del raw[key]
    elif attrs.has(item_kind):
        raw[key] = dict(raw[key])
        _drop(raw[key], rest, item_kind)
    else:  # a table: an entry with a wrong value is left out whole
        raw[key] = {name: entry for name, entry in raw[key].items() if name != rest[0]}


def _resolved(kind: type, field: attrs.Attribute[Any]) -> Any:
    return typing.get_type_hints(kind, include_extras=True)[field.name]


def field_kind(kind: type, key: str) -> Any:
    """The type of the wire key `key` of settings class `kind`."""
    return _resolved(kind, wire_fields(kind)[key])
