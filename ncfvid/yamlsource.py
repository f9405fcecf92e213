"""Safe YAML loading that remembers where every key and value came from.

Storyboards are edited by hand, so every error has to point at ``file:line:column``.  This module
composes YAML into PyYAML's node tree (nodes carry ``start_mark``) with its own composer on top of
PyYAML's safe parser and resolver (libyaml's parser when PyYAML has it, else the pure-Python
``SafeLoader``; both give the same events and marks), then builds plain Python data from the nodes
itself, recording the position of every mapping key and every value on the way.  Only plain data
comes out: ``dict`` (with ``str`` keys), ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``.

Decisions (see also the tests):

* **Tags.** Only the YAML 1.1 core tags that ``SafeLoader`` resolves are accepted: ``!!str``,
  ``!!int``, ``!!float``, ``!!bool``, ``!!null``, ``!!seq``, ``!!map`` and ``!!timestamp``, whether
  implicit or written out.  Any other tag (``!!python/...``, ``!!binary``, ``!!set``, ``!foo``...) is
  an error at the tag.
* **Timestamps stay strings.** ``date: 2024-05-01`` gives the string ``"2024-05-01"``; pydantic can
  still parse it into a ``date`` where a model asks for one.
* **Merge keys (``<<``) are refused.**  Anchors and aliases for whole values are fine; a quoted
  ``"<<"`` is an ordinary key.
* Scalars otherwise resolve exactly as with ``yaml.safe_load`` (YAML 1.1: ``yes``/``on`` are booleans,
  ``1:30`` is the integer 90...), so the data matches what other PyYAML users of the file see.
* Mapping keys must be strings (``1:``, ``null:``, ``on:`` or ``[a, b]:`` as keys are errors).
* Hostile input is refused before it costs anything: files over ``Limits.max_bytes`` are not parsed;
  nesting deeper than ``Limits.max_depth`` and documents that (after alias expansion) would hold more
  than ``Limits.max_nodes`` nodes are refused while composing, before any data is built.  Aliases
  are counted with the size of the aliased subtree, computed once, so a "billion laughs" document
  fails after a few hundred nodes of work.
* An alias's descendants are located at the anchored definition (where the text is); the alias
  itself is located where ``*name`` is written.

Every problem is raised as :class:`YamlError` carrying :class:`~ncfvid.diagnostics.Diagnostic`
objects, never a raw traceback.  Lines and columns are 1-based; line 0 means "the whole file"
(missing or unreadable files).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, SequenceNode

from ncfvid.diagnostics import Diagnostic, UserError, finalize
from ncfvid.yamlcompose import (
    KIND_NAMES,
    LINE_BREAK,
    LOADER,
    NON_PRINTABLE,
    Builder,
    Limits,
    Loc,
    Position,
    Refused,
    position_of,
    target_of,
)

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "LoadedYaml",
    "Loc",
    "Positions",
    "YamlError",
    "load_yaml",
    "load_yaml_text",
]


DEFAULT_LIMITS = Limits()


class YamlError(UserError):
    """The file could not be loaded as a storyboard document; ``diagnostics`` says where and why."""


# --------------------------------------------------------------------------------------------------
# Positions


class Positions:
    """Where each key and value of a loaded document was written.

    ``path`` is a tuple of str keys and int list indices, as in pydantic's ``loc``; ``()`` is the
    top-level mapping.
    """

    def __init__(self, keys: dict[Loc, Position], values: dict[Loc, Position]) -> None:
        self._keys = keys
        self._values = values

    def key(self, path: Loc) -> Position | None:
        """Position of the mapping key whose entry is at ``path`` (None for list items / unknown)."""
        return self._keys.get(tuple(path))

    def value(self, path: Loc) -> Position | None:
        """Position of the value node at ``path`` (None when there is no such value)."""
        return self._values.get(tuple(path))

    def locate(self, path: Loc) -> Position:
        """Best position for an error at ``path``.

        The value's position when ``path`` exists; otherwise the nearest existing ancestor, located
        at its key when it is a mapping entry (``meta:`` for a key missing inside ``meta``) and at its
        value when it is a list item or the top level.  Falls back to (1, 1).
        """
        path = tuple(path)
        found = self._values.get(path)
        if found is not None:
            return found
        for end in range(len(path) - 1, -1, -1):
            ancestor = path[:end]
            found = self._keys.get(ancestor) or self._values.get(ancestor)
            if found is not None:
                return found
        return (1, 1)

    def __iter__(self) -> Iterator[Loc]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


@dataclass(frozen=True)
class LoadedYaml:
    """A loaded document: plain ``data``, the file's lines, its name and the positions of its parts."""

    data: dict[str, Any]
    source_lines: list[str]
    filename: str
    positions: Positions = field(repr=False)

    @property
    def sources(self) -> dict[str, list[str]]:
        """``{filename: source_lines}``, as :func:`ncfvid.diagnostics.format_text` wants it."""
        return {self.filename: self.source_lines}


# --------------------------------------------------------------------------------------------------
# Public entry points


