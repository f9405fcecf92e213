"""The ratings table: shown with highlights, with a user's taste twins marked, filled with predictions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from ncfvid.components import Component, Finding
from ncfvid.schemabase import CellRef, Strict, check_item_exists, check_user_exists

if TYPE_CHECKING:
    from ncfvid.schema import Storyboard


class Highlight(Strict):
    """What to highlight in the ratings table: one cell, a user's row, or an item's column."""

    cell: CellRef | None = Field(None, description="Highlight one cell.")
    row: str | None = Field(None, description="Highlight a user's row.")
    column: str | None = Field(None, description="Highlight an item's column.")

    _row_exists = field_validator("row")(check_user_exists)
    _column_exists = field_validator("column")(check_item_exists)

    @model_validator(mode="after")
    def check_exactly_one_target(self) -> Highlight:
        chosen = [name for name in ("cell", "row", "column") if getattr(self, name) is not None]
        if len(chosen) != 1:
            rule = "a highlight names exactly one of 'cell', 'row' or 'column'"
            if not chosen:
                raise ValueError(f"{rule}, but this one names none")
            names = " and ".join(repr(name) for name in chosen)
            raise ValueError(f"{rule}, but this one names {names}; give each its own entry in the list")
        return self


class RatingsTable(Strict):
    """The ratings table, with missing cells shown as '?'. Reuses the table if it is on screen."""

    component: Literal["ratings_table"]
    caption: str | None = Field(None, max_length=120, description="A line above the table.")
    highlight: list[Highlight] = Field(default_factory=list, description="Cells, rows or columns to mark.")


class TasteTwins(Strict):
    """The users most similar to one user (cosine similarity over co-rated items), marked in the table."""

    component: Literal["taste_twins"]
    user: str | None = Field(None, description="Whose twins to find (default: the target user).")
    top: int = Field(2, ge=1, le=11, description="How many twins to mark.")
    caption: str | None = Field(None, max_length=120, description="A line above the table.")
    decimals: int | None = Field(
        None, ge=0, le=4, description="Decimals of the numbers shown (default: video.decimals, else per table)."
    )

    _user_exists = field_validator("user")(check_user_exists)


class FillTable(Strict):
    """Back to the table: each missing cell is filled with the model's prediction."""

    component: Literal["fill_table"]
    caption: str | None = Field(None, max_length=120, description="A line above the table.")
    only_target: bool = Field(False, description="Fill only the target cell instead of every '?'.")
    decimals: int | None = Field(
        None, ge=0, le=4, description="Decimals of the numbers shown (default: video.decimals, else per table)."
    )


def taste_twins_rules(story: Storyboard, show: TasteTwins) -> Iterator[Finding]:
    if show.top >= len(story.data.ratings):
        others = len(story.data.ratings) - 1
        fix = f"set top to at most {others}" if others else "add users to compare with"
        yield (
            ("top",),
            f"top is {show.top} but the table has only {others} other user{'s' if others != 1 else ''}; {fix}",
            "error",
        )


def taste_twins_params(story: Storyboard, show: TasteTwins) -> dict[str, Any]:
    """The template gets the user (default: the target's) and the twins computed from the table."""
    from ncfvid.story import twins_of

    params = show.model_dump(mode="python")
    user = params["user"] or story.data.target.user
    params["user"] = user
    params["twins"] = twins_of(story, user, params["top"])
    return params


COMPONENTS = [
    Component(RatingsTable, manim=("Create", "Indicate"), draw_seconds=1.0),
    Component(
        TasteTwins,
        rules=taste_twins_rules,
        params=taste_twins_params,
        manim=("Create", "FadeIn", "LEFT", "LaggedStart"),
        library=("Twin", "similarity_badges"),
        draw_seconds=1.3,
    ),
    Component(FillTable, manim=("Create", "LaggedStart", "Transform"), draw_seconds=0.9),
]
