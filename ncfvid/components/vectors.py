"""Vectors: labelled 'DNA' vectors, the two IDs, an embedding lookup, the joined vector."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from ncfvid.components import Component, Finding
from ncfvid.schemabase import ScreenText, ShownNumber, Strict, rule_error

if TYPE_CHECKING:
    from ncfvid.schema import Storyboard


class DnaVector(Strict):
    """One labelled vector: whose it is, the name of each dimension and its values."""

    label: ScreenText = Field(description="Heading above the vector, e.g. \"Alice's 'Taste DNA'\".")
    kind: Literal["user", "item"] = Field(description="Whether it belongs to a user or an item (colour).")
    dims: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        min_length=1, max_length=8, description="Name of each dimension."
    )
    values: list[ShownNumber] = Field(min_length=1, max_length=8, description="One value per dimension.")

    @model_validator(mode="after")
    def check_values_match_dims(self) -> DnaVector:
        if len(self.values) != len(self.dims):
            raise rule_error(
                f"{len(self.values)} values for {len(self.dims)} dimension labels; give one value per label",
                "values",
            )
        return self


class DnaVectors(Strict):
    """Labelled 'DNA' vectors side by side, each with named dimensions and bars for the values."""

    component: Literal["dna_vectors"]
    title: str | None = Field(None, max_length=120, description="A heading above the vectors.")
    vectors: list[DnaVector] = Field(min_length=1, max_length=3, description="The vectors to show.")
    decimals: int | None = Field(
        None, ge=0, le=4, description="Decimals of the numbers shown (default: video.decimals, else per table)."
    )


class Ids(Strict):
    """The two IDs that enter the model: the target user and item, as chips."""

    component: Literal["ids"]
    user_label: str = Field("User", max_length=30, description="Word before the user's name.")
    item_label: str = Field("Item", max_length=30, description="Word before the item's name.")


class EmbeddingLookup(Strict):
    """An ID goes into an embedding table; its row is pulled out as a vector (values from the model)."""

    component: Literal["embedding_lookup"]
    side: Literal["user", "item"] = Field(description="Look up the target user's or the target item's row.")
    title: str | None = Field(None, max_length=40, description="Table heading (default 'User Embeddings').")
    shown_dims: int = Field(4, ge=1, le=8, description="How many of the vector's values to show.")
    values: list[ShownNumber] | None = Field(
        None, description="Values to show instead of the trained model's embedding."
    )
    decimals: int | None = Field(
        None, ge=0, le=4, description="Decimals of the numbers shown (default: video.decimals, else per table)."
    )


class Concatenate(Strict):
    """The user and item vectors join into one longer vector."""

    component: Literal["concatenate"]
    label: str = Field("Concatenated vector", max_length=40, description="Label of the joined vector.")


def embedding_lookup_rules(story: Storyboard, show: EmbeddingLookup) -> Iterator[Finding]:
    if show.shown_dims > story.model.embedding_size:
        yield (
            ("shown_dims",),
            f"shows {show.shown_dims} values but the embedding has only {story.model.embedding_size}; "
            f"set shown_dims to at most {story.model.embedding_size}",
            "error",
        )
    if show.values is not None and len(show.values) < show.shown_dims:
        yield (
            ("values",),
            f"{len(show.values)} values given but shown_dims is {show.shown_dims}; "
            "give at least shown_dims values or lower shown_dims",
            "error",
        )


COMPONENTS = [
    Component(
        DnaVectors,
        manim=("FadeIn", "LaggedStart", "RIGHT", "UP", "VGroup"),
        library=("DnaCard", "label", "place_below_heading"),
        draw_seconds=2.1,
    ),
    Component(Ids, manim=("DOWN", "FadeIn", "VGroup"), draw_seconds=0.9),
    Component(
        EmbeddingLookup,
        rules=embedding_lookup_rules,
        manim=("Create", "DOWN", "FadeIn", "GrowArrow", "TransformFromCopy"),
        draw_seconds=1.5,
    ),
    Component(
        Concatenate,
        manim=("FadeIn", "FadeOut", "ReplacementTransform", "VGroup", "Write"),
        library=("label",),
        draw_seconds=1.2,
    ),
]
