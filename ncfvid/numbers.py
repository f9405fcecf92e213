"""Numbers as people write them: no negative zero, one number of decimals per table, a real minus.

Pure functions with no Manim import, so the compiler, the check and the scenes share them. The
decimal mark is a parameter (``"."`` or ``","``): the language of a storyboard decides it.
"""

from __future__ import annotations

from collections.abc import Iterable

MINUS = "\u2212"
# Most decimals a table picks by itself; a storyboard's `decimals:` may ask for more (up to 4).
DEFAULT_MOST = 2


def format_number(value: float, places: int = 2, decimal: str = ".", minus: str = MINUS) -> str:
    """`value` with `places` decimals: `-0.004` prints as `0.00`, never `−0.00`.

    The sign is decided on the printed digits, so a value that rounds to zero is unsigned.
    """
    if places < 0:
        raise ValueError(f"places must be 0 or more, not {places}")
    digits = f"{abs(float(value)):.{places}f}"
    negative = float(value) < 0 and any(c not in "0." for c in digits)
    if decimal != ".":
        digits = digits.replace(".", decimal)
    return (minus if negative else "") + digits


def common_places(values: Iterable[float | None], most: int = DEFAULT_MOST) -> int:
    """The fewest decimals (at most `most`) that show every value as it shows with `most`.

    One table, one number of decimals: `[0.9, -0.8]` gives 1, `[0.95, -0.6]` gives 2 (so
    `−0.60`), `[5, 4, 1]` gives 0. `None` (a missing value) is skipped.
    """
    shown = [float(v) for v in values if v is not None]
    for places in range(most + 1):
        if all(_same(v, places, most) for v in shown):
            return places
    return most


def _same(value: float, places: int, most: int) -> bool:
    return round(round(value, most), places) == round(value, most)


def format_all(
    values: Iterable[float | None], places: int | None = None, decimal: str = ".", most: int = DEFAULT_MOST
) -> list[str | None]:
    """Every value of one table with the same decimals: `places`, or `common_places` when None."""
    listed = list(values)
    chosen = common_places(listed, most) if places is None else places
    return [None if v is None else format_number(v, chosen, decimal) for v in listed]
