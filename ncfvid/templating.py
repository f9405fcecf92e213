"""The jinja2 environment that turns the storyboard into Python: strict, whitespace-clean, and with
filters that embed user text only as escaped Python literals (never spliced raw into code)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"  # inside an installed wheel
SOURCE_TEMPLATES = Path(__file__).parent.parent / "templates"  # in a source checkout


def builtin_template_dir() -> Path:
    """Where ncfvid's own templates are: in the wheel, or at the top of a source checkout."""
    for folder in (PACKAGE_TEMPLATES, SOURCE_TEMPLATES):
        if (folder / "module.py.j2").is_file():
            return folder
    raise FileNotFoundError("ncfvid's templates are missing; reinstall ncfvid")


def template_dirs(overrides: Sequence[Path] = ()) -> list[Path]:
    """The template search path: the user's override folders first, then the built-in templates."""
    return [*overrides, builtin_template_dir()]


def py_literal(value: Any) -> str:
    """A Python literal for plain data: strings as double-quoted escaped literals, floats exact."""
    if isinstance(value, str):
        # JSON string syntax is a subset of Python's; this escapes quotes, backslashes and newlines.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot embed the number {value!r}")
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot embed a {type(value).__name__} in generated code")


def py_text(value: str | None, indent: int, prefix: int = 0, width: int = 96) -> str:
    """A string literal that keeps lines under `width` columns.

    `indent` is the indentation of the line the literal sits on and `prefix` how many characters
    precede it there (say `text=`). Long strings become a parenthesised group of implicitly joined
    pieces, split at spaces, one per line at `indent + 4`.
    """
    one = py_literal(value)
    if value is None or indent + prefix + len(one) + 1 <= width:
        return one
    pad = " " * (indent + 4)
    pieces: list[str] = []
    current = ""
    for word in value.split(" "):
        candidate = word if not current else current + " " + word
        if current and len(pad) + len(py_literal(candidate + " ")) + 1 > width:
            pieces.append(current + " ")
            current = word
        else:
            current = candidate
    pieces.append(current)
    body = "\n".join(pad + py_literal(piece) for piece in pieces)
    return "(\n" + body + "\n" + " " * indent + ")"


def py_docstring(value: str) -> str:
    """A docstring: triple-quoted when the text allows it, else an escaped literal."""
    text = " ".join(value.split())
    if '"' in text or "\\" in text or not text.isprintable():
        return py_literal(text)
    return f'"""{text}"""'


def make_environment(overrides: Sequence[Path] = ()) -> jinja2.Environment:
    """The environment used by the compiler; StrictUndefined makes a missing variable an error."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in template_dirs(overrides)]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["py"] = py_literal
    env.filters["pytext"] = py_text
    env.filters["pydoc"] = py_docstring
    return env