def load_yaml(
    path: Path | str,
    *,
    limits: Limits = DEFAULT_LIMITS,
    filename: str | None = None,
) -> LoadedYaml:
    """Load a storyboard file.  ``filename`` (default ``str(path)``) is the name used in diagnostics."""
    path = Path(path)
    name = filename if filename is not None else str(path)
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise YamlError([_too_big(name, size, limits)])
        with path.open("rb") as fh:
            raw = fh.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise YamlError([Diagnostic(name, 0, 0, "", "file not found")]) from None
    except IsADirectoryError:
        raise YamlError([Diagnostic(name, 0, 0, "", "is a directory, not a file")]) from None
    except PermissionError:
        raise YamlError([Diagnostic(name, 0, 0, "", "permission denied: cannot read the file")]) from None
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise YamlError([Diagnostic(name, 0, 0, "", f"cannot read the file: {reason}")]) from None
    if len(raw) > limits.max_bytes:  # the file grew after stat()
        raise YamlError([_too_big(name, len(raw), limits)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        message = f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        raise YamlError([Diagnostic(name, line, column, "", message)]) from None
    return load_yaml_text(text, name, limits=limits)


def load_yaml_text(text: str, filename: str, *, limits: Limits = DEFAULT_LIMITS) -> LoadedYaml:
    """Load a storyboard from a string; ``filename`` is the name used in diagnostics."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise YamlError([_too_big(filename, size, limits)])
    if text.startswith("\ufeff"):  # a byte-order mark is not content; drop it so columns stay right
        text = text[1:]
    source_lines = _split_lines(text)

    bad = NON_PRINTABLE.search(text)
    if bad is not None:
        raise YamlError([_bad_character(text, bad.start(), filename)])

    loader = LOADER(text, filename, limits)
    try:
        root = loader.compose_single()
    except Refused as exc:
        raise YamlError([exc.diagnostic]) from None
    except yaml.MarkedYAMLError as exc:
        raise YamlError([_syntax_error(exc, filename, source_lines)]) from None
    except yaml.reader.ReaderError as exc:  # libyaml's own character checks (byte offsets)
        offset = len(text.encode("utf-8", "surrogatepass")[: int(exc.position)].decode("utf-8", "ignore"))
        raise YamlError([_bad_character(text, offset, filename)]) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error above is marked
        raise YamlError([Diagnostic(filename, 1, 1, "", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()

    errors = list(loader.errors)
    if root is None:
        raise YamlError([Diagnostic(filename, 1, 1, "", "the file is empty; expected a mapping of keys")])
    real_root = target_of(root)
    if not isinstance(real_root, MappingNode):
        line, col = position_of(root)
        kind = "a list" if isinstance(real_root, SequenceNode) else KIND_NAMES.get(real_root.tag, "a value")
        message = f"the top level must be a mapping of keys, not {kind}"
        errors.append(Diagnostic(filename, line, col, "", message))
        raise YamlError(_cap(errors, limits))

    builder = Builder(loader, filename, limits)
    data = builder.build(root, ())
    errors.extend(builder.errors)
    if errors:
        raise YamlError(_cap(finalize(errors), limits))
    return LoadedYaml(data, source_lines, filename, Positions(builder.keys, builder.values))


# --------------------------------------------------------------------------------------------------
# Helpers


def _split_lines(text: str) -> list[str]:
    lines = LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _too_big(filename: str, size: int, limits: Limits) -> Diagnostic:
    return Diagnostic(
        filename,
        1,
        1,
        "",
        f"the file is too large ({size} bytes; the limit is {limits.max_bytes} bytes); refusing to load it",
    )


def _cap(errors: list[Diagnostic], limits: Limits) -> list[Diagnostic]:
    return errors[: limits.max_errors]


def _syntax_error(exc: yaml.MarkedYAMLError, filename: str, lines: list[str]) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, col = position_of(mark) if mark is not None else (1, 1)
    if line > len(lines) and lines:  # the end of the file: point just after the last character
        line, col = len(lines), len(lines[-1]) + 1
    problem = (exc.problem or "invalid YAML").strip()
    at_tab = 1 <= line <= len(lines) and lines[line - 1][col - 1 : col] == "\t"
    if at_tab and ("token" in problem or "tab character" in problem):
        message = "invalid YAML: tabs cannot be used for indentation; use spaces"
        return Diagnostic(filename, line, col, "", message)
    plain = _plain_syntax_message(problem, exc.context_mark)
    if plain is not None:
        return Diagnostic(filename, line, col, "", f"invalid YAML: {plain}")
    message = f"invalid YAML: {problem}"
    if exc.context:
        context = exc.context.strip()
        cmark = exc.context_mark
        if cmark is not None and (mark is None or (cmark.line, cmark.column) != (mark.line, mark.column)):
            context += f" at line {cmark.line + 1}, column {cmark.column + 1}"
        message += f" ({context})"
    return Diagnostic(filename, line, col, "", message)


def _plain_syntax_message(problem: str, context_mark: yaml.Mark | None) -> str | None:
    """A plain sentence for PyYAML's commonest syntax problems (None: keep PyYAML's words)."""
    where = f"at line {context_mark.line + 1}, column {context_mark.column + 1}" if context_mark else "above"
    for close, opener, kind in (("]", "[", "list"), ("}", "{", "mapping")):
        if problem.startswith(f"did not find expected ',' or '{close}'"):
            return (
                f"the {kind} opened with '{opener}' {where} is not closed; "
                f"add the missing '{close}' (or a ',' between entries)"
            )
    if problem.startswith("mapping values are not allowed"):
        return (
            "a ':' is not allowed here; check this line's indentation against the lines above it, "
            "or put a value that contains ': ' in quotes"
        )
    if problem == "did not find expected key" and context_mark is not None:
        return (
            f"expected another 'key: value' of the mapping that starts {where}; "
            "check this line's indentation, or remove the stray text"
        )
    return None


def _bad_character(text: str, position: int, filename: str) -> Diagnostic:
    position = max(0, min(position, len(text)))
    breaks = list(LINE_BREAK.finditer(text, 0, position))
    line = len(breaks) + 1
    column = position - (breaks[-1].end() if breaks else 0) + 1
    code = ord(text[position]) if position < len(text) else 0
    message = f"character U+{code:04X} is not allowed in YAML; remove it"
    return Diagnostic(filename, line, column, "", message)
