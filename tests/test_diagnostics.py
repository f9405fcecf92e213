"""Tests for ncfvid.diagnostics: pydantic errors mapped to YAML positions, and the output formats."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Literal

import pytest
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ncfvid.diagnostics import (
    Diagnostic,
    UserError,
    finalize,
    format_github,
    format_json,
    format_path,
    format_text,
)
from ncfvid.validationerrors import from_validation_error
from ncfvid.yamlsource import LoadedYaml, load_yaml_text

# --------------------------------------------------------------------------------------------------
# A small strict model in the style of the storyboard schema


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Target(Strict):
    user: str
    item: str | None = None


class Show(Strict):
    component: Literal["show"]
    text: str
    color: Color = Color.RED


class Highlight(Strict):
    component: Literal["highlight"]
    target: Target
    strength: float = Field(1.0, gt=0, le=1)


class Pause(Strict):
    component: Literal["pause"]
    seconds: int | str = 1


Beat = Annotated[Show | Highlight | Pause, Field(discriminator="component")]


class Act(Strict):
    title: str = Field(min_length=1, max_length=20)
    users: list[str] = []
    beats: list[Beat] = Field(min_length=1)
    camera: Target | int = 0

    @field_validator("title")
    @classmethod
    def no_shouting(cls, value: str) -> str:
        if value.isupper():
            raise ValueError("titles must not be all capitals")
        return value

    @model_validator(mode="after")
    def targets_are_users(self) -> Act:
        for i, beat in enumerate(self.beats):
            if isinstance(beat, Highlight) and self.users and beat.target.user not in self.users:
                import difflib

                close = difflib.get_close_matches(beat.target.user, self.users, n=1)
                raise PydanticCustomError(
                    "unknown_user",
                    "'{user}' is not a user of the table; did you mean '{suggestion}'?",
                    {
                        "user": beat.target.user,
                        "suggestion": close[0] if close else "",
                        "loc": ("beats", i, "target", "user"),
                    },
                )
        return self


def parse_size(value: str) -> str:
    if not value.endswith("px"):
        raise ValueError(f"bad size '{value}'; write it like '12px'")
    return value


class Storyboard(Strict):
    title: str
    fps: int = 30
    mode: Literal["draft", "final"] = "draft"
    acts: list[Act]
    extras: dict[str, int] = {}
    size: int | Annotated[str, AfterValidator(parse_size)] = 0
    names: dict[Annotated[str, StringConstraints(pattern=r"^[a-z]+$")], str] = {}


def check(text: str, model: type[BaseModel] = Storyboard) -> tuple[LoadedYaml, list[Diagnostic]]:
    loaded = load_yaml_text(text, "story.yaml")
    with pytest.raises(ValidationError) as info:
        model.model_validate(loaded.data)
    return loaded, from_validation_error(info.value, loaded, model)


def summary(diags: list[Diagnostic]) -> list[tuple[int, int, str, str]]:
    return [(d.line, d.column, d.path, d.message) for d in diags]


# --------------------------------------------------------------------------------------------------
# from_validation_error


def test_missing_keys_point_at_the_parent() -> None:
    _, diags = check("acts:\n  - users: [Alice]\n    beats:\n      - component: show\n")
    assert summary(diags) == [
        (1, 1, "", "missing required key 'title'"),
        (2, 5, "acts[0]", "missing required key 'title'"),
        (4, 9, "acts[0].beats[0]", "missing required key 'text'"),
    ]


def test_missing_key_in_nested_mapping_points_at_its_key() -> None:
    text = "title: t\nacts:\n  - title: a\n    beats:\n      - component: highlight\n"
    text += "        target:\n          item: x\n"
    _, diags = check(text)
    assert summary(diags) == [(6, 9, "acts[0].beats[0].target", "missing required key 'user'")]


def test_unknown_key_suggests_a_close_match() -> None:
    _, diags = check("titel: t\nacts:\n  - title: a\n    beats: [{component: show, txet: hi}]\n")
    assert summary(diags) == [
        (1, 1, "", "missing required key 'title'"),
        (1, 1, "", "unknown key 'titel'; did you mean 'title'?"),
        (4, 13, "acts[0].beats[0]", "missing required key 'text'"),
        (4, 31, "acts[0].beats[0]", "unknown key 'txet'; did you mean 'text'?"),
    ]


def test_unknown_key_lists_allowed_keys_when_nothing_is_close() -> None:
    _, diags = check("title: t\nacts:\n  - title: a\n    beats: [{component: pause, zzz: 1}]\n")
    assert summary(diags) == [
        (4, 32, "acts[0].beats[0]", "unknown key 'zzz'; allowed keys are: component, seconds"),
    ]


def test_unknown_key_through_union_member_and_dict() -> None:
    text = "title: t\nacts:\n  - title: a\n    camera: {usr: x}\n    beats: [{component: pause}]\n"
    _, diags = check(text)
    # the int member's "expected an integer" is dropped: the mapping was clearly meant as a Target
    assert summary(diags) == [
        (4, 5, "acts[0].camera", "missing required key 'user'"),  # at the key: the mapping lacks it
        (4, 14, "acts[0].camera", "unknown key 'usr'; did you mean 'user'?"),
    ]


def test_discriminator_errors() -> None:
    text = (
        "title: t\nacts:\n  - title: a\n    beats:\n"
        "      - component: hilight\n"
        "      - text: no component\n"
        "      - just text\n"
    )
    _, diags = check(text)
    assert summary(diags) == [
        (
            5,
            20,
            "acts[0].beats[0].component",
            "'hilight' is not one of: show, highlight, pause; did you mean 'highlight'?",
        ),
        (6, 9, "acts[0].beats[1]", "missing required key 'component'"),
        (7, 9, "acts[0].beats[2]", "expected a mapping, got 'just text'"),
    ]


def test_tagged_union_loc_is_cleaned() -> None:
    line = "      - {component: highlight, target: {user: 5}, strength: 2}"
    loaded, diags = check("title: t\nacts:\n  - title: a\n    beats:\n" + line + "\n")
    assert summary(diags) == [
        (
            5,
            line.index("5") + 1,
            "acts[0].beats[0].target.user",
            "expected a string, got 5; put it in quotes if it is meant as text",
        ),
        (5, line.index("2") + 1, "acts[0].beats[0].strength", "must be at most 1, got 2"),
    ]


def test_plain_union_errors_are_merged() -> None:
    text = "title: t\nacts:\n  - title: a\n    beats: [{component: pause, seconds: [1]}]\n    camera: [1]\n"
    _, diags = check(text)
    assert summary(diags) == [
        (4, 41, "acts[0].beats[0].seconds", "expected an integer or a string, got a list"),
        (5, 13, "acts[0].camera", "expected a mapping or an integer, got a list"),
    ]


def test_function_after_union_member() -> None:
    _, diags = check("title: t\nacts: [{title: a, beats: [{component: pause}]}]\nsize: big\n")
    # the str member accepted the type, so "expected an integer" from the int member is dropped
    assert summary(diags) == [(3, 7, "size", "bad size 'big'; write it like '12px'")]
    _, diags = check("title: t\nacts: [{title: a, beats: [{component: pause}]}]\nsize: [1]\n")
    assert summary(diags) == [(3, 7, "size", "expected an integer or a string, got a list")]


def test_invalid_dict_key_points_at_the_key() -> None:
    _, diags = check("title: t\nacts: [{title: a, beats: [{component: pause}]}]\nnames: {ok: x, Bad: y}\n")
    assert summary(diags) == [(3, 16, "names.Bad", "'Bad' does not match the pattern '^[a-z]+$'")]


def test_literal_enum_and_type_messages() -> None:
    text = (
        "title: t\nfps: fast\nmode: finale\n"
        "extras: {a: 1, b: x}\n"
        "acts:\n  - title: a\n    beats: [{component: show, text: hi, color: green}]\n"
    )
    _, diags = check(text)
    assert summary(diags) == [
        (2, 6, "fps", "expected an integer, got 'fast'"),
        (3, 7, "mode", "'finale' is not one of: draft, final; did you mean 'final'?"),
        (4, 19, "extras.b", "expected an integer, got 'x'"),
        (7, 48, "acts[0].beats[0].color", "'green' is not one of: red, blue"),
    ]


def test_validator_messages_and_lengths() -> None:
    text = "title: t\nacts:\n  - title: LOUD\n    beats: []\n  - title: ''\n    beats: [{component: pause}]\n"
    _, diags = check(text)
    assert summary(diags) == [
        (3, 12, "acts[0].title", "titles must not be all capitals"),
        (4, 12, "acts[0].beats", "must not be empty"),
        (5, 12, "acts[1].title", "must not be empty"),
    ]
    _, diags = check(f"title: t\nacts:\n  - title: {'a' * 25}\n    beats: [{{component: pause}}]\n")
    assert summary(diags) == [(3, 12, "acts[0].title", "must be at most 20 characters long, got 25")]


def test_custom_error_with_a_loc_in_its_context() -> None:
    text = (
        "title: t\nacts:\n  - title: a\n    users: [Alice, Bob]\n    beats:\n"
        "      - component: show\n        text: hi\n"
        "      - component: highlight\n        target:\n          user: Alise\n"
    )
    _, diags = check(text)
    assert summary(diags) == [
        (10, 17, "acts[0].beats[1].target.user", "'Alise' is not a user of the table; did you mean 'Alice'?"),
    ]


def test_wrong_top_level_type_and_null() -> None:
    _, diags = check("title: t\nacts:\n")
    assert summary(diags) == [(2, 6, "acts", "expected a list, got an empty value (null)")]
    _, diags = check("title: [a]\nacts: {}\n")
    assert summary(diags) == [
        (1, 8, "title", "expected a string, got a list"),
        (2, 7, "acts", "expected a list, got a mapping"),
    ]


def test_base_loc_for_validating_part_of_a_document() -> None:
    loaded = load_yaml_text("title: t\nacts:\n  - title: a\n    beats: [{component: show}]\n", "story.yaml")
    with pytest.raises(ValidationError) as info:
        Act.model_validate(loaded.data["acts"][0])
    diags = from_validation_error(info.value, loaded, Act, base_loc=("acts", 0))
    assert summary(diags) == [(4, 13, "acts[0].beats[0]", "missing required key 'text'")]


def test_aliases_and_dedupe() -> None:
    # a bad value inside anchored content, reached three times, is reported once (at the anchor)
    text = "title: t\nbad: &b {component: show, text: 5}\nacts:\n  - title: a\n    beats: [*b, *b]\n"

    class Doc(Storyboard):
        bad: Show

    _, diags = check(text, Doc)
    message = "expected a string, got 5; put it in quotes if it is meant as text"
    assert summary(diags) == [(2, 33, "acts[0].beats[0].text", message)]
    # a key missing from aliased content is reported at each alias
    text = "title: t\nbad: &b {component: show}\nacts:\n  - title: a\n    beats: [*b, *b]\n"
    _, diags = check(text, Doc)
    assert summary(diags) == [
        (2, 1, "bad", "missing required key 'text'"),
        (5, 13, "acts[0].beats[0]", "missing required key 'text'"),
        (5, 17, "acts[0].beats[1]", "missing required key 'text'"),
    ]


def test_finalize_dedupes_and_sorts() -> None:
    a = Diagnostic("b.yaml", 1, 1, "x", "m")
    b = Diagnostic("a.yaml", 9, 2, "y", "m")
    c = Diagnostic("a.yaml", 9, 1, "z", "m")
    d = Diagnostic("a.yaml", 9, 1, "other.path", "m")  # same place and message: a duplicate
    w = Diagnostic("a.yaml", 2, 1, "", "careful", severity="warning")
    assert finalize([a, b, c, d, w, a]) == [w, d, b, a]
    assert sorted([a, b, c]) == sorted([a, b, c], key=Diagnostic.sort_key) == [c, b, a]


def test_format_path() -> None:
    assert format_path(("acts", 3, "beats", 2, "target", "user")) == "acts[3].beats[2].target.user"
    assert format_path(()) == ""
    assert format_path((0, "a")) == "[0].a"
    assert format_path(("scenes", "my scene", "title")) == 'scenes["my scene"].title'
    assert format_path(("x-y", "a.b")) == 'x-y["a.b"]'


# --------------------------------------------------------------------------------------------------
# Output formats

ALISE = "'Alise' is not a user; did you mean 'Alice'?"
DIAGS = [
    Diagnostic("storyboards/ncf.yaml", 3, 11, "acts[0].target.user", ALISE),
    Diagnostic("storyboards/ncf.yaml", 4, 8, "acts[0].note", "tab\tbefore", severity="warning"),
    Diagnostic("storyboards/ncf.yaml", 0, 0, "", "whole-file problem"),
    Diagnostic("other.yaml", 7, 1, "", "no source for this file"),
]
SOURCES = {"storyboards/ncf.yaml": ["acts:", "  - target:", "    user: Alise", "\tnote:\tx"]}


def test_format_text() -> None:
    assert format_text(DIAGS, SOURCES) == (
        f"storyboards/ncf.yaml:3:11: error: acts[0].target.user: {ALISE}\n"
        "        user: Alise\n"
        "              ^\n"
        "storyboards/ncf.yaml:4:8: warning: acts[0].note: tab\tbefore\n"
        "        note:   x\n"
        "                ^\n"
        "storyboards/ncf.yaml: error: whole-file problem\n"
        "other.yaml:7:1: error: no source for this file\n"
        "3 errors, 1 warning"
    )


def test_format_text_summary_and_long_lines() -> None:
    assert format_text([], {}) == "0 errors, 0 warnings"
    long = "k: " + "x" * 300 + "!" + "y" * 300
    diag = Diagnostic("f.yaml", 1, 304, "k", "bang")
    out = format_text([diag], {"f.yaml": [long]}).splitlines()
    assert out[0] == "f.yaml:1:304: error: k: bang"
    assert out[1].startswith("    ...x") and out[1].endswith("y...") and len(out[1]) == 4 + 3 + 100 + 3
    assert out[1][out[2].index("^")] == "!"
    assert out[3] == "1 error, 0 warnings"


def test_format_json() -> None:
    assert json.loads(format_json(DIAGS[:2])) == [
        {
            "file": "storyboards/ncf.yaml",
            "line": 3,
            "column": 11,
            "path": "acts[0].target.user",
            "message": "'Alise' is not a user; did you mean 'Alice'?",
            "severity": "error",
        },
        {
            "file": "storyboards/ncf.yaml",
            "line": 4,
            "column": 8,
            "path": "acts[0].note",
            "message": "tab\tbefore",
            "severity": "warning",
        },
    ]
    assert format_json([Diagnostic("a.yaml", 1, 2, "", "ü")]) == (
        '[\n  {\n    "file": "a.yaml",\n    "line": 1,\n    "column": 2,\n    "path": "",\n'
        '    "message": "ü",\n    "severity": "error"\n  }\n]'
    )
    assert format_json([]) == "[]"


def test_format_github() -> None:
    diags = [
        *DIAGS[:3],
        Diagnostic("dir,x:y/a%b.yaml", 2, 3, "a", "100% sure\r\nsecond line: yes, really"),
    ]
    assert format_github(diags) == (
        "::error file=storyboards/ncf.yaml,line=3,col=11::acts[0].target.user: 'Alise' is not a user; "
        "did you mean 'Alice'?\n"
        "::warning file=storyboards/ncf.yaml,line=4,col=8::acts[0].note: tab\tbefore\n"
        "::error file=storyboards/ncf.yaml::whole-file problem\n"
        "::error file=dir%2Cx%3Ay/a%25b.yaml,line=2,col=3::a: 100%25 sure%0D%0Asecond line: yes, really"
    )


def test_user_error() -> None:
    err = UserError(DIAGS[:2])
    assert isinstance(err, Exception)
    assert err.diagnostics == DIAGS[:2]
    assert str(err) == (
        "storyboards/ncf.yaml:3:11: acts[0].target.user: 'Alise' is not a user; did you mean 'Alice'? "
        "(and 1 more problem)"
    )
    single = UserError.single("a.yaml", "boom", line=2, column=3)
    assert single.diagnostics == [Diagnostic("a.yaml", 2, 3, "", "boom")]
    assert str(single) == "a.yaml:2:3: boom"


def test_end_to_end_text_output() -> None:
    text = "title: t\nacts:\n  - title: a\n    beats:\n      - {component: show, text: hi, colr: red}\n"
    loaded, diags = check(text)
    assert format_text(diags, loaded.sources) == (
        "story.yaml:5:37: error: acts[0].beats[0]: unknown key 'colr'; did you mean 'color'?\n"
        "          - {component: show, text: hi, colr: red}\n"
        "                                        ^\n"
        "1 error, 0 warnings"
    )
