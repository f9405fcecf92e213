"""The mobjects ncfvid draws: tables, vectors, the MLP tower, plots. No LaTeX anywhere.

Each class builds itself from plain data (names, numbers, colours) and exposes the parts that
animations address (a cell, a row, a layer), so templates can choreograph without knowing geometry.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    Circle,
    Dot,
    Line,
    Rectangle,
    RoundedRectangle,
    SurroundingRectangle,
    VGroup,
    VMobject,
)

from ncfvid.numbers import common_places
from ncfvid.scenelib.layout import format_value, label, number, word
from ncfvid.scenelib.table import RatingsGrid  # noqa: F401 - re-exported: the library names it here
from ncfvid.scenelib.tablefit import wrap


class Chip(VGroup):
    """A rounded box with a line of text: an ID, a step name, a badge."""

    def __init__(self, text: str, color: str, text_color: str, size: float = 28, max_width: float = 5.0):
        self.text = label(text, size=size, color=text_color)
        if self.text.width > max_width - 0.4:  # too long for one line: over two, then shrink
            lines = wrap(text, lambda part: label(part, size=size).width, 2)
            self.text = label("\n".join(lines), size=size, color=text_color, max_width=max_width - 0.4)
        self.box = RoundedRectangle(
            width=self.text.width + 0.45,
            height=self.text.height + 0.35,
            corner_radius=0.12,
            stroke_color=color,
            stroke_width=3,
            fill_color=color,
            fill_opacity=0.15,
        )
        self.text.move_to(self.box)
        super().__init__(self.box, self.text)


class TitleCard(VGroup):
    """A title and an optional subtitle, centred."""

    def __init__(self, title: str, subtitle: str | None, color: str, muted: str, max_width: float):
        self.title = label(title, size=60, color=color, max_width=max_width, weight="BOLD")
        parts = [self.title]
        self.subtitle = None
        if subtitle:
            self.subtitle = label(subtitle, size=30, color=muted, max_width=max_width)
            parts.append(self.subtitle)
        super().__init__(*parts)
        self.arrange(DOWN, buff=0.45)


class VectorColumn(VGroup):
    """A column vector drawn as boxes with values, optional dimension names, and a bracket."""

    def __init__(
        self,
        values: Sequence[float | None],
        color: str,
        text_color: str,
        dims: Sequence[str] | None = None,
        box_width: float = 1.25,
        box_height: float = 0.5,
        bars: bool = False,
        size: float = 22,
        places: int | None = None,
        decimal: str = ".",
    ):
        places = common_places(values) if places is None else places
        self.boxes = VGroup()
        self.values_text = VGroup()
        self.bars = VGroup()
        for value in values:
            box = Rectangle(
                width=box_width,
                height=box_height,
                stroke_color=color,
                stroke_width=2,
                fill_color=color,
                fill_opacity=0.08,
            )
            if value is None:  # an elided run of values
                text = label("\u22ee", size=size, color=text_color)
                box.set_stroke(opacity=0).set_fill(opacity=0)
            else:
                shown = format_value(value, places, decimal)
                text = label(shown, size=size, color=text_color, max_width=box_width - 0.1)
            self.boxes.add(box)
            self.values_text.add(text)
        self.boxes.arrange(DOWN, buff=0.06)
        for box, text, value in zip(self.boxes, self.values_text, values, strict=True):
            text.move_to(box)
            if bars and value is not None:
                bar = Rectangle(
                    width=max(abs(value), 0.02) * (box_width / 2 - 0.05),
                    height=box_height * 0.8,
                    stroke_width=0,
                    fill_color=color,
                    fill_opacity=0.35,
                )
                bar.move_to(box.get_center())
                bar.align_to(box.get_center(), LEFT if value >= 0 else RIGHT)
                self.bars.add(bar)
        self.dim_labels = VGroup()
        if dims is not None:
            for box, name in zip(self.boxes, dims, strict=True):
                text = label(name, size=size - 2, color=text_color, max_width=3.2)
                text.next_to(box, LEFT, buff=0.2)
                self.dim_labels.add(text)
        self.bracket = _brackets(self.boxes, text_color)
        # No empty group among the parts: a transform would morph a point at the origin into its
        # counterpart (a dot flying across the frame).
        parts = (self.bars, self.boxes, self.values_text, self.dim_labels, self.bracket)
        super().__init__(*[part for part in parts if part.submobjects])


def _brackets(mob: VMobject, color: str, reach: float = 0.12) -> VGroup:
    """Square brackets drawn with lines (Manim's matrix brackets need LaTeX)."""
    top, bottom = mob.get_top()[1] + 0.05, mob.get_bottom()[1] - 0.05
    left, right = mob.get_left()[0] - 0.08, mob.get_right()[0] + 0.08
    group = VGroup()
    for x, sign in ((left, 1), (right, -1)):
        group.add(
            VMobject(stroke_color=color, stroke_width=3).set_points_as_corners(
                [[x + sign * reach, top, 0], [x, top, 0], [x, bottom, 0], [x + sign * reach, bottom, 0]]
            )
        )
    return group


class DnaCard(VGroup):
    """A heading over a labelled vector with value bars: a user's or an item's 'DNA'."""

    def __init__(
        self,
        title: str,
        dims: Sequence[str],
        values: Sequence[float],
        color: str,
        text_color: str,
        places: int | None = None,
        decimal: str = ".",
    ):
        self.vector = VectorColumn(
            values,
            color,
            text_color,
            dims=dims,
            bars=True,
            box_width=2.0,
            box_height=0.75,
            size=32,
            places=places,
            decimal=decimal,
        )
        room = max(self.vector.width, 4.5)
        lines = wrap(title, lambda part: label(part, size=34, weight="BOLD").width, 2)
        lines = lines if label(title, size=34, weight="BOLD").width > room else [title]
        self.title = label("\n".join(lines), size=34, color=color, max_width=room, weight="BOLD")
        self.title.next_to(self.vector, UP, buff=0.4)
        super().__init__(self.title, self.vector)


def shown_values(values: Sequence[float], shown: int) -> list[float | None]:
    """The first `shown` values, then None standing for the elided rest."""
    head: list[float | None] = list(values[:shown])
    if len(values) > shown:
        head.append(None)
    return head


class EmbeddingTable(VGroup):
    """A lookup table: one row of shaded cells per id, with the ids on the left."""

    def __init__(
        self,
        title: str,
        ids: Sequence[str],
        matrix: Sequence[Sequence[float]],
        color: str,
        text_color: str,
        columns: int = 6,
    ):
        self.ids = list(ids)
        self.title = label(title, size=26, color=color, max_width=4.5, weight="BOLD")
        self.rows = VGroup()
        self.id_labels = VGroup()
        scale = max(1e-9, float(np.max(np.abs(np.asarray(matrix, dtype=float)))))
        # Long ids wrap over two lines (in taller rows) before they shrink.
        most, room = (2, 3.2) if columns > 3 else (3, 2.6)  # a narrow table's ids take more lines
        names = [wrap(name, lambda part: label(part, size=18).width, most) for name in self.ids]
        names = [lines if label(" ".join(lines), size=18).width > room else [" ".join(lines)] for lines in names]
        cell_h = max(0.34, 0.27 * max(len(lines) for lines in names) + 0.1)
        for row_values in matrix:
            cells = VGroup()
            for value in list(row_values)[:columns]:
                opacity = 0.15 + 0.75 * abs(float(value)) / scale
                cells.add(
                    Rectangle(
                        width=0.36,
                        height=cell_h,
                        stroke_color=color,
                        stroke_width=1,
                        fill_color=color,
                        fill_opacity=opacity,
                    )
                )
            cells.arrange(RIGHT, buff=0.04)
            self.rows.add(cells)
        self.rows.arrange(DOWN, buff=0.06)
        for lines, row in zip(names, self.rows, strict=True):
            text = label("\n".join(lines), size=18, color=text_color, max_width=room)
            text.next_to(row, LEFT, buff=0.15)
            self.id_labels.add(text)
        self.dots = label("\u2026", size=22, color=text_color).next_to(self.rows, RIGHT, buff=0.12)
        self.title.next_to(VGroup(self.rows, self.id_labels), UP, buff=0.25)
        super().__init__(self.title, self.rows, self.id_labels, self.dots)

    def row_box(self, name: str, color: str) -> Rectangle:
        index = self.ids.index(name)
        return SurroundingRectangle(
            VGroup(self.rows[index], self.id_labels[index]), color=color, buff=0.05, stroke_width=4
        )


class MlpDiagram(VGroup):
    """The MLP tower: one column of nodes per layer, wide layers capped with an ellipsis."""

    def __init__(
        self,
        widths: Sequence[int],
        node_color: str,
        edge_color: str,
        text_color: str,
        max_nodes: int = 6,
        height: float = 4.2,
        spacing: float = 1.35,
    ):
        self.widths = list(widths)
        self.layers = VGroup()
        self.ellipses = VGroup()
        self.width_labels = VGroup()
        radius = min(0.16, height / (2.6 * max_nodes))
        for width in self.widths:
            shown = min(width, max_nodes)
            nodes = VGroup(
                *[
                    Circle(
                        radius=radius,
                        stroke_color=node_color,
                        stroke_width=2,
                        fill_color=node_color,
                        fill_opacity=0.2,
                    )
                    for _ in range(shown)
                ]
            )
            gap = min(0.3, (height - 2 * radius * max_nodes) / max(max_nodes - 1, 1))
            nodes.arrange(DOWN, buff=max(gap, 0.06))
            self.layers.add(nodes)
        self.layers.arrange(RIGHT, buff=spacing)
        for width, nodes in zip(self.widths, self.layers, strict=True):
            if width > max_nodes:
                # Split the capped column and put a vertical ellipsis in the middle.
                half = len(nodes) // 2
                for node in nodes[half:]:
                    node.shift(DOWN * 0.35)
                dots = label("\u22ee", size=22, color=text_color)
                dots.move_to((nodes[half - 1].get_center() + nodes[half].get_center()) / 2)
                self.ellipses.add(dots)
        self.edges = VGroup()
        for left, right in zip(self.layers[:-1], self.layers[1:], strict=True):
            group = VGroup(
                *[
                    Line(a.get_center(), b.get_center(), stroke_color=edge_color, stroke_width=1, buff=radius)
                    for a in left
                    for b in right
                ]
            )
            self.edges.add(group)
        for width, nodes in zip(self.widths, self.layers, strict=True):
            text = label(str(width), size=18, color=text_color)
            text.next_to(nodes, DOWN, buff=0.2)
            self.width_labels.add(text)
        bottom = min(t.get_bottom()[1] for t in self.width_labels)
        for text in self.width_labels:
            text.set_y(bottom + text.height / 2)
        super().__init__(self.edges, self.layers, self.ellipses, self.width_labels)

    @property
    def output_node(self) -> Circle:
        return self.layers[-1][0]


class LossPlot(VGroup):
    """A loss curve on plain axes with a few tick labels (no LaTeX number mobjects)."""

    def __init__(
        self,
        losses: Sequence[float],
        title: str,
        color: str,
        axis_color: str,
        text_color: str,
        width: float = 5.2,
        height: float = 3.2,
        epochs: int | None = None,
    ):
        self.losses = [float(v) for v in losses]
        self.plot_width, self.plot_height = width, height
        top = max(self.losses) * 1.05 or 1.0
        self.y_max = top
        self.x_axis = Line([0, 0, 0], [width, 0, 0], stroke_color=axis_color, stroke_width=2)
        self.y_axis = Line([0, 0, 0], [0, height, 0], stroke_color=axis_color, stroke_width=2)
        points = [self.point_at(i) for i in range(len(self.losses))]
        self.curve = VMobject(stroke_color=color, stroke_width=4).set_points_as_corners(points)
        self.title = label(title, size=24, color=text_color, max_width=width)
        self.title.next_to(self.y_axis, UP, buff=0.25).align_to(self.y_axis, LEFT)
        self.x_label = label(
            f"{word('epochs')} (0\u2013{epochs if epochs is not None else len(self.losses)})",
            size=20,
            color=text_color,
            max_width=width,
        )
        self.x_label.next_to(self.x_axis, DOWN, buff=0.15)
        self.y_top = label(number(format_value(top, 1)), size=20, color=text_color).next_to(
            self.y_axis.get_top(), LEFT, buff=0.1
        )
        self.y_zero = label("0", size=20, color=text_color).next_to(self.y_axis.get_bottom(), LEFT, buff=0.1)
        self.marker = Dot(points[0], radius=0.07, color=color)
        super().__init__(
            self.x_axis,
            self.y_axis,
            self.title,
            self.x_label,
            self.y_top,
            self.y_zero,
            self.curve,
            self.marker,
        )

    def point_at(self, index: float) -> np.ndarray:
        """Scene point of the curve at a (fractional) index into the losses."""
        n = max(len(self.losses) - 1, 1)
        value = float(np.interp(index, range(len(self.losses)), self.losses))
        if not hasattr(self, "x_axis"):
            return np.array([self.plot_width * index / n, self.plot_height * value / self.y_max, 0])
        # The axes as they are now: the plot may have been scaled (fit) since it was built.
        origin = self.x_axis.get_start()
        wide = self.x_axis.get_end()[0] - origin[0]
        high = self.y_axis.get_end()[1] - self.y_axis.get_start()[1]
        return origin + np.array([wide * index / n, high * value / self.y_max, 0])


class LoopDiagram(VGroup):
    """Steps arranged in a ring, joined by arrows: the training loop."""

    def __init__(self, steps: Sequence[str], color: str, text_color: str, radius: float = 1.6):
        self.steps = VGroup()
        n = len(steps)
        for index, name in enumerate(steps):
            angle = np.pi / 2 - 2 * np.pi * index / n
            chip = Chip(name, color, text_color, size=22, max_width=2.6)
            chip.move_to([radius * 1.25 * np.cos(angle), radius * np.sin(angle), 0])
            self.steps.add(chip)
        self.arrows = VGroup()
        for index in range(n):
            a, b = self.steps[index], self.steps[(index + 1) % n]
            self.arrows.add(
                Arrow(
                    a.get_center(),
                    b.get_center(),
                    buff=0.55,
                    stroke_width=3,
                    color=text_color,
                    max_tip_length_to_length_ratio=0.2,
                    path_arc=-0.6,
                )
            )
        super().__init__(self.arrows, self.steps)
