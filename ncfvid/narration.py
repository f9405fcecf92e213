"""Narration that quotes computed values: `{{ prediction }}` in a storyboard says what the screen shows."""

from __future__ import annotations

import re
from typing import Any

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
            raise KeyError(dotted)
    return value


def render_narration(text: str, context: dict[str, Any], decimal: str = ".") -> str:
    """Fill `{{ name }}` / `{{ name.field }}` quotes with computed values.

    The quote language is deliberately tiny and so sandboxed by construction: a quote only looks a
    name up in `context`; it cannot call, compute or import anything. Braces that are not a quote of
    a name (say `{{ }}` or `{{ 1 + 1 }}`) stay in the text literally. Numbers are written with
    `decimal` before their fraction (1,6 in German).
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        try:
            value = _lookup(context, name)
        except KeyError:
            known = ", ".join(sorted(context))
            raise NarrationError(
                f"narration quotes {{{{ {name} }}}}, which the story does not compute; known values: {known}"
            ) from None
        if isinstance(value, (dict, list)):
            raise NarrationError(f"{{{{ {name} }}}} is a collection; quote one of its fields")
        if isinstance(value, float):
            text = f"{value:g}" if value == int(value) and abs(value) >= 10 else str(value)
            return text.replace(".", decimal)
        return str(value)

    return QUOTE.sub(substitute, text)
