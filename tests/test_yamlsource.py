"""Tests for ncfvid.yamlsource: positions, strictness and hostile input."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ncfvid import yamlcompose, yamlsource
from ncfvid.diagnostics import Diagnostic, UserError
from ncfvid.yamlsource import Limits, YamlError, load_yaml, load_yaml_text

BACKENDS = [pytest.param(yamlcompose.PyLoader, id="python")]
if yamlcompose.CParser is not None:
    BACKENDS.append(pytest.param(yamlcompose._CLoader, id="libyaml"))


@pytest.fixture(params=BACKENDS, autouse=True)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test with PyYAML's pure-Python parser and, when available, with libyaml's."""
    monkeypatch.setattr(yamlsource, "LOADER", request.param)  # the name load_yaml_text uses


def errors_of(text: str, **kwargs: object) -> list[Diagnostic]:
    with pytest.raises(YamlError) as info:
        load_yaml_text(text, "s.yaml", **kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, UserError)
    assert all(isinstance(d, Diagnostic) for d in info.value.diagnostics)
    return info.value.diagnostics


def only_error(text: str, **kwargs: object) -> tuple[int, int, str]:
    diags = errors_of(text, **kwargs)
    assert len(diags) == 1, diags
    return diags[0].line, diags[0].column, diags[0].message


# --------------------------------------------------------------------------------------------------
# Data and positions

STORY = """\
# a comment
title: Hello
acts:
  - name: intro
    beats:
      - type: show
        text: "hi"
      - {type: hide, target: {user: Alice, n: 3}}
    tags: [a, b]
meta:
  empty:
  flag: yes
"""


def test_plain_data() -> None:
    loaded = load_yaml_text(STORY, "story.yaml")
    assert loaded.filename == "story.yaml"
    assert loaded.data == {
        "title": "Hello",
        "acts": [
            {
                "name": "intro",
                "beats": [
                    {"type": "show", "text": "hi"},
                    {"type": "hide", "target": {"user": "Alice", "n": 3}},
                ],
                "tags": ["a", "b"],
            }
        ],
        "meta": {"empty": None, "flag": True},
    }
    assert loaded.source_lines[1] == "title: Hello"
    assert loaded.sources == {"story.yaml": loaded.source_lines}


def test_positions_of_keys_and_values() -> None:
    pos = load_yaml_text(STORY, "story.yaml").positions
    assert pos.key(("title",)) == (2, 1)
    assert pos.value(("title",)) == (2, 8)
    assert pos.key(("acts",)) == (3, 1)
    assert pos.value(("acts",)) == (4, 3)  # the block sequence starts at its first dash
    assert pos.key(("acts", 0)) is None  # list items have no key
    assert pos.value(("acts", 0)) == (4, 5)
    assert pos.key(("acts", 0, "beats", 0, "text")) == (7, 9)
    assert pos.value(("acts", 0, "beats", 0, "text")) == (7, 15)
    # flow style
    assert pos.value(("acts", 0, "beats", 1)) == (8, 9)
    assert pos.key(("acts", 0, "beats", 1, "target")) == (8, 22)
    assert pos.value(("acts", 0, "beats", 1, "target")) == (8, 30)
    assert pos.key(("acts", 0, "beats", 1, "target", "n")) == (8, 44)
    assert pos.value(("acts", 0, "beats", 1, "target", "n")) == (8, 47)
    assert pos.value(("acts", 0, "tags", 1)) == (9, 15)
    assert pos.value(("meta", "flag")) == (12, 9)
    assert pos.value(("nope",)) is None
    assert pos.key(("acts", 5)) is None


def test_locate_falls_back_to_the_nearest_ancestor() -> None:
    pos = load_yaml_text(STORY, "story.yaml").positions
    assert pos.locate(("acts", 0, "beats", 0, "text")) == (7, 15)  # exists: the value
    assert pos.locate(("meta", "missing")) == (10, 1)  # parent is a mapping entry: its key
    assert pos.locate(("acts", 0, "beats", 0, "target")) == (6, 9)  # parent is a list item: its value
    assert pos.locate(("acts", 0, "beats", 1, "target", "x", "y")) == (8, 22)
    assert pos.locate(("missing",)) == pos.value(()) == (2, 1)  # the top-level mapping
    assert pos.locate(()) == (2, 1)


