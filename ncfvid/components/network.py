"""The network: the MLP tower, a forward pass, the prediction, the training loop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from ncfvid.components import Component, Finding
from ncfvid.schemabase import CellRef, ShownNumber, Strict

if TYPE_CHECKING:
    from ncfvid.schema import Storyboard


class Mlp(Strict):
    """The MLP tower, layer widths from the model; wide layers are drawn capped with an ellipsis."""

    component: Literal["mlp"]
    label: str = Field("MLP", max_length=40, description="Label above the tower.")
    max_nodes: int = Field(6, ge=2, le=12, description="Most nodes drawn per layer before an ellipsis.")


class ForwardPass(Strict):
    """Activity flows from the input through each layer of the tower."""

    component: Literal["forward_pass"]


class Prediction(Strict):
    """The output node gives the prediction (from the model unless `value` is given)."""

    component: Literal["prediction"]
    label: str = Field("Predicted rating", max_length=40, description="Text before the number.")
    value: ShownNumber | None = Field(None, description="A value to show instead of the model's prediction.")
    decimals: int | None = Field(
        None, ge=0, le=4, description="Decimals of the numbers shown (default: video.decimals, else per table)."
    )


class TrainingLoop(Strict):
    """Predict, compare with the true rating, measure the error, adjust, repeat; the loss curve falls."""

    component: Literal["training_loop"]
    steps: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(
        default_factory=lambda: ["Predict", "Compare", "Measure error", "Adjust weights"],
        min_length=2,
        max_length=6,
        description="The names of the loop's steps, in order.",
    )
    example: CellRef | None = Field(
        None, description="A known rating to follow during training (default: the first known one)."
    )
    curve_label: str = Field("Training loss (MSE)", max_length=40, description="Title of the loss plot.")


def training_loop_rules(story: Storyboard, show: TrainingLoop) -> Iterator[Finding]:
    if show.example is None:
        return
    ex = show.example
    row = story.data.ratings.get(ex.user, [])
    index = story.data.items.index(ex.item) if ex.item in story.data.items else -1
    if 0 <= index < len(row) and row[index] is None:
        yield (
            ("example",),
            f"{ex.user} has not rated {ex.item}; training follows a known rating, so choose a cell that has one",
            "error",
        )


NEEDS_MLP = "needs an 'mlp' beat earlier in the same act to flow through"

COMPONENTS = [
    Component(
        Mlp,
        manim=("Create", "FadeIn", "ReplacementTransform", "VGroup", "Write"),
        library=("label",),
        draw_seconds=0.9,
    ),
    Component(ForwardPass, after=("mlp",), after_message=NEEDS_MLP, manim=("ShowPassingFlash",), draw_seconds=0.9),
    Component(
        Prediction,
        after=("mlp",),
        after_message=NEEDS_MLP,
        manim=("Circumscribe", "FadeIn", "GrowArrow"),
        library=("label",),
        draw_seconds=0.4,
    ),
    Component(
        TrainingLoop,
        rules=training_loop_rules,
        manim=("FadeIn", "Indicate", "Succession", "linear"),
        draw_seconds=3.6,
    ),
]
