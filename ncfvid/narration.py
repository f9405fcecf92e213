"""Narration that quotes computed values: `{{ prediction }}` in a storyboard says what the screen shows.

One rule set decides what may be quoted (`quote_problem`): `ncfvid validate` applies it to the shape
of the values (`context_shape`, known without training), at the narration's line, and
`compile` to the values themselves, so a quote that validates also compiles.
"""

from __future__ import annotations

import re
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ncfvid.schema import Storyboard

QUOTE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")


class NarrationError(ValueError):
    """Narration that quotes a value the story does not compute."""


def _lookup(context: dict[str, Any], dotted: str) -> Any:
    value: Any = context
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(part, _names(value))
    return value


def _names(value: Any) -> list[str]:
    """What may follow a dot after `value`."""
    if isinstance(value, dict):
        return [str(key) for key in value]
    if isinstance(value, list):
        return [str(index) for index in range(len(value))]
    return []


def quote_problem(name: str, context: dict[str, Any]) -> str | None:
    """Why `{{ name }}` cannot be quoted from `context` (or its shape), or None when it can."""
    try:
        value = _lookup(context, name)
    except KeyError as err:
        part, names = err.args
        close = get_close_matches(part, names, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean {close[0]!r}?"
        elif names:
            hint = f"known: {', '.join(names)}"
        else:
            hint = "a number or a text has no fields"
        return f"{{{{ {name} }}}} is not a value the story computes; {hint}"
    if isinstance(value, (dict, list)):
        return f"{{{{ {name} }}}} is a collection; quote one of its fields ({', '.join(_names(value)[:6])})"
    return None


def context_shape(story: Storyboard) -> dict[str, Any]:
    """The names and structure of `ncfvid.story.narration_context`, known without training (its values are
    placeholders): what `validate` checks quotes against, with the rules `compile` applies."""
    items = list(story.data.items)
    missing = {
        f"{user} x {item}": 0.0
        for user, row in story.data.ratings.items()
        for item, value in zip(items, row, strict=False)  # a ragged table is reported by its own rule
        if value is None
    }
    from ncfvid.model.similarity import similar_users

    users = list(story.data.ratings)
    try:  # as `ncfvid.story.twins_of` finds them
        twins = similar_users(list(story.data.ratings.values()), users.index(story.data.target.user), len(users) - 1)
    except ValueError:  # a table the similarity cannot read: its own rule says why
        twins = []
    return {
        "prediction": 0.0,
        "target": {"user": "", "item": ""},
        "rmse": 0.0,
        "epochs": 0,
        "first_loss": 0.0,
        "final_loss": 0.0,
        "predictions": missing,
        "twins": [{"user": "", "similarity": 0.0} for _ in twins],
        "title": "",
    }


def quotes(text: str) -> list[str]:
    """The names `text` quotes, in order."""
    return [match.group(1) for match in QUOTE.finditer(text)]


def render_narration(text: str, context: dict[str, Any], decimal: str = ".") -> str:
    """Fill `{{ name }}` / `{{ name.field }}` quotes with computed values.

    The quote language is deliberately tiny and so sandboxed by construction: a quote only looks a
    name up in `context`; it cannot call, compute or import anything. Braces that are not a quote of
    a name (say `{{ }}` or `{{ 1 + 1 }}`) stay in the text literally. Numbers are written with
    `decimal` before their fraction (1,6 in German).
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        problem = quote_problem(name, context)
        if problem is not None:
            raise NarrationError(problem)
        value = _lookup(context, name)
        if isinstance(value, float):
            text = f"{value:g}" if value == int(value) and abs(value) >= 10 else str(value)
            return text.replace(".", decimal)
        return str(value)

    return QUOTE.sub(substitute, text)
