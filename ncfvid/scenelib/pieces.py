"""Composite visuals several beats build on: the architecture's pieces, the training view, badges.

These lay out mobjects from `ncfvid.scenelib.mobjects` inside the safe area and return the parts a
template animates. They never call `play`: the generated scene decides what moves and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Animation,
    Arrow,
    DecimalNumber,
    Dot,
    Line,
    Mobject,
    Text,
    UpdateFromAlphaFunc,
    VGroup,
    VMobject,
)

from ncfvid.numbers import common_places, format_all
from ncfvid.scenelib.layout import (
    SafeArea,
    SansText,
    fit,
    format_value,
    label,
    number,
    paragraph,
    place_below_heading,
    word,
)
from ncfvid.scenelib.mobjects import (
    Chip,
    EmbeddingTable,
    LoopDiagram,
    LossPlot,
    MlpDiagram,
    RatingsGrid,
    VectorColumn,
    _brackets,
    shown_values,
)
from ncfvid.storydata import StoryData, Theme, Twin


def bullet_list(items: Sequence[str], color: str, dot_color: str, width: float = 11.0) -> VGroup:
    """Bullet points, each wrapped to `width`, left-aligned."""
    rows = VGroup()
    for item in items:
        text = paragraph(item, size=30, color=color, max_width=width - 0.6, max_height=1.6)
        dot = Dot(radius=0.07, color=dot_color).next_to(text, LEFT, buff=0.3)
        dot.align_to(text, UP).shift(DOWN * 0.12)
        rows.add(VGroup(dot, text))
    rows.arrange(DOWN, buff=0.4, aligned_edge=LEFT)
    return rows


def similarity_badges(
    table: RatingsGrid, twins: Sequence[Twin], theme: Theme, places: int | None = None
) -> list[Mobject]:
    """A badge with the similarity right of each twin's row, under one 'similarity' heading.

    Only the number goes in the badge, so the column stays narrow and the table keeps its size.
    """
    cell_height = table.cells[(0, 0)].height
    heading = label(word("similarity"), size=20, color=theme.accent)
    heading.scale_to_fit_height(min(heading.height, cell_height * 0.5))
    heading.next_to(table, RIGHT, buff=0.25).set_y(table.item_labels[0].get_y())
    badges: list[Mobject] = [heading]
    texts = format_all([twin.similarity for twin in twins], 2 if places is None else places, table.decimal)
    for twin, text in zip(twins, texts, strict=True):
        row = table.users.index(twin.user)
        badge = Chip(str(text), theme.accent, theme.text, size=22)
        badge.scale_to_fit_height(min(badge.height, cell_height * 0.85))
        badge.move_to(heading).set_y(table.cells[(row, 0)].get_y())
        badges.append(badge)
    return badges


@dataclass
class Lookup:
    """An embedding lookup: the table, the arrow from the id, the picked row and the vector."""

    table: EmbeddingTable
    arrow: Arrow
    row: int
    row_box: Mobject
    vector: VectorColumn

    def __post_init__(self) -> None:
        self.group = VGroup(self.table, self.arrow, self.row_box, self.vector)


@dataclass
class Joined:
    """The two vectors stacked into one: where each goes, and the bracket and label around them."""

    parts: list[Mobject]
    targets: list[Mobject]
    bracket: VGroup
    label: Text

    def __post_init__(self) -> None:
        self.group = VGroup(*self.targets, self.bracket, self.label)


@dataclass
class Tower:
    """The MLP diagram with the joined vector feeding its first layer."""

    diagram: MlpDiagram
    label: Text
    joined: Mobject
    joined_target: Mobject
    inputs: VGroup


@dataclass
class Readout:
    """The prediction next to the output node."""

    arrow: Arrow
    readout: VGroup
    number: Text
    node: Mobject

    def aim(self) -> None:
        """Point the arrow from the output node at the readout again (after the readout moved)."""
        self.arrow.put_start_and_end_on(self.node.get_right(), self.readout.get_left())


@dataclass
class TrainingView:
    """The training loop, the loss plot and a readout that follow the epochs."""

    loop: LoopDiagram
    axes: VGroup
    plot: LossPlot
    readout: VGroup
    run_animation: Animation

    def __post_init__(self) -> None:
        self.group = VGroup(self.loop, self.axes, self.readout)

    def run(self) -> Animation:
        return self.run_animation


class TrainingReadout(VGroup):
    """Two lines of live numbers under the training view: a known rating being fitted, and the
    target's prediction, at the current epoch.

    The words are drawn once and only the numbers change (DecimalNumber reuses one mobject per
    character): building a new Text every frame would add every distinct string to Manim's SVG
    cache, which grows without bound over a long animation at a high frame rate.
    """

    def __init__(self, d: StoryData, theme: Theme, area: SafeArea, size: float = 24):
        self.d, self.area = d, area
        # (Not `self.target`: Mobject uses that name for generate_target.)
        self.history_epochs = np.asarray(d.history_epochs, dtype=float)
        self.example_history = np.asarray(d.example_history, dtype=float)
        self.target_history = np.asarray(d.target_history, dtype=float)

        def counter(places: int, color: str) -> DecimalNumber:
            return DecimalNumber(0, num_decimal_places=places, mob_class=SansText, font_size=size, color=color)

        def words(text: str, color: str) -> Text:
            return label(text, size=size, color=color)

        self.guess, self.error = counter(2, theme.text), counter(2, theme.text)
        self.epoch, self.forecast = counter(0, theme.accent), counter(1, theme.accent)
        true, predicted = word("true"), word("predicted")
        known = number(f"{d.example_true:g}")
        self.first = VGroup(
            words(f"{d.example_user} \u00d7 {d.example_item}:  {true} {known}   {predicted}", theme.text),
            self.guess,
            words(word("error"), theme.text),
            self.error,
        )
        self.second = VGroup(
            words(word("epoch"), theme.accent),
            self.epoch,
            words(f":  {d.target_user} \u00d7 {d.target_item} {predicted}", theme.accent),
            self.forecast,
        )
        super().__init__(self.first, self.second)
        self.show(1.0)
        # Once (set_value keeps the size), with room for numbers that grow wider as they change.
        self.scale(min(1.0, area.width * 0.97 / max(self.width, 1e-6)))
        self.show(0.0)

    def show(self, alpha: float) -> None:
        """Set the numbers for `alpha` of the way through training and lay the lines out again."""
        epoch = alpha * self.d.epochs
        guess = float(np.interp(epoch, self.history_epochs, self.example_history))
        self.guess.set_value(guess)
        self.error.set_value(guess - self.d.example_true)
        self.epoch.set_value(round(epoch))
        self.forecast.set_value(float(np.interp(epoch, self.history_epochs, self.target_history)))
        for row in (self.first, self.second):
            row.arrange(RIGHT, buff=0.15, aligned_edge=DOWN)
        self.first[2].shift(RIGHT * 0.25)  # a wider gap before "error"
        self.first[3].shift(RIGHT * 0.25)
        self.arrange(DOWN, buff=0.22)
        self.move_to([0, self.area.bottom + self.height / 2 + 0.05, 0])


def _roomier(pair: VGroup, width: float, height: float) -> VGroup:
    """`pair` stacked, or side by side when that keeps it bigger, fitted into width x height."""

    def factor() -> float:
        return min(1.0, width / max(pair.width, 1e-6), height / max(pair.height, 1e-6))

    pair.arrange(DOWN, buff=0.45)
    stacked = factor()
    pair.arrange(RIGHT, buff=0.5, aligned_edge=UP)
    if factor() <= stacked:
        pair.arrange(DOWN, buff=0.45)
    return fit(pair, width, height)


class PiecesMixin:
    """Methods of StoryScene that lay out the architecture and training visuals."""

    theme: Theme
    data: StoryData
    area: SafeArea
    stage: dict[str, Mobject]
    decimals: int | None
    decimal_mark: str

    def kept(self, name: str) -> Mobject | None:  # provided by StoryScene
        raise NotImplementedError

    def keep(self, name: str, mob: Mobject) -> Mobject:  # provided by StoryScene
        raise NotImplementedError

    # --- ids and lookups ------------------------------------------------------------------------

    def _column_x(self, side: str) -> float:
        return self.area.left + self.area.width * (0.25 if side == "user" else 0.75)

    def id_chips(self, user_label: str, item_label: str) -> tuple[Chip, Chip]:
        """The two id chips at the top of the left and right halves."""
        half = self.area.width / 2 - 0.4
        chips = []
        for side, heading_word, name in (
            ("user", user_label, self.data.target_user),
            ("item", item_label, self.data.target_item),
        ):
            color = self.theme.user if side == "user" else self.theme.item
            chip = Chip(f"{heading_word}: {name}", color, self.theme.text, size=30, max_width=half)
            chip.move_to([self._column_x(side), self.area.top - chip.height / 2, 0])
            self.keep(f"{side}_id", chip)
            chips.append(chip)
        return chips[0], chips[1]

    def place_side_by_side(self, group: VGroup, heading: Mobject | None) -> VGroup:
        """`group`'s parts side by side under `heading`, or stacked when that leaves them bigger."""
        top = heading.get_bottom()[1] - 0.4 if heading is not None else self.area.top
        width, height = self.area.width, top - self.area.bottom
        group.arrange(DOWN, buff=0.6)
        stacked = min(1.0, width / group.width, height / group.height)
        group.arrange(RIGHT, buff=1.0, aligned_edge=UP)
        if min(1.0, width / group.width, height / group.height) < stacked:
            group.arrange(DOWN, buff=0.6)
        return place_below_heading(group, heading, self.area)

    def number_places(self, given: int | None, *tables: Sequence[float | None]) -> int:
        """Decimals for one table: the beat's `decimals`, else the video's, else the fewest its values need."""
        if given is not None:
            return given
        if self.decimals is not None:
            return self.decimals
        return common_places([v for table in tables for v in table])

    def embedding_lookup(
        self,
        side: str,
        title: str | None,
        values: Sequence[float] | None,
        shown_dims: int,
        decimals: int | None = None,
    ) -> Lookup:
        """The embedding table under the side's id chip, its row marked, and the vector below it."""
        d = self.data
        color = self.theme.user if side == "user" else self.theme.item
        ids, matrix = (d.users, d.user_table) if side == "user" else (d.items, d.item_table)
        name = d.target_user if side == "user" else d.target_item
        vector_values = list(values) if values is not None else list(d.user_vector if side == "user" else d.item_vector)
        default_title = "User embeddings" if side == "user" else "Item embeddings"
        # A narrow frame shows part of the matrix (it stands for a bigger one either way): three
        # columns, and four rows with the looked-up one among them.
        columns, rows = (3, 4) if self.area.narrow else (6, len(ids))
        kept = sorted({*range(rows - 1), list(ids).index(name)})[:rows] if len(ids) > rows else range(len(ids))
        ids, matrix = [ids[i] for i in kept], [matrix[i] for i in kept]
        table = EmbeddingTable(title or default_title, ids, matrix, color, self.theme.text, columns=columns)
        shown = shown_values(vector_values, shown_dims)
        places = self.number_places(decimals, shown)
        vector = VectorColumn(shown, color, self.theme.text, places=places, decimal=self.decimal_mark)
        chip = self.kept(f"{side}_id")
        top = chip.get_bottom()[1] - 0.25 if chip is not None else self.area.top
        arrow_len = 0.55
        # Fit table and vector in the column between the chip and the bottom of the safe area.
        room = top - arrow_len - self.area.bottom
        stack = _roomier(VGroup(table, vector), self.area.width / 2 - 0.3, room)
        stack.move_to([self._column_x(side), top - arrow_len - stack.height / 2, 0])
        arrow = Arrow(
            [self._column_x(side), top, 0],
            [self._column_x(side), table.get_top()[1] - 0.02, 0],
            buff=0.05,
            color=self.theme.muted,
            stroke_width=4,
            max_tip_length_to_length_ratio=0.35,
        )
        row = list(ids).index(name)
        row_box = table.row_box(name, self.theme.accent)
        self.keep(f"{side}_lookup", VGroup(table, arrow, row_box))
        return Lookup(table, arrow, row, row_box, vector)

    # --- concatenation and the tower ------------------------------------------------------------

    def stacked_vectors(self, shown: int) -> VGroup:
        """The user vector's first values over the item vector's: the concatenation, drawn."""
        users, items = shown_values(self.data.user_vector, shown), shown_values(self.data.item_vector, shown)
        places, mark = self.number_places(None, users, items), self.decimal_mark
        stack = VGroup(
            VectorColumn(users, self.theme.user, self.theme.text, places=places, decimal=mark),
            VectorColumn(items, self.theme.item, self.theme.text, places=places, decimal=mark),
        ).arrange(DOWN, buff=0.08)
        for part in stack:  # one bracket around both; theirs stay (unpainted) so transforms pair them
            part.bracket.set_stroke(width=0)
        return stack

    def concatenate_vectors(self, text: str) -> Joined:
        """Fresh user and item vectors stacked into one column, a bracket and a label around both.

        `parts` are the vectors on screen now; `targets` are where they go (a template transforms one
        into the other), built anew so their layout never depends on earlier animations.
        """
        old = [self.kept("user_vector"), self.kept("item_vector")]
        targets = self.stacked_vectors(4)
        caption = label(
            f"{text} ({2 * self.data.embedding_size} values)",
            size=28,
            color=self.theme.text,
            max_width=self.area.width * 0.6,
        )
        fit(targets, self.area.width, self.area.height - caption.height - 0.5)
        block = VGroup(caption, targets).arrange(DOWN, buff=0.4)
        block.move_to([0, (self.area.top + self.area.bottom) / 2, 0])
        bracket = _brackets(targets, self.theme.text, reach=0.18)
        parts = [mob if mob is not None else target.copy() for mob, target in zip(old, targets, strict=True)]
        return Joined(parts, list(targets), bracket, caption)

    def mlp_tower(self, text: str, max_nodes: int) -> Tower:
        """The MLP in the middle, the concatenated vector as its input on the left, room at the right."""
        d = self.data
        diagram = MlpDiagram(
            d.layers[1:],
            node_color=self.theme.accent,
            edge_color=self.theme.muted,
            text_color=self.theme.text,
            max_nodes=max_nodes,
        )
        stack = self.stacked_vectors(4)  # as many as the joined vector: no two values merge on the way
        # A narrow frame gives the tower its whole width and puts the prediction under it.
        narrow = self.area.narrow
        left_room = self.area.width * (0.26 if narrow else 0.2)
        tall = self.area.height * (0.5 if self.area.upright else 0.64) - 1.0 if narrow else self.area.height - 1.6
        fit(diagram, self.area.width * (0.64 if narrow else 0.46), tall)
        fit(stack, left_room, max(diagram.height, self.area.height * 0.5 if narrow else 0))
        middle = self.area.top - 1.2 - stack.height / 2 if narrow else -0.2
        stack.move_to([self.area.left + left_room / 2, middle, 0])
        bracket = _brackets(stack, self.theme.text)
        caption = label(f"{word('input')} ({d.layers[0]})", size=22, color=self.theme.text, max_width=left_room)
        caption.next_to(stack, UP, buff=0.25)
        new_input = VGroup(*stack, bracket, caption)  # shaped as the joined vector, which becomes it
        diagram.move_to([self.area.left + left_room + (0.4 if narrow else 0.7) + diagram.width / 2, middle, 0])
        tower_label = label(text, size=32, color=self.theme.accent, max_width=diagram.width, weight="BOLD")
        tower_label.next_to(diagram, UP, buff=0.35)
        boxes = [box for part in stack for box in part.boxes if box.get_stroke_opacity() > 0]
        inputs = VGroup(
            *[
                Line(b.get_right(), n.get_center(), stroke_color=self.theme.muted, stroke_width=1, buff=0.05)
                for b in boxes
                for n in diagram.layers[0]
            ]
        )
        old = self.kept("joined")
        tower = Tower(diagram, tower_label, old if old is not None else new_input.copy(), new_input, inputs)
        self.stage["tower"] = VGroup(diagram, tower_label, inputs, new_input)
        self._tower = tower
        return tower

    def kept_tower(self) -> Tower:
        tower = getattr(self, "_tower", None)
        if tower is None:
            raise RuntimeError("forward_pass and prediction need an 'mlp' beat earlier in the act")
        return tower

    def prediction_readout(self, text: str, value: float | None, decimals: int | None = None) -> Readout:
        """'Predicted rating' and the number, right of the output node, inside the safe area."""
        tower = self.kept_tower()
        node = tower.diagram.output_node
        shown = self.data.prediction if value is None else value
        title = label(text, size=26, color=self.theme.text)
        places = decimals if decimals is not None else self.decimals if self.decimals is not None else 1
        number = label(format_value(shown, places, self.decimal_mark), size=64, color=self.theme.accent, weight="BOLD")
        readout = VGroup(title, number).arrange(DOWN, buff=0.25)
        if self.area.narrow:  # under the tower, the arrow pointing down to it
            below = min(m.get_bottom()[1] for m in self.stage["tower"]) - 0.9
            fit(readout, self.area.width, below - self.area.bottom)
            readout.move_to([node.get_x(), below - readout.height / 2, 0])
            readout.shift(RIGHT * min(0.0, self.area.right - readout.get_right()[0]))
            arrow = Arrow(node.get_bottom(), readout.get_top(), buff=0.15, color=self.theme.accent, stroke_width=4)
            return Readout(arrow, readout, number, node)
        left = node.get_right()[0] + 1.0
        fit(readout, self.area.right - left, self.area.height / 2)
        readout.move_to([(left + self.area.right) / 2, node.get_y(), 0])
        arrow = Arrow(node.get_right(), readout.get_left(), buff=0.15, color=self.theme.accent, stroke_width=4)
        return Readout(arrow, readout, number, node)

    # --- training -------------------------------------------------------------------------------

    def training_view(self, steps: Sequence[str], curve_label: str) -> TrainingView:
        """The loop of steps at left, the loss curve at right, live numbers underneath."""
        d = self.data
        loop = LoopDiagram(steps, self.theme.accent, self.theme.text)
        plot = LossPlot(
            d.loss_history, curve_label, self.theme.negative, self.theme.muted, self.theme.text, epochs=d.epochs
        )
        if self.area.narrow:  # the loop over the plot, both across the frame
            loop_share, plot_share = (0.36, 0.36) if self.area.upright else (0.34, 0.42)
            fit(loop, self.area.width * 0.9, self.area.height * loop_share)
            loop.move_to([0, self.area.top - loop.height / 2, 0])
            fit(plot, self.area.width * 0.85, self.area.height * plot_share)
            plot.next_to(loop, DOWN, buff=0.3)
        else:
            fit(loop, self.area.width * 0.42, self.area.height * 0.62)
            loop.move_to([self.area.left + self.area.width * 0.23, 0.55, 0])
            fit(plot, self.area.width * 0.46, self.area.height * 0.6)
            plot.move_to([self.area.left + self.area.width * 0.74, 0.6, 0])
        axes = VGroup(plot.x_axis, plot.y_axis, plot.title, plot.x_label, plot.y_top, plot.y_zero)

        readout = TrainingReadout(d, self.theme, self.area)
        curve = plot.curve
        curve_points = curve.copy()
        plot.remove(curve)

        def advance(mob: Mobject, alpha: float) -> None:
            mob[0].pointwise_become_partial(curve_points, 0, alpha)
            mob[1].move_to(plot.point_at(alpha * (len(d.loss_history) - 1)))
            mob[2].show(alpha)

        live = VGroup(VMobject(stroke_color=self.theme.negative, stroke_width=4), plot.marker, readout)
        run = UpdateFromAlphaFunc(live, advance)
        view = TrainingView(loop, axes, plot, readout, run)
        self.stage["training"] = VGroup(loop, axes, live)
        return view

    def missing_cells(self, only_target: bool) -> list[tuple[str, str, float]]:
        """(user, item, predicted value) for each '?' of the table, or just the target's."""
        d = self.data
        if only_target:
            return [(d.target_user, d.target_item, d.prediction)]
        return [
            (user, item, d.predicted(user, item))
            for user, row in zip(d.users, d.ratings, strict=True)
            for item, value in zip(d.items, row, strict=True)
            if value is None
        ]