def test_positions_count_characters_not_bytes() -> None:
    loaded = load_yaml_text("näme: ünïcødé\nb: [€, 😀, x]\n", "u.yaml")
    assert loaded.positions.value(("näme",)) == (1, 7)
    assert loaded.positions.value(("b", 2)) == (2, 11)


def test_byte_order_mark_and_crlf() -> None:
    loaded = load_yaml_text("\ufeffa: 1\r\nb:\r\n  c: 2\r\n", "w.yaml")
    assert loaded.data == {"a": 1, "b": {"c": 2}}
    assert loaded.positions.key(("a",)) == (1, 1)
    assert loaded.positions.value(("b", "c")) == (3, 6)
    assert loaded.source_lines == ["a: 1", "b:", "  c: 2"]


def test_scalars_resolve_like_safe_load() -> None:
    text = "i: 12\nf: 1.5\nh: 0x1F\nt: true\nn: ~\ns: '12'\nd: 2024-05-01\ninf: .inf\neq: =\nstr: !!str 12\n"
    data = load_yaml_text(text, "s.yaml").data
    assert data == {
        "i": 12,
        "f": 1.5,
        "h": 31,
        "t": True,
        "n": None,
        "s": "12",
        "d": "2024-05-01",  # timestamps stay strings
        "inf": float("inf"),
        "eq": "=",
        "str": "12",
    }
    assert all(type(v) in (int, float, bool, str, type(None)) for v in data.values())


def test_aliases_expand_to_independent_copies_located_at_the_anchor() -> None:
    loaded = load_yaml_text("base: &b {x: 1, y: [2]}\nuse: *b\n", "a.yaml")
    assert loaded.data["use"] == {"x": 1, "y": [2]}
    assert loaded.data["use"] is not loaded.data["base"]
    assert loaded.positions.value(("use",)) == (2, 6)  # the alias itself
    assert loaded.positions.value(("use", "x")) == (1, 14)  # inside: the anchored text


# --------------------------------------------------------------------------------------------------
# Strictness


def test_duplicate_keys() -> None:
    diags = errors_of("title: a\nacts: []\ntitle: b\nm: {k: 1, k: 2}\n")
    assert [(d.line, d.column, d.path, d.message) for d in diags] == [
        (3, 1, "title", "duplicate key 'title' (first defined at line 1)"),
        (4, 11, "m.k", "duplicate key 'k' (first defined at line 4)"),
    ]


@pytest.mark.parametrize(
    ("text", "column", "tag"),
    [
        ("a: !!python/object/apply:os.system ['echo hi']\n", 4, "!!python/object/apply:os.system"),
        ("a: !!python/name:os.system ''\n", 4, "!!python/name:os.system"),
        ("a: !!python/object:collections.OrderedDict {}\n", 4, "!!python/object:collections.OrderedDict"),
        ("a: !foo bar\n", 4, "!foo"),
        ("a: !!binary aGVsbG8=\n", 4, "!!binary"),
        ("a: !!set {x, y}\n", 4, "!!set"),
        ("a:\n  - !<tag:example.com,2000:x> 1\n", 5, "tag:example.com,2000:x"),
    ],
)
def test_tags_are_refused(text: str, column: int, tag: str) -> None:
    line, col, message = only_error(text)
    assert (line, col) == (text.count("\n"), column)
    assert message == f"tags are not allowed in a storyboard: {tag}"


def test_core_tags_are_checked() -> None:
    diags = errors_of("a: !!int abc\nb: !!str {x: 1}\nc: !!map [1]\n")
    assert [(d.line, d.column, d.message) for d in diags] == [
        (1, 4, "'abc' is not a valid !!int value"),
        (2, 4, "tag !!str cannot be used on a mapping"),
        (3, 4, "tag !!map cannot be used on a list"),
    ]


