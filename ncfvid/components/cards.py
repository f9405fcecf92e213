"""Cards: a title, a heading with a paragraph, bullet points."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ncfvid.components import Component
from ncfvid.schemabase import ScreenText, Strict

if TYPE_CHECKING:
    pass


class TitleCard(Strict):
    """A big title with an optional subtitle. Clears the screen."""

    component: Literal["title_card"]
    title: ScreenText = Field(description="The title.")
    subtitle: str | None = Field(None, max_length=200, description="A smaller line under the title.")


class TextCard(Strict):
    """A heading and a paragraph of text. Clears the screen."""

    component: Literal["text_card"]
    title: ScreenText = Field(description="The heading.")
    body: str = Field("", max_length=600, description="The paragraph under the heading.")


class Bullets(Strict):
    """A heading and bullet points, revealed one by one. Clears the screen."""

    component: Literal["bullets"]
    title: ScreenText = Field(description="The heading.")
    items: list[ScreenText] = Field(min_length=1, max_length=8, description="The bullet points.")


COMPONENTS = [
    Component(TitleCard, manim=("FadeIn", "UP", "Write"), library=("TitleCard",), draw_seconds=0.5),
    Component(
        TextCard,
        manim=("DOWN", "FadeIn", "VGroup", "Write"),
        library=("heading", "paragraph", "place_below_heading"),
        draw_seconds=1.6,
    ),
    Component(
        Bullets,
        manim=("DOWN", "FadeIn", "LaggedStart", "RIGHT", "VGroup"),
        library=("bullet_list", "heading", "place_below_heading"),
        draw_seconds=1.0,
    ),
]
