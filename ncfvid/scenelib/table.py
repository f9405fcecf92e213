"""The ratings table: users down the side, items across the top, one rating (or '?') per cell.

It adapts to the room it gets before it shrinks (`ncfvid.scenelib.tablefit`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from manim import DOWN, LEFT, RIGHT, UP, Line, Rectangle, SurroundingRectangle, Text, VGroup

from ncfvid.numbers import format_all
from ncfvid.scenelib.layout import format_value, label
from ncfvid.scenelib.tablefit import fit_columns, wrap


class RatingsGrid(VGroup):
    """The user x item ratings table; missing ratings show as '?'.

    It lays itself out for `max_width` (scene units): item names wrap over up to three lines, then
    turn into keys (A, B...) explained in a legend under the table (see `tablefit`); long user names
    wrap over two lines. What still does not fit is shrunk by whoever places the table."""

    HEADER_SIZE, BODY_SIZE, LINE = 22, 26, 0.34  # LINE: a heading line's height, scene units

    def __init__(
        self,
        corner: str,
        users: Sequence[str],
        items: Sequence[str],
        ratings: Sequence[Sequence[float | None]],
        text_color: str,
        line_color: str,
        user_color: str,
        item_color: str,
        accent: str,
        places: int | None = None,
        decimal: str = ".",
        max_width: float = 12.8,
    ):
        self.places, self.decimal = places, decimal
        self.users, self.items = list(users), list(items)
        self.text_color, self.accent = text_color, accent
        measure = _measurer(self.HEADER_SIZE)
        user_lines = [wrap(u, measure, 2) if measure(u) > max_width * 0.28 else [u] for u in self.users]
        name_w = max(1.9, max(measure(line) for lines in user_lines for line in lines) + 0.45)
        self.columns = fit_columns(self.items, measure, max_width - name_w)
        cell_h = 0.62 if all(len(lines) == 1 for lines in user_lines) else 0.85
        header_h = max(0.62, self.LINE * self.columns.depth + 0.28)
        xs = [-(name_w + sum(self.columns.widths)) / 2 + name_w]
        for width in self.columns.widths:
            xs.append(xs[-1] + width)
        top = (header_h + cell_h * len(self.users)) / 2
        ys = [top, top - header_h] + [top - header_h - cell_h * (r + 1) for r in range(len(self.users))]
        self._layout = (xs, ys, name_w)
        labels = self._labels(corner, user_lines, user_color, item_color)
        self.cells: dict[tuple[int, int], Rectangle] = {}
        self.entries: dict[tuple[int, int], Text] = {}
        shown = iter(format_all([v for row in ratings for v in row], places, decimal))
        for row, user_ratings in enumerate(ratings):
            for col in range(len(user_ratings)):
                cell = Rectangle(width=xs[col + 1] - xs[col], height=cell_h, stroke_width=0)
                cell.move_to([(xs[col] + xs[col + 1]) / 2, (ys[row + 1] + ys[row + 2]) / 2, 0])
                self.cells[(row, col)] = cell
                self.entries[(row, col)] = self._entry_text(next(shown), self.BODY_SIZE).move_to(cell)
        self.grid_lines = self._lines(line_color)
        self.labels = labels
        self.body = VGroup(*self.entries.values())
        self.legend = self._legend(item_color, max_width)
        parts = [self.grid_lines, labels, self.body, *self.cells.values()]
        super().__init__(*parts, *([self.legend] if self.legend.submobjects else []))

    def _labels(self, corner: str, user_lines: list[list[str]], user_color: str, item_color: str) -> VGroup:
        xs, ys, name_w = self._layout
        size, color = self.HEADER_SIZE, self.text_color
        corner_text = label(corner, size=size, color=color, max_width=name_w - 0.2)
        corner_text.move_to([xs[0] - name_w / 2, (ys[0] + ys[1]) / 2, 0])
        self.item_labels = VGroup()
        for col, lines in enumerate(self.columns.lines):
            text = _lines_block(lines, size, item_color, xs[col + 1] - xs[col] - 0.15)
            self.item_labels.add(text.move_to([(xs[col] + xs[col + 1]) / 2, (ys[0] + ys[1]) / 2, 0]))
        self.user_labels = VGroup()
        for row, lines in enumerate(user_lines):
            text = _lines_block(lines, size + 2, user_color, name_w - 0.2)
            self.user_labels.add(text.move_to([xs[0] - name_w / 2, (ys[row + 1] + ys[row + 2]) / 2, 0]))
        return VGroup(corner_text, self.item_labels, self.user_labels)

    def _lines(self, line_color: str) -> VGroup:
        xs, ys, name_w = self._layout
        left, right, top, bottom = xs[0] - name_w, xs[-1], ys[0], ys[-1]
        lines = VGroup()
        for row, y in enumerate(ys):
            width = 3 if row == 1 else 1.2
            lines.add(Line([left, y, 0], [right, y, 0], stroke_color=line_color, stroke_width=width))
        for col, x in enumerate([left, *xs]):
            width = 3 if col == 1 else 1.2
            lines.add(Line([x, top, 0], [x, bottom, 0], stroke_color=line_color, stroke_width=width))
        return lines

    def _legend(self, item_color: str, max_width: float) -> VGroup:
        """The full names of abbreviated headings, one per line, under the table."""
        rows = VGroup()
        for key, name in self.columns.legend:
            key_text = label(key, size=20, color=item_color, weight="BOLD")
            lines = wrap(name, _measurer(20), 2) if _measurer(20)(name) > max_width - 0.8 else [name]
            name_text = label("\n".join(lines), size=20, color=self.text_color, max_width=max_width - 0.8)
            rows.add(VGroup(key_text, name_text).arrange(RIGHT, buff=0.25, aligned_edge=UP))
        if rows.submobjects:
            rows.arrange(DOWN, buff=0.08, aligned_edge=LEFT)
            rows.next_to(self.grid_lines, DOWN, buff=0.3)
        return rows

    def _entry_text(self, text: str | None, size: float) -> Text:
        if text is None:
            return label("?", size=size, color=self.accent, weight="BOLD")
        return label(text, size=size, color=self.text_color)

    def index(self, user: str, item: str) -> tuple[int, int]:
        return self.users.index(user), self.items.index(item)

    def cell(self, user: str, item: str) -> Rectangle:
        return self.cells[self.index(user, item)]

    def entry(self, user: str, item: str) -> Text:
        return self.entries[self.index(user, item)]

    def row_box(self, user: str, color: str, buff: float = 0.04) -> Rectangle:
        row = self.users.index(user)
        parts = VGroup(self.user_labels[row], *[self.cells[(row, c)] for c in range(len(self.items))])
        return SurroundingRectangle(parts, color=color, buff=buff, stroke_width=4)

    def column_box(self, item: str, color: str, buff: float = 0.04) -> Rectangle:
        col = self.items.index(item)
        parts = VGroup(self.item_labels[col], *[self.cells[(r, col)] for r in range(len(self.users))])
        return SurroundingRectangle(parts, color=color, buff=buff, stroke_width=4)

    def cell_box(self, user: str, item: str, color: str) -> Rectangle:
        return SurroundingRectangle(self.cell(user, item), color=color, buff=-0.03, stroke_width=5)

    def value_text(self, user: str, item: str, value: float, color: str, places: int | None = None) -> Text:
        """A predicted value sized and placed to replace a cell's entry (1 decimal unless told)."""
        cell = self.cell(user, item)
        places = places if places is not None else self.places if self.places is not None else 1
        shown = format_value(value, places, self.decimal)
        text = label(shown, size=26, color=color, weight="BOLD", max_width=cell.width * 0.8)
        return text.move_to(cell)


def _measurer(size: float) -> Callable[[str], float]:
    """Width of a text at `size`, scene units (each text measured once)."""
    widths: dict[str, float] = {}

    def measure(text: str) -> float:
        if text not in widths:
            widths[text] = label(text, size=size).width
        return widths[text]

    return measure


def _lines_block(lines: Sequence[str], size: float, color: str, max_width: float) -> VGroup:
    """Lines of text centred under each other (a wrapped heading)."""
    block = VGroup(*[label(line, size=size, color=color, max_width=max_width) for line in lines])
    return block.arrange(DOWN, buff=0.08) if len(lines) > 1 else block