def test_keys_must_be_strings() -> None:
    diags = errors_of("1: a\nnull: b\non: c\n[x]: d\n'2': ok\n2024-01-01: ok\n")
    assert [(d.line, d.column, d.message) for d in diags] == [
        (1, 1, "keys must be strings, but '1' is read as an integer; put it in quotes"),
        (2, 1, "keys must be strings, but 'null' is read as an empty value (null); put it in quotes"),
        (3, 1, "keys must be strings, but 'on' is read as a boolean; put it in quotes"),
        (4, 1, "keys must be strings, not a list"),
    ]


def test_merge_keys_are_refused() -> None:
    line, col, message = only_error("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert (line, col) == (3, 3)
    assert message.startswith("merge keys ('<<') are not supported")
    # a quoted "<<" is an ordinary key, and "<<" as a value is a string
    assert load_yaml_text("'<<': 1\nb: <<\n", "s.yaml").data == {"<<": 1, "b": "<<"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "the top level must be a mapping of keys, not a list"),
        ("just text\n", "the top level must be a mapping of keys, not a string"),
        ("42\n", "the top level must be a mapping of keys, not an integer"),
        ("---\n", "the top level must be a mapping of keys, not an empty value (null)"),
        ("", "the file is empty; expected a mapping of keys"),
        ("# only a comment\n", "the file is empty; expected a mapping of keys"),
    ],
)
def test_top_level_must_be_a_mapping(text: str, message: str) -> None:
    assert only_error(text)[2] == message


def test_single_document_only() -> None:
    assert only_error("a: 1\n---\nb: 2\n") == (
        2,
        1,
        "a storyboard must be a single YAML document, but a second one starts here",
    )


# --------------------------------------------------------------------------------------------------
# Syntax errors


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: 1\nb: [1, 2\nc: 3\n", (3, 2)),  # unclosed flow sequence: found at the "c: 3" line
        ("a: 1\nb: 'open\n", (2, 9)),  # unclosed quote: at the end of the file
        ("a:\n  b: 1\n c: 2\n", (3, 2)),  # bad indentation
        ("a: b: c\n", (1, 5)),  # mapping values are not allowed here
        ("a: *nope\n", (1, 4)),  # unknown alias
        ("a: &x 1\nb: &x 2\n", (2, 4)),  # duplicate anchor
        ("a:\n\tb: 1\n", (2, 1)),  # tab indentation
    ],
)
def test_syntax_errors_point_at_the_problem(text: str, where: tuple[int, int]) -> None:
    line, col, message = only_error(text)
    assert (line, col) == where
    assert "\n" not in message and "Traceback" not in message


def test_syntax_error_messages() -> None:
    assert only_error("a: *nope\n")[2] == "unknown alias *nope (no anchor &nope before it)"
    assert only_error("a: &x 1\nb: &x 2\n")[2] == "duplicate anchor &x (first defined at line 1)"
    assert only_error("a:\n\tb: 1\n")[2] == "invalid YAML: tabs cannot be used for indentation; use spaces"
    message = only_error("a: 1\nb: 'open\n")[2]
    assert message.startswith("invalid YAML: ") and "quoted scalar at line 2, column 4" in message


def test_control_characters() -> None:
    assert only_error("a: x\nb: y\x07z\n") == (2, 5, "character U+0007 is not allowed in YAML; remove it")


# --------------------------------------------------------------------------------------------------
# Hostile input


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
        prev = name
    return "\n".join(lines) + "\n"


def test_billion_laughs_fails_fast() -> None:
    start = time.perf_counter()
    line, col, message = only_error(billion_laughs())
    assert time.perf_counter() - start < 1.0
    assert "more than 100000 values once aliases are expanded" in message
    assert line == 6  # f: 9**5 * 10 > 100000; refused at the alias that crosses the limit
    assert col > 1


def test_node_limit_counts_aliases_once_per_use() -> None:
    text = "a: &a [1, 2, 3, 4]\nb: [*a, *a, *a]\n"  # 2 keys + 5 + (1 + 3 * 5) = 23 nodes, plus the root
    assert load_yaml_text(text, "s.yaml", limits=Limits(max_nodes=24)).data["b"][2] == [1, 2, 3, 4]
    line, col, message = only_error(text, limits=Limits(max_nodes=23))
    assert (line, col) == (2, 13)
    assert message.startswith("the document is too large: more than 23 values")


