"""The composer under `ncfvid.yamlsource`: PyYAML's node tree built with limits (nodes after alias
expansion, nesting depth, explicit tags), then turned into plain data while the position of every key
and value is recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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

from ncfvid.diagnostics import Diagnostic, format_path

Loc = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based (line, column)


@dataclass(frozen=True)
class Limits:
    """Limits protecting the loader from hostile or runaway input."""

    max_bytes: int = 1024 * 1024  # 1 MiB, checked before parsing
    max_nodes: int = 100_000  # after alias expansion
    max_depth: int = 64  # nested mappings/sequences, after alias expansion
    max_errors: int = 50  # collected errors (duplicate keys, tags...) reported at once


# --------------------------------------------------------------------------------------------------
# Composer with limits

CORE = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (CORE + t for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP, _TIMESTAMP, _MERGE = (CORE + t for t in ("seq", "map", "timestamp", "merge"))
_SCALAR_TAGS = {_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP}
KIND_NAMES = {
    _STR: "a string",
    _INT: "an integer",
    _FLOAT: "a number",
    _BOOL: "a boolean",
    _NULL: "an empty value (null)",
    _TIMESTAMP: "a date",
}
LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # what PyYAML's reader counts as a new line
NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE  # characters YAML does not allow anywhere


class _AliasNode(Node):
    """Stands where ``*name`` is written, pointing at the anchored node (PyYAML would lose the mark)."""

    id = "alias"

    def __init__(self, target: Node, start_mark: yaml.Mark, end_mark: yaml.Mark) -> None:
        super().__init__(target.tag, target.value, start_mark, end_mark)
        self.target = target


class Refused(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def target_of(node: Node) -> Node:
    return node.target if isinstance(node, _AliasNode) else node


def position_of(node_or_mark: Node | yaml.Mark) -> Position:
    mark = node_or_mark.start_mark if isinstance(node_or_mark, Node) else node_or_mark
    return (mark.line + 1, mark.column + 1)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(CORE) :] if tag.startswith(CORE) else tag


class ComposerMixin:
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

    def _refuse(self, mark: yaml.Mark, message: str) -> Refused:
        line, col = position_of(mark)
        return Refused(Diagnostic(self.filename, line, col, "", message))

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
            first = position_of(self.anchors[anchor])[0]
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
        line, col = position_of(node)
        if tag in _SCALAR_TAGS | {_SEQ, _MAP}:
            kind = {ScalarNode: "a plain value", SequenceNode: "a list", MappingNode: "a mapping"}[type(node)]
            message = f"tag {_short_tag(tag)} cannot be used on {kind}"
        else:
            message = f"tags are not allowed in a storyboard: {_short_tag(tag)}"
        self.errors.append(Diagnostic(self.filename, line, col, "", message))


class PyLoader(ComposerMixin, yaml.SafeLoader):
    def __init__(self, text: str, filename: str, limits: Limits) -> None:
        yaml.SafeLoader.__init__(self, text)
        self._setup(filename, limits)


if CParser is not None:

    class _CLoader(ComposerMixin, CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        def __init__(self, text: str, filename: str, limits: Limits) -> None:
            CParser.__init__(self, text)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._setup(filename, limits)

    LOADER: type[ComposerMixin] = _CLoader
else:  # pragma: no cover - PyYAML without libyaml
    LOADER = PyLoader


# --------------------------------------------------------------------------------------------------
# Building plain data


class Builder:
    def __init__(self, loader: ComposerMixin, filename: str, limits: Limits) -> None:
        self.loader = loader
        self.filename = filename
        self.limits = limits
        self.errors: list[Diagnostic] = []
        self.keys: dict[Loc, Position] = {}
        self.values: dict[Loc, Position] = {}

    def error(self, node_or_mark: Node | yaml.Mark, path: Loc, message: str) -> None:
        line, col = position_of(node_or_mark)
        self.errors.append(Diagnostic(self.filename, line, col, format_path(path), message))

    def build(self, node: Node, path: Loc) -> Any:
        self.values[path] = position_of(node)  # an alias is located where it is written
        node = target_of(node)
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
                first_line = position_of(first_seen[key])[0]
                self.error(key_node, child, f"duplicate key '{key}' (first defined at line {first_line})")
                continue
            first_seen[key] = key_node
            self.keys[child] = position_of(key_node)
            result[key] = self.build(value_node, child)
        return result

    def _key(self, key_node: Node, path: Loc) -> str | None:
        real = target_of(key_node)
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
            kind = KIND_NAMES.get(real.tag, "not a string")
            self.error(
                key_node,
                path,
                f"keys must be strings, but '{real.value}' is read as {kind}; put it in quotes",
            )
        else:
            kind = "a list" if isinstance(real, SequenceNode) else "a mapping"
            self.error(key_node, path, f"keys must be strings, not {kind}")
        return None
