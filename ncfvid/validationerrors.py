"""Pydantic validation errors as diagnostics at their YAML lines: each error's location is walked
through the storyboard's data and the model's annotations to the key or value it concerns, and its
message is keyed on the pydantic error type (never on pydantic's wording).

Imports only the standard library at import time; pydantic is imported when an error is converted.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from ncfvid.diagnostics import IDENTIFIER, Diagnostic, Loc, finalize, format_path, plural

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from ncfvid.yamlsource import LoadedYaml

__all__ = ["from_validation_error"]


# --------------------------------------------------------------------------------------------------
# pydantic errors -> diagnostics


def from_validation_error(
    err: ValidationError,
    loaded: LoadedYaml,
    model: type[BaseModel],
    *,
    base_loc: tuple[str | int, ...] = (),
) -> list[Diagnostic]:
    """One diagnostic per pydantic error, located in the YAML source and phrased plainly.

    ``model`` is the class that was validated; ``base_loc`` is where in ``loaded.data`` the validated
    value sits when it was not the whole document.  pydantic's union/discriminator parts of ``loc``
    (``tagged-union[...]``, tag values, member type names, ``function-after[...]``) are dropped by
    checking each part against the actual data.  Custom errors may carry a ``loc`` tuple in their
    context (``PydanticCustomError(..., {"loc": ("target", "user")})``): it is appended to the error's
    location.  The result is deduplicated and sorted.
    """
    data = _lookup(loaded.data, base_loc)
    resolved = []
    for error in err.errors(include_url=False):
        loc = tuple(error.get("loc", ()))
        ctx = error.get("ctx") or {}
        extra_loc = ctx.get("loc")
        if isinstance(extra_loc, tuple | list):
            loc = loc + tuple(extra_loc)
        resolved.append((error, _resolve(loc, data, model, error["type"] in _MISSING_TYPES)))

    # Errors from the members of a plain union: when one member got further with the value (deeper
    # errors, or a failed check after the type matched), the other members' "wrong type" complaints
    # are noise; the remaining ones at one place become one "expected an integer or a string".
    kept = [(e, r) for e, r in resolved if not (_is_member_type_error(e, r) and _has_better(r, resolved))]
    expected_at: dict[tuple[str | int, ...], list[str]] = {}
    for error, res in kept:
        if _is_member_type_error(error, res):
            expected_at.setdefault(res.path, []).append(_EXPECTED[error["type"]])
    out = []
    for error, res in kept:
        diag = _to_diagnostic(error, res, loaded, base_loc)
        if _is_member_type_error(error, res):
            choices = list(dict.fromkeys(expected_at.pop(res.path, [])))
            if not choices:
                continue  # already merged into the first one
            if len(choices) > 1:
                joined = ", ".join(choices[:-1]) + " or " + choices[-1]
                diag = replace(diag, message=f"expected {joined}, got {_show(error.get('input'))}")
        out.append(diag)
    return finalize(out)


def _is_member_type_error(error: Any, res: _Resolved) -> bool:
    return res.union_member and error["type"] in _EXPECTED


_MISSING_TYPES = {"missing", "union_tag_not_found"}


@dataclass
class _Resolved:
    path: tuple[str | int, ...]  # real keys/indices only
    parent_types: list[Any]  # candidate annotations of the value holding the last path element
    types: list[Any]  # candidate annotations at path
    parent_data: Any
    data: Any
    present: bool  # path exists in the data
    key_error: bool  # pydantic's "[key]": the mapping key itself is wrong
    union_member: bool  # the raw loc ended inside a union member


_NOTHING = object()


def _lookup(data: Any, loc: Sequence[str | int]) -> Any:
    for part in loc:
        data = data[part]
    return data


def _step(data: Any, part: str | int) -> Any:
    if isinstance(data, dict) and isinstance(part, str) and part in data:
        return data[part]
    if isinstance(data, list) and isinstance(part, int) and not isinstance(part, bool):
        if 0 <= part < len(data):
            return data[part]
    return _NOTHING


def _resolve(loc: tuple[Any, ...], data: Any, model: Any, missing: bool) -> _Resolved:
    path: list[str | int] = []
    types_ = _expand([model])
    parent_types: list[Any] = []
    parent_data: Any = _NOTHING
    present = True
    key_error = False
    union_member = False
    for i, part in enumerate(loc):
        nxt = _step(data, part) if present else _NOTHING
        if nxt is not _NOTHING:
            path.append(part)
            parent_types, parent_data = types_, data
            types_ = _expand([c for t in types_ for c in _child_types(t, part)])
            data = nxt
            union_member = False
            continue
        if part == "[key]":
            key_error = True
            continue
        if i == len(loc) - 1 and missing and present and isinstance(data, dict):
            # the missing key itself: a real key that is not in the data
            path.append(part)
            parent_types, parent_data = types_, data
            types_ = _expand([c for t in types_ for c in _child_types(t, part)])
            data = _NOTHING
            present = False
            continue
        # pydantic's own marker (union member, tag, validator wrapper): narrow the candidates.
        narrowed = [t for t in types_ if _member_matches(t, part)]
        if narrowed:
            types_ = _expand(narrowed)
        union_member = True
    return _Resolved(tuple(path), parent_types, types_, parent_data, data, present, key_error, union_member)


def _has_better(res: _Resolved, resolved: list[tuple[Any, _Resolved]]) -> bool:
    """Did another union member get further with this value (deeper errors, or a failed check on a
    value of the right type)?"""
    n = len(res.path)
    for error, other in resolved:
        if len(other.path) > n and other.path[:n] == res.path:
            return True
        if other.path == res.path and other.union_member and error["type"] not in _EXPECTED:
            return True
    return False


def _to_diagnostic(error: Any, res: _Resolved, loaded: LoadedYaml, base_loc: Loc) -> Diagnostic:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    full = tuple(base_loc) + res.path
    positions = loaded.positions
    shown_path = full

    if kind == "missing":
        shown_path = full[:-1]
        message = f"missing required key '{res.path[-1]}'" if res.path else "missing required value"
        pos = positions.locate(full)
    elif kind == "extra_forbidden" and res.path:
        shown_path = full[:-1]
        message = _unknown_key_message(str(res.path[-1]), res.parent_types, res.parent_data)
        pos = positions.key(full) or positions.locate(full)
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        message, pos, shown_path = _tag_message(kind, ctx, error, res, full, loaded)
    elif res.key_error:
        message = _message(kind, error, ctx, res)
        pos = positions.key(full) or positions.locate(full)
    else:
        message = _message(kind, error, ctx, res)
        pos = positions.locate(full)
    return Diagnostic(loaded.filename, pos[0], pos[1], format_path(shown_path), message)


def _tag_message(
    kind: str,
    ctx: Mapping[str, Any],
    error: Any,
    res: _Resolved,
    full: tuple[str | int, ...],
    loaded: LoadedYaml,
) -> tuple[str, tuple[int, int], tuple[str | int, ...]]:
    field = str(ctx.get("discriminator", "")).strip("'\"")
    positions = loaded.positions
    is_key = bool(IDENTIFIER.match(field))
    if kind == "union_tag_not_found":
        if is_key and isinstance(res.data, dict):
            message = f"missing required key '{field}'"
        elif is_key and res.present:
            message = f"expected a mapping with a '{field}' key, got {_show(res.data)}"
        else:
            message = "cannot tell which kind of entry this is"
        return message, positions.locate(full), full
    expected = _split_expected(str(ctx.get("expected_tags", "")))
    tag = ctx.get("tag")
    message = f"{_show(tag)} is not one of: {', '.join(expected)}" + _did_you_mean(tag, expected)
    if is_key and isinstance(res.data, dict) and field in res.data:
        return message, positions.locate((*full, field)), (*full, field)
    return message, positions.locate(full), full


def _unknown_key_message(key: str, parent_types: list[Any], parent_data: Any) -> str:
    allowed: list[str] = []
    for tp in parent_types:
        for name in _field_keys(tp):
            if name not in allowed:
                allowed.append(name)
    if not allowed:
        return f"unknown key '{key}'"
    present = set(parent_data) if isinstance(parent_data, dict) else set()
    unused = [name for name in allowed if name not in present]
    import difflib

    close = difflib.get_close_matches(key, unused, n=1, cutoff=0.6)
    if close:
        return f"unknown key '{key}'; did you mean '{close[0]}'?"
    return f"unknown key '{key}'; allowed keys are: {', '.join(allowed)}"


# Simple "wrong type" errors: what was expected.
_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_parsing_size": "an integer of reasonable size",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "frozen_set_type": "a list",
    "iterable_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dataclass_type": "a mapping",
    "none_required": "an empty value (null)",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "datetime_type": "a date and time",
    "datetime_parsing": "a date and time",
    "datetime_from_date_parsing": "a date and time",
    "time_type": "a time (HH:MM:SS)",
    "time_parsing": "a time (HH:MM:SS)",
    "timedelta_type": "a duration",
    "timedelta_parsing": "a duration",
}

_BOUNDS = {
    "greater_than": ("gt", "must be greater than {}"),
    "greater_than_equal": ("ge", "must be at least {}"),
    "less_than": ("lt", "must be less than {}"),
    "less_than_equal": ("le", "must be at most {}"),
    "multiple_of": ("multiple_of", "must be a multiple of {}"),
}


def _message(kind: str, error: Any, ctx: Mapping[str, Any], res: _Resolved) -> str:
    value = error.get("input")
    if kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {_show(value)}"
        if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
            message += "; put it in quotes if it is meant as text"
        elif kind == "string_type" and isinstance(value, bool):
            message += "; put it in quotes (YAML reads yes/no/on/off/true/false as booleans)"
        return message
    if kind in ("literal_error", "enum"):
        options = _choices(res.types, kind) or _split_expected(str(ctx.get("expected", "")))
        return f"{_show(value)} is not one of: {', '.join(options)}" + _did_you_mean(value, options)
    if kind == "value_error":
        cause = ctx.get("error")
        return str(cause) if cause is not None else _strip_prefix(error["msg"])
    if kind == "assertion_error":
        return _strip_prefix(error["msg"]) or "a check failed"
    if kind in _BOUNDS:
        key, template = _BOUNDS[kind]
        return template.format(_plain(ctx.get(key))) + f", got {_show(value)}"
    if kind == "finite_number":
        return f"must be a finite number, got {_show(value)}"
    if kind in ("too_short", "too_long"):
        limit = ctx.get("min_length" if kind == "too_short" else "max_length")
        actual = ctx.get("actual_length")
        things = "entry" if ctx.get("field_type") == "Dictionary" else "item"
        if kind == "too_short":
            if limit == 1:
                return "must not be empty"
            return f"needs at least {plural(int(limit or 0), things)}, got {actual}"
        return f"can have at most {plural(int(limit or 0), things)}, got {actual}"
    if kind == "string_too_short":
        limit = int(ctx.get("min_length", 0))
        if limit == 1:
            return "must not be empty"
        return f"must be at least {plural(limit, 'character')} long, got {_show(value)}"
    if kind == "string_too_long":
        limit = int(ctx.get("max_length", 0))
        length = len(value) if isinstance(value, str) else "?"
        return f"must be at most {plural(limit, 'character')} long, got {length}"
    if kind == "string_pattern_mismatch":
        return f"{_show(value)} does not match the pattern {ctx.get('pattern')!r}"
    return _strip_prefix(error["msg"])


def _strip_prefix(message: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def _did_you_mean(value: Any, options: Sequence[str]) -> str:
    if not isinstance(value, str) or not options:
        return ""
    import difflib

    close = difflib.get_close_matches(value, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _split_expected(expected: str) -> list[str]:
    """``"'a', 'b' or 'c'"`` -> ``['a', 'b', 'c']`` (pydantic's ctx formatting)."""
    quoted = re.findall(r"'((?:[^'\\]|\\.)*)'", expected)
    if quoted:
        return quoted
    return [p.strip() for p in re.split(r",| or ", expected) if p.strip()]


def _show(value: Any) -> str:
    """A value as the user wrote it, for messages."""
    if value is _NOTHING:
        return "nothing"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        if "'" in text or any(ord(c) < 32 for c in text):
            return repr(text)
        return f"'{text}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "an empty value (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return str(value)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------------------------------
# Walking the model's annotations along a loc


def _expand(candidates: Iterable[Any]) -> list[Any]:
    """Flatten Annotated / Optional / unions / type aliases into member annotations."""
    out: list[Any] = []
    stack = list(candidates)[::-1]
    while stack:
        tp = stack.pop()
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            stack.append(typing.get_args(tp)[0])
        elif origin is typing.Union or origin is types.UnionType:
            stack.extend(reversed(typing.get_args(tp)))
        elif hasattr(tp, "__value__") and not isinstance(tp, type):  # `type X = ...` aliases
            stack.append(tp.__value__)
        elif tp is not type(None) and tp not in out:
            out.append(tp)
    return out


def _is_model(tp: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _field_keys(tp: Any) -> list[str]:
    """The keys a model accepts (aliases, and names where names are accepted)."""
    if not _is_model(tp):
        return []
    config = tp.model_config
    by_name = bool(config.get("populate_by_name") or config.get("validate_by_name"))
    keys: list[str] = []
    for name, info in tp.model_fields.items():
        aliases = _aliases(info)
        keys.extend(a for a in aliases if a not in keys)
        if (not aliases or by_name) and name not in keys:
            keys.append(name)
    return keys


def _aliases(info: Any) -> list[str]:
    found: list[str] = []
    validation_alias = getattr(info, "validation_alias", None)
    if isinstance(validation_alias, str):
        found.append(validation_alias)
    elif validation_alias is not None and hasattr(validation_alias, "choices"):
        found.extend(c for c in validation_alias.choices if isinstance(c, str))
    if isinstance(info.alias, str) and info.alias not in found and validation_alias is None:
        found.append(info.alias)
    return found


def _child_types(tp: Any, part: str | int) -> list[Any]:
    if _is_model(tp):
        if not isinstance(part, str):
            return []
        for name, info in tp.model_fields.items():
            if part == name or part in _aliases(info):
                return [info.annotation]
        return []
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is None or not args:
        return []
    if isinstance(part, int):
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return [args[0]]
            return [args[part]] if part < len(args) else []
        if isinstance(origin, type) and issubclass(origin, (Sequence, AbstractSet)) and len(args) == 1:
            return [args[0]]
        return []
    if isinstance(origin, type) and issubclass(origin, Mapping) and len(args) == 2:
        return [args[1]]
    return []


def _member_matches(tp: Any, marker: Any) -> bool:
    """Does a union member answer to pydantic's loc marker (class name, tag value, type name)?"""
    if not isinstance(marker, str):
        return False
    if _is_model(tp):
        if tp.__name__ == marker:
            return True
        for info in tp.model_fields.values():
            for member in _expand([info.annotation]):
                if typing.get_origin(member) is Literal and marker in map(str, typing.get_args(member)):
                    return True
        return False
    name = getattr(tp, "__name__", None)
    return name == marker or str(tp) == marker


def _choices(candidates: list[Any], kind: str) -> list[str]:
    out: list[str] = []
    for tp in candidates:
        if kind == "literal_error" and typing.get_origin(tp) is Literal:
            out.extend(_plain(v) for v in typing.get_args(tp))
        elif kind == "enum" and isinstance(tp, type) and issubclass(tp, enum.Enum):
            out.extend(_plain(m.value) for m in tp)
    return list(dict.fromkeys(out))