def test_plain_node_limit() -> None:
    start = time.perf_counter()
    line, col, _ = only_error("a: [" + "1," * 2000 + "]\n", limits=Limits(max_nodes=1000))
    assert time.perf_counter() - start < 1.0
    assert line == 1 and col > 1


def test_recursive_alias_is_refused() -> None:
    assert only_error("a: &a [1, *a]\n") == (1, 11, "alias *a refers to a value that contains it")


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 100 + "]" * 100 + "\n",
        "a: " + "{k: " * 100 + "1" + "}" * 100 + "\n",
        "a:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(100)),
        "a: " + "[" * 200_000,  # unbalanced and huge: still refused quickly
    ],
    ids=["flow-seq", "flow-map", "block", "unclosed"],
)
def test_deep_nesting_is_refused(text: str) -> None:
    start = time.perf_counter()
    _, _, message = only_error(text)
    # The pure-Python scanner looks up to 1024 characters ahead for a possible key, which costs
    # ~0.5 s on a line of "[[[[..." whatever its length; libyaml takes milliseconds.
    assert time.perf_counter() - start < (1.0 if yamlsource.LOADER is not yamlcompose.PyLoader else 2.0)
    # libyaml has its own limit (1000 levels) that may trip first on one long line of brackets
    assert "nesting is too deep: more than 64 levels" in message or "maximum nesting depth" in message


def test_nesting_limit_counts_aliases() -> None:
    inner = "[" * 40 + "]" * 40
    ok = "a: &a " + inner + "\nb: " + "[" * 20 + "*a" + "]" * 20 + "\n"
    assert load_yaml_text(ok, "s.yaml").data["b"]
    deep = "a: &a " + inner + "\nb: " + "[" * 30 + "*a" + "]" * 30 + "\n"
    line, col, message = only_error(deep)
    assert (line, col) == (2, 34)
    assert message == "nesting is too deep: more than 64 levels; refusing to load it"


def test_size_limit_on_text() -> None:
    text = "a: " + "x" * 2000 + "\n"
    assert only_error(text, limits=Limits(max_bytes=1000)) == (
        1,
        1,
        "the file is too large (2004 bytes; the limit is 1000 bytes); refusing to load it",
    )


def test_size_limit_on_file_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as fh:
        fh.truncate(3 * 1024 * 1024)  # sparse: 3 MiB of NUL bytes that must never be parsed
    start = time.perf_counter()
    with pytest.raises(YamlError) as info:
        load_yaml(path)
    assert time.perf_counter() - start < 0.5
    (diag,) = info.value.diagnostics
    assert (diag.file, diag.line, diag.column) == (str(path), 1, 1)
    assert diag.message.startswith("the file is too large (3145728 bytes; the limit is 1048576 bytes);")


def test_errors_are_capped() -> None:
    text = "".join(f"k: {i}\n" for i in range(200))
    assert len(errors_of(text, limits=Limits(max_errors=10))) == 10


# --------------------------------------------------------------------------------------------------
# Files


def test_load_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("title: x\n", encoding="utf-8")
    loaded = load_yaml(path)
    assert loaded.data == {"title": "x"} and loaded.filename == str(path)
    assert load_yaml(path, filename="storyboards/ok.yaml").filename == "storyboards/ok.yaml"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(YamlError) as info:
        load_yaml(tmp_path / "nope.yaml")
    assert info.value.diagnostics == [Diagnostic(str(tmp_path / "nope.yaml"), 0, 0, "", "file not found")]
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: file not found"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(YamlError) as info:
        load_yaml(tmp_path)
    assert info.value.diagnostics[0].line == 0
    assert "directory" in info.value.diagnostics[0].message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: ok\nname: Jos\xe9\n".encode("latin-1"))
    with pytest.raises(YamlError) as info:
        load_yaml(path)
    (diag,) = info.value.diagnostics
    assert (diag.line, diag.column) == (2, 10)
    assert diag.message == "the file is not valid UTF-8 (byte 0xe9 at offset 19)"


def test_import_is_light() -> None:
    code = (
        "import sys, ncfvid.yamlsource, ncfvid.diagnostics; "
        "print(sorted(m for m in ('manim', 'numpy', 'pydantic', 'ruamel') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
