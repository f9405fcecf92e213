"""The drawing library generated scenes use: mobjects, layout helpers and the StoryScene base.

Generated modules import from here only; keeping the geometry in tested Python lets the templates
stay short choreography.
"""

from ncfvid.scenelib.layout import SafeArea, fit, format_value, heading, label, paragraph, place_below_heading
from ncfvid.scenelib.mobjects import (
    Chip,
    DnaCard,
    EmbeddingTable,
    LoopDiagram,
    LossPlot,
    MlpDiagram,
    RatingsGrid,
    TitleCard,
    VectorColumn,
    shown_values,
)
from ncfvid.scenelib.pieces import bullet_list, similarity_badges
from ncfvid.scenelib.scene import StoryScene
from ncfvid.storydata import StoryData, Theme, Twin

__all__ = [
    "Chip",
    "DnaCard",
    "EmbeddingTable",
    "LoopDiagram",
    "LossPlot",
    "MlpDiagram",
    "RatingsGrid",
    "SafeArea",
    "StoryData",
    "StoryScene",
    "Theme",
    "TitleCard",
    "Twin",
    "VectorColumn",
    "bullet_list",
    "fit",
    "format_value",
    "heading",
    "label",
    "paragraph",
    "place_below_heading",
    "shown_values",
    "similarity_badges",
]
