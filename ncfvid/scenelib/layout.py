"""Text and placement helpers that keep everything inside the frame's safe area.

Every piece of text ncfvid draws goes through `label`, which shrinks text that is too wide instead of
letting it run off the frame or over its neighbours (the seed's most visible defect).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from manim import Mobject, Text, config

from ncfvid.numbers import format_number

FONT = "DejaVu Sans"
# Below this size (in Manim font units at 480p) text stops being readable; layout never shrinks below.
MIN_FONT_SIZE = 14


@dataclass(frozen=True)
class SafeArea:
    """The part of the frame content may use: the frame less a margin on every side."""

    margin: float = 0.05

    @property
    def width(self) -> float:
        return config.frame_width * (1 - 2 * self.margin)

    @property
    def height(self) -> float:
        return config.frame_height * (1 - 2 * self.margin)

    @property
    def top(self) -> float:
        return self.height / 2

    @property
    def bottom(self) -> float:
        return -self.height / 2

    @property
    def left(self) -> float:
        return -self.width / 2

    @property
    def right(self) -> float:
        return self.width / 2


def label(
    text: str,
    size: float = 32,
    color: str = "#FFFFFF",
    max_width: float | None = None,
    weight: str = "NORMAL",
    min_size: float = MIN_FONT_SIZE,
) -> Text:
    """A line of text; shrunk (down to `min_size`) so that it is at most `max_width` wide."""
    mob = Text(text, font=FONT, font_size=size, color=color, weight=weight)
    if max_width is not None and mob.width > max_width:
        factor = max(max_width / mob.width, min_size / size)
        mob.scale(factor)
    return mob


def paragraph(
    text: str,
    size: float = 28,
    color: str = "#FFFFFF",
    max_width: float = 11.0,
    max_height: float = 4.0,
) -> Text:
    """Wrapped text that fits a box: wrap to the box's width, then shrink if it is still too big."""
    mob = None
    for wrap in (48, 56, 64, 72, 84, 96):
        lines = textwrap.wrap(text, wrap) or [" "]
        mob = Text("\n".join(lines), font=FONT, font_size=size, color=color, line_spacing=0.8)
        if mob.width <= max_width and mob.height <= max_height:
            return mob
    assert mob is not None
    factor = min(max_width / mob.width, max_height / mob.height)
    return mob.scale(max(factor, MIN_FONT_SIZE / size))


def fit(mob: Mobject, width: float, height: float) -> Mobject:
    """Scale `mob` down (never up) so it fits a width x height box."""
    factor = min(1.0, width / max(mob.width, 1e-6), height / max(mob.height, 1e-6))
    if factor < 1:
        mob.scale(factor)
    return mob


def place_below_heading(mob: Mobject, heading: Mobject | None, area: SafeArea, gap: float = 0.4) -> Mobject:
    """Fit `mob` into the space under `heading` (or the whole safe area) and centre it there."""
    top = heading.get_bottom()[1] - gap if heading is not None else area.top
    height = top - area.bottom
    fit(mob, area.width, height)
    mob.move_to([0, (top + area.bottom) / 2, 0])
    return mob


def heading(text: str, color: str, area: SafeArea, size: float = 40) -> Text:
    """A heading at the top of the safe area."""
    mob = label(text, size=size, color=color, max_width=area.width, weight="BOLD")
    mob.move_to([0, area.top - mob.height / 2, 0])
    return mob


def format_value(value: float, places: int = 2, decimal: str = ".") -> str:
    """Numbers as people read them: fixed places, a real minus sign, never a negative zero."""
    return format_number(value, places, decimal)


class SansText(Text):
    """Text in ncfvid's font: the `mob_class` for DecimalNumber, whose digits default to another font."""

    def __init__(self, text: str, **kwargs: object) -> None:
        kwargs.setdefault("font", FONT)
        super().__init__(text, **kwargs)
