"""Text and placement helpers that keep everything inside the frame's safe area.

Every piece of text ncfvid draws goes through `label`, which shrinks text that is too wide instead of
letting it run off the frame or over its neighbours (the seed's most visible defect).
"""

from __future__ import annotations

import textwrap
import unicodedata
from dataclasses import dataclass

import manimpango
from manim import Mobject, Text, config
from manim.constants import START_X, START_Y
from manim.mobject.text.text_mobject import TEXT2SVG_ADJUSTMENT_FACTOR

from ncfvid.numbers import format_number

FONT = "DejaVu Sans"  # the storyboard's `video.font` (see `use_font`); Pango falls back per character
DECIMAL = "."  # the decimal separator of numbers on screen (see `use_decimal`)
# Below this size (in Manim font units at 480p) text stops being readable; layout never shrinks below.
MIN_FONT_SIZE = 14


def use_font(family: str) -> None:
    """Draw every later text in `family` (the scene sets it from the storyboard before drawing)."""
    global FONT
    FONT = family


def use_decimal(separator: str) -> None:
    """Write every later number on screen with `separator` before its fraction (',' in German)."""
    global DECIMAL
    DECIMAL = separator


# The words the library writes on screen by itself (ncfvid.schema.BUILT_IN_WORDS), by their English
# form; the storyboard's video.words (a translation's) gives them in its language.
WORDS: dict[str, str] = {}


def use_words(words: dict[str, str]) -> None:
    """Write the library's own words as `words` says (a translation's)."""
    WORDS.clear()
    WORDS.update(words)


def word(english: str) -> str:
    """One of the library's own words on screen, in the video's language."""
    return WORDS.get(english, english)


def number(text: str) -> str:
    """A formatted number (`f"{x:.2f}"`) with the language's decimal separator."""
    return text.replace(".", DECIMAL) if DECIMAL != "." else text


ASPECTS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}
SHORT_SIDE_UNITS = 8.0  # the frame's short side in scene units, whatever its shape: text keeps its size


def use_aspect(aspect: str) -> None:
    """Shape Manim's frame (pixels and scene units) as `aspect`, keeping the quality's short side:
    480 px and 8 units at -ql in every shape, so a font size draws the same pixels in each."""
    wide, high = ASPECTS[aspect]
    short = min(int(config.pixel_width), int(config.pixel_height))
    long_px = int(round(short * max(wide, high) / min(wide, high) / 2) * 2)  # even: H.264 needs it
    long_units = SHORT_SIDE_UNITS * max(wide, high) / min(wide, high)
    if wide >= high:
        config.pixel_width, config.pixel_height = long_px, short
        config.frame_height = SHORT_SIDE_UNITS
        config.frame_width = long_units
    else:
        config.pixel_width, config.pixel_height = short, long_px
        config.frame_width = SHORT_SIDE_UNITS
        config.frame_height = long_units


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
    def upright(self) -> bool:
        """A frame taller than wide (9:16): side-by-side layouts stack instead."""
        return config.frame_height > config.frame_width * 1.2

    @property
    def narrow(self) -> bool:
        """A frame without the room of a landscape one for things side by side (9:16 and 1:1)."""
        return config.frame_width < config.frame_height * 1.4

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


def is_right_to_left(text: str) -> bool:
    """Whether `text` holds right-to-left letters (Hebrew, Arabic, ...)."""
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


class ScriptText(Text):
    """`Text` that also draws right-to-left text.

    Pango aligns a paragraph that starts right-to-left at the right edge of its layout, which Manim
    makes as wide as the SVG canvas and then draws START_X to the right: the text ends past the
    canvas, and cairo leaves out the glyphs there (a one-word Hebrew name came out empty, the number
    after a Hebrew word went missing). For such text the layout is made narrower by START_X at both
    sides, so it ends inside the canvas; every other text is drawn exactly as by `Text`.
    """

    def _text2hash(self, color: object) -> str:
        digest = super()._text2hash(color)  # type: ignore[arg-type]
        return digest + "-rtl" if is_right_to_left(self.text) else digest

    def _text2svg(self, color: object) -> str:
        if not is_right_to_left(self.text):
            return super()._text2svg(color)  # type: ignore[arg-type]
        folder = config.get_dir("text_dir")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (self._text2hash(color) + ".svg")
        if path.exists():
            return str(path.resolve())
        width, height = config["pixel_width"], config["pixel_height"]
        return manimpango.text2svg(
            self._text2settings(color),  # type: ignore[arg-type]
            self._font_size / TEXT2SVG_ADJUSTMENT_FACTOR,
            self.line_spacing / TEXT2SVG_ADJUSTMENT_FACTOR,
            self.disable_ligatures,
            str(path.resolve()),
            START_X,
            START_Y,
            width,
            height,
            self.text,
            width - 2 * START_X,
        )


def label(
    text: str,
    size: float = 32,
    color: str = "#FFFFFF",
    max_width: float | None = None,
    weight: str = "NORMAL",
    min_size: float = MIN_FONT_SIZE,
) -> Text:
    """A line of text; shrunk (down to `min_size`) so that it is at most `max_width` wide."""
    mob = ScriptText(text, font=FONT, font_size=size, color=color, weight=weight)
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
    for wrap in (48, 56, 64, 72, 84, 96, 44, 40, 36, 32, 28, 24, 20):  # wider first; narrower for a narrow box
        lines = textwrap.wrap(text, wrap) or [" "]
        mob = ScriptText("\n".join(lines), font=FONT, font_size=size, color=color, line_spacing=0.8)
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


class SansText(ScriptText):
    """Text in ncfvid's font: the `mob_class` for DecimalNumber, whose digits default to another font."""

    def __init__(self, text: str, **kwargs: object) -> None:
        kwargs.setdefault("font", FONT)
        super().__init__(number(text), **kwargs)
