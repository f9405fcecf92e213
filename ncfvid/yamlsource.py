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

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    CParser = None

from ncfvid.diagnostics import Diagnostic, UserError, finalize, format_path

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

#: A location inside the data as pydantic reports it: str keys and int list indices.
Loc = tuple[str | int, ...]
#: A 1-based (line, column).
Position = tuple[int, int]


@dataclass(frozen=True)
class Limits:
    """Limits protecting the loader from hostile or runaway input."""

    max_bytes: int = 1024 * 1024  # 1 MiB, checked before parsing
    max_nodes: int = 100_000  # after alias expansion
    max_depth: int = 64  # nested mappings/sequences, after alias expansion
    max_errors: int = 50  # collected errors (duplicate keys, tags...) reported at once


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

    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        raise YamlError([_bad_character(text, bad.start(), filename)])

    loader = _LOADER(text, filename, limits)
    try:
        root = loader.compose_single()
    except _Refused as exc:
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
    real_root = _target(root)
    if not isinstance(real_root, MappingNode):
        line, col = _pos(root)
        kind = "a list" if isinstance(real_root, SequenceNode) else _KIND_NAMES.get(real_root.tag, "a value")
        message = f"the top level must be a mapping of keys, not {kind}"
        errors.append(Diagnostic(filename, line, col, "", message))
        raise YamlError(_cap(errors, limits))

    builder = _Builder(loader, filename, limits)
    data = builder.build(root, ())
    errors.extend(builder.errors)
    if errors:
        raise YamlError(_cap(finalize(errors), limits))
    return LoadedYaml(data, source_lines, filename, Positions(builder.keys, builder.values))


# --------------------------------------------------------------------------------------------------
# Composer with limits

_CORE = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_CORE + t for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP, _TIMESTAMP, _MERGE = (_CORE + t for t in ("seq", "map", "timestamp", "merge"))
_SCALAR_TAGS = {_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP}
_KIND_NAMES = {
    _STR: "a string",
    _INT: "an integer",
    _FLOAT: "a number",
    _BOOL: "a boolean",
    _NULL: "an empty value (null)",
    _TIMESTAMP: "a date",
}
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # what PyYAML's reader counts as a new line
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE  # characters YAML does not allow anywhere


class _AliasNode(Node):
    """Stands where ``*name`` is written, pointing at the anchored node (PyYAML would lose the mark)."""

    id = "alias"

    def __init__(self, target: Node, start_mark: yaml.Mark, end_mark: yaml.Mark) -> None:
        super().__init__(target.tag, target.value, start_mark, end_mark)
        self.target = target


