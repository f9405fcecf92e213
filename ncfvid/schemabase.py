"""What every storyboard model is built from: the strict base model, the common field types, the
rules' error type and the checks that a name is a user or an item of the table. `ncfvid.schema` and
the component models (`ncfvid.components`) build on it.
"""

from __future__ import annotations

import re
from difflib import get_close_matches
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

IDENTIFIER = r"^[a-z][a-z0-9_]*$"
HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{6})$")


class Strict(BaseModel):
    """Base of every storyboard model: unknown keys are errors, values are immutable once read."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def suggest(name: str, choices: list[str]) -> str:
    close = get_close_matches(name, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; choose one of: {', '.join(repr(c) for c in choices)}" if choices else ""


def find_duplicate(names: list[str]) -> tuple[int, str] | None:
    """(index, name) of the first name that was already listed before it."""
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            return index, name
        seen.add(name)
    return None


def rule_error(message: str, *loc: str | int) -> PydanticCustomError:
    """A rule's error, reported at ``loc`` below the validated value (see ncfvid.diagnostics)."""
    return PydanticCustomError("storyboard_rule", "{message}", {"message": message, "loc": loc})


def _context_names(info: ValidationInfo, kind: str) -> list[str] | None:
    context = info.context or {}
    names = context.get(kind)
    return list(names) if names is not None else None


def check_user_exists(value: str, info: ValidationInfo) -> str:
    users = _context_names(info, "users")
    if users is not None and value not in users:
        raise ValueError(f"{value!r} is not a user of the table{suggest(value, users)}")
    return value


def check_item_exists(value: str, info: ValidationInfo) -> str:
    items = _context_names(info, "items")
    if items is not None and value not in items:
        raise ValueError(f"{value!r} is not an item of the table{suggest(value, items)}")
    return value


Color = Annotated[
    str,
    Field(
        pattern=HEX_COLOR.pattern,
        description="A colour as #RRGGBB.",
        json_schema_extra={"examples": ["#58C4DD"]},
    ),
]
Identifier = Annotated[
    str,
    Field(
        pattern=IDENTIFIER,
        max_length=40,
        description="Lower-case letters, digits and underscores, starting with a letter.",
    ),
]
ScreenText = Annotated[str, Field(min_length=1, max_length=200, description="Text shown on screen.")]
# A number an author gives for the screen: its digits must fit the frame (1e300 is 301 digits wide).
ShownNumber = Annotated[
    float, Field(ge=-1_000_000, le=1_000_000, description="A number shown on screen (at most a million either way).")
]


class CellRef(Strict):
    """One cell of the ratings table, named by its user and item."""

    user: str = Field(description="A user of the table (a key of data.ratings).")
    item: str = Field(description="An item of the table (an entry of data.items).")

    _user_exists = field_validator("user")(check_user_exists)
    _item_exists = field_validator("item")(check_item_exists)
