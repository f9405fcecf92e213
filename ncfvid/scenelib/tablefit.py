"""Tables that adapt before they fail: measure the labels, then wrap, then abbreviate with a legend.

`fit_columns` picks, for a row of column headings and the width a table may take, the first layout
that fits: every heading on one line; wrapped over two, then three lines (at word boundaries, each
heading as narrow as its lines allow); and only then short keys (A, B, C...) with the full names in
a legend under the table. What still does not fit is shrunk by the caller (`fit`), down to the
smallest readable size; below that, the layout check names the label and the room it needs.

Widths are measured once per word (`measure`) and added up, so trying layouts costs no new text.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Measure = Callable[[str], float]  # the width of a piece of text at the heading's size, scene units

MIN_COLUMN = 0.75  # scene units: a column is never narrower (a value such as 4.2 must fit)
PAD = 0.3  # scene units between a heading and its column's edges
MOST_LINES = 3


@dataclass(frozen=True)
class Columns:
    """How a table's column headings are drawn: lines per heading, widths, and the legend if any."""

    lines: list[list[str]]  # each heading's lines
    widths: list[float]  # each column's width, scene units
    legend: list[tuple[str, str]] = field(default_factory=list)  # (key, full name) when abbreviated

    @property
    def depth(self) -> int:
        """The most lines of any heading (the heading row's height, in lines)."""
        return max((len(lines) for lines in self.lines), default=1)


def wrap(text: str, measure: Measure, most: int) -> list[str]:
    """`text` over at most `most` lines at word boundaries, the widest line as narrow as it can be."""
    words = text.split()
    if len(words) <= 1 or most <= 1:
        return [text]
    space = measure("a b") - measure("a") - measure("b")
    sizes = [measure(w) for w in words]
    spans = sorted({_span(sizes, space, i, j) for i in range(len(words)) for j in range(i + 1, len(words) + 1)})
    for limit in spans:
        lines = _pack(words, sizes, space, limit)
        if len(lines) <= most:
            return lines
    return [text]


def _span(sizes: Sequence[float], space: float, i: int, j: int) -> float:
    return sum(sizes[i:j]) + space * (j - i - 1)


def _pack(words: Sequence[str], sizes: Sequence[float], space: float, limit: float) -> list[str]:
    """Greedy lines of at most `limit` width (a word wider than the limit gets a line of its own)."""
    lines: list[list[str]] = [[]]
    width = 0.0
    for word, size in zip(words, sizes, strict=True):
        grown = width + (space if lines[-1] else 0.0) + size
        if lines[-1] and grown > limit + 1e-9:
            lines.append([word])
            width = size
        else:
            lines[-1].append(word)
            width = grown
    return [" ".join(line) for line in lines]


def fit_columns(headings: Sequence[str], measure: Measure, room: float, least: float = 1.7) -> Columns:
    """The first heading layout whose columns fit `room` (see the module's docstring).

    `least` is the width a column gets when there is room (the look of a roomy table)."""
    for most in range(1, MOST_LINES + 1):
        lines = [wrap(h, measure, most) for h in headings]
        natural = [max(measure(line) for line in ls) + PAD for ls in lines]
        widths = [max(MIN_COLUMN, w) for w in natural]
        if sum(widths) <= room + 1e-9:
            roomy = [max(w, least) for w in widths]
            return Columns(lines, roomy if sum(roomy) <= room + 1e-9 else widths)
    keys = _keys(len(headings))
    widths = [max(MIN_COLUMN, measure(k) + PAD) for k in keys]
    return Columns([[k] for k in keys], widths, legend=list(zip(keys, headings, strict=True)))


def _keys(count: int) -> list[str]:
    letters = string.ascii_uppercase
    return [letters[i] if i < len(letters) else f"{letters[i // 26 - 1]}{letters[i % 26]}" for i in range(count)]