class _Refused(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _target(node: Node) -> Node:
    return node.target if isinstance(node, _AliasNode) else node


def _pos(node_or_mark: Node | yaml.Mark) -> Position:
    mark = node_or_mark.start_mark if isinstance(node_or_mark, Node) else node_or_mark
    return (mark.line + 1, mark.column + 1)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


class _ComposerMixin:
    """Composer that counts nodes (aliases expanded) and nesting depth, and checks explicit tags.

    Mixed into a loader providing the event API (``check_event``/``peek_event``/``get_event``), the
    resolver and SafeConstructor: PyYAML's pure-Python ``SafeLoader``, or libyaml's ``CParser``
    (same events and marks, several times faster) when PyYAML was built with it.
    """

    anchors: dict[str, Node]

    def _setup(self, filename: str, limits: Limits) -> None:
        self.filename = filename
        self.limits = limits
        self.anchors = {}
        self.errors: list[Diagnostic] = []
        self._depth = 0  # collections enclosing the node being composed
        self._deepest = 0  # deepest (expanded) collection level seen in the current subtree
        self._total = 0  # nodes so far, aliases counted with their subtree's size
        self._sizes: dict[int, int] = {}  # id(anchored node) -> expanded size
        self._heights: dict[int, int] = {}  # id(anchored node) -> expanded nesting height
        self._open: set[int] = set()  # anchored collections still being composed

    def _refuse(self, mark: yaml.Mark, message: str) -> _Refused:
        line, col = _pos(mark)
        return _Refused(Diagnostic(self.filename, line, col, "", message))

    def _count(self, amount: int, mark: yaml.Mark) -> None:
        self._total += amount
        if self._total > self.limits.max_nodes:
            raise self._refuse(
                mark,
                f"the document is too large: more than {self.limits.max_nodes} values once aliases "
                "are expanded; refusing to load it",
            )

    def _reach(self, level: int, mark: yaml.Mark) -> None:
        if level > self.limits.max_depth:
            raise self._refuse(
                mark, f"nesting is too deep: more than {self.limits.max_depth} levels; refusing to load it"
            )
        self._deepest = max(self._deepest, level)

    def compose_single(self) -> Node | None:
        """Like ``get_single_node`` but with a plain message for a second document."""
        self.get_event()  # STREAM-START
        document = None
        if not self.check_event(StreamEndEvent):
            document = self.compose_document()
        if not self.check_event(StreamEndEvent):
            event = self.get_event()
            raise self._refuse(
                event.start_mark,
                "a storyboard must be a single YAML document, but a second one starts here",
            )
        self.get_event()  # STREAM-END
        return document

    def compose_document(self) -> Node:
        self.get_event()  # DOCUMENT-START
        node = self.compose_node(None, None)
        self.get_event()  # DOCUMENT-END
        self.anchors = {}
        return node

    def compose_scalar_node(self, anchor: str | None) -> ScalarNode:
        event = self.get_event()
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(ScalarNode, event.value, event.implicit)
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        if anchor is not None:
            self.anchors[anchor] = node
        return node

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            event = self.get_event()
            anchor = event.anchor
            if anchor not in self.anchors:
                message = f"unknown alias *{anchor} (no anchor &{anchor} before it)"
                raise self._refuse(event.start_mark, message)
            target = self.anchors[anchor]
            if id(target) in self._open:
                raise self._refuse(event.start_mark, f"alias *{anchor} refers to a value that contains it")
            self._count(self._sizes[id(target)], event.start_mark)
            self._reach(self._depth + self._heights[id(target)], event.start_mark)
            return _AliasNode(target, event.start_mark, event.end_mark)

        event = self.peek_event()
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            first = _pos(self.anchors[anchor])[0]
            message = f"duplicate anchor &{anchor} (first defined at line {first})"
            raise self._refuse(event.start_mark, message)
        explicit_tag = event.tag if event.tag not in (None, "!") else None
        before = self._total
        self._count(1, event.start_mark)

        is_collection = isinstance(event, SequenceStartEvent | MappingStartEvent)
        outer_deepest = self._deepest
        if is_collection:
            self._depth += 1
            self._deepest = 0
            self._reach(self._depth, event.start_mark)
        self.descend_resolver(parent, index)
        if isinstance(event, ScalarEvent):
            node = self.compose_scalar_node(anchor)
        elif isinstance(event, SequenceStartEvent):
            node = self.compose_sequence_node(anchor)
        else:
            node = self.compose_mapping_node(anchor)
        self.ascend_resolver()
        if is_collection:
            height = self._deepest - self._depth + 1
            self._depth -= 1
            self._deepest = max(outer_deepest, self._deepest)
        else:
            height = 0
        if anchor is not None:
            self._open.discard(id(node))
            self._sizes[id(node)] = self._total - before
            self._heights[id(node)] = height
        if explicit_tag is not None:
            self._check_tag(node, explicit_tag)
        return node

    # PyYAML registers an anchor before composing the collection's children; these copies also mark
    # it "open" until it is complete, so that an alias to an enclosing anchor is refused.
    def compose_sequence_node(self, anchor: str | None) -> SequenceNode:
        start_event = self.get_event()
        tag = start_event.tag
        if tag is None or tag == "!":
            tag = self.resolve(SequenceNode, None, start_event.implicit)
        node = SequenceNode(tag, [], start_event.start_mark, None, flow_style=start_event.flow_style)
        if anchor is not None:
            self.anchors[anchor] = node
            self._open.add(id(node))
        index = 0
        while not self.check_event(SequenceEndEvent):
            node.value.append(self.compose_node(node, index))
            index += 1
        node.end_mark = self.get_event().end_mark
        return node

    def compose_mapping_node(self, anchor: str | None) -> MappingNode:
        start_event = self.get_event()
        tag = start_event.tag
        if tag is None or tag == "!":
            tag = self.resolve(MappingNode, None, start_event.implicit)
        node = MappingNode(tag, [], start_event.start_mark, None, flow_style=start_event.flow_style)
        if anchor is not None:
            self.anchors[anchor] = node
            self._open.add(id(node))
        while not self.check_event(MappingEndEvent):
            item_key = self.compose_node(node, None)
            item_value = self.compose_node(node, item_key)
            node.value.append((item_key, item_value))
        node.end_mark = self.get_event().end_mark
        return node

    def _check_tag(self, node: Node, tag: str) -> None:
        allowed = (
            (isinstance(node, ScalarNode) and tag in _SCALAR_TAGS)
            or (isinstance(node, SequenceNode) and tag == _SEQ)
            or (isinstance(node, MappingNode) and tag == _MAP)
        )
        if allowed:
            return
        line, col = _pos(node)
        if tag in _SCALAR_TAGS | {_SEQ, _MAP}:
            kind = {ScalarNode: "a plain value", SequenceNode: "a list", MappingNode: "a mapping"}[type(node)]
            message = f"tag {_short_tag(tag)} cannot be used on {kind}"
        else:
            message = f"tags are not allowed in a storyboard: {_short_tag(tag)}"
        self.errors.append(Diagnostic(self.filename, line, col, "", message))


class _PyLoader(_ComposerMixin, yaml.SafeLoader):
    def __init__(self, text: str, filename: str, limits: Limits) -> None:
        yaml.SafeLoader.__init__(self, text)
        self._setup(filename, limits)


if CParser is not None:

    class _CLoader(_ComposerMixin, CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        def __init__(self, text: str, filename: str, limits: Limits) -> None:
            CParser.__init__(self, text)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._setup(filename, limits)

    _LOADER: type[_ComposerMixin] = _CLoader
else:  # pragma: no cover - PyYAML without libyaml
    _LOADER = _PyLoader


# --------------------------------------------------------------------------------------------------
# Building plain data


class _Builder:
    def __init__(self, loader: _ComposerMixin, filename: str, limits: Limits) -> None:
        self.loader = loader
        self.filename = filename
        self.limits = limits
        self.errors: list[Diagnostic] = []
        self.keys: dict[Loc, Position] = {}
        self.values: dict[Loc, Position] = {}

    def error(self, node_or_mark: Node | yaml.Mark, path: Loc, message: str) -> None:
        line, col = _pos(node_or_mark)
        self.errors.append(Diagnostic(self.filename, line, col, format_path(path), message))

    def build(self, node: Node, path: Loc) -> Any:
        self.values[path] = _pos(node)  # an alias is located where it is written
        node = _target(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node: Node, path: Loc) -> Any:
        tag = node.tag
        try:
            if tag == _INT:
                return self.loader.construct_yaml_int(node)
            if tag == _FLOAT:
                return self.loader.construct_yaml_float(node)
            if tag == _BOOL:
                return self.loader.construct_yaml_bool(node)
            if tag == _NULL:
                return None
        except (ValueError, KeyError, TypeError):
            if len(node.value) > 40:
                self.error(node, path, f"not a valid {_short_tag(tag)} value (too long)")
            else:
                self.error(node, path, f"'{node.value}' is not a valid {_short_tag(tag)} value")
            return node.value
        # str, timestamp (kept as written), and the odd implicit tags (``=``, ``<<`` as a value).
        return node.value

    def _mapping(self, node: MappingNode, path: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is None:
                continue
            child = (*path, key)
            if key in first_seen:
                first_line = _pos(first_seen[key])[0]
                self.error(key_node, child, f"duplicate key '{key}' (first defined at line {first_line})")
                continue
            first_seen[key] = key_node
            self.keys[child] = _pos(key_node)
            result[key] = self.build(value_node, child)
        return result

    def _key(self, key_node: Node, path: Loc) -> str | None:
        real = _target(key_node)
        if isinstance(real, ScalarNode) and real.tag == _MERGE:
            self.error(
                key_node,
                path,
                "merge keys ('<<') are not supported in a storyboard; write the keys out "
                "(anchors and aliases for whole values are fine)",
            )
            return None
        if isinstance(real, ScalarNode) and real.tag in (_STR, _TIMESTAMP):
            return str(real.value)
        if isinstance(real, ScalarNode):
            kind = _KIND_NAMES.get(real.tag, "not a string")
            self.error(
                key_node,
                path,
                f"keys must be strings, but '{real.value}' is read as {kind}; put it in quotes",
            )
        else:
            kind = "a list" if isinstance(real, SequenceNode) else "a mapping"
            self.error(key_node, path, f"keys must be strings, not {kind}")
        return None


# --------------------------------------------------------------------------------------------------
# Helpers


def _split_lines(text: str) -> list[str]:
    lines = _LINE_BREAK.split(text)
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
    line, col = _pos(mark) if mark is not None else (1, 1)
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
    breaks = list(_LINE_BREAK.finditer(text, 0, position))
    line = len(breaks) + 1
    column = position - (breaks[-1].end() if breaks else 0) + 1
    code = ord(text[position]) if position < len(text) else 0
    message = f"character U+{code:04X} is not allowed in YAML; remove it"
    return Diagnostic(filename, line, column, "", message)
