"""Plain data a generated scene draws from: the table, the trained model's values, the colours.

The compiler fills these from the storyboard and the trained model and writes them into the scene
module as literals, so a generated module is self-contained and deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    """Colours as #RRGGBB strings."""

    background: str = "#0E1117"
    text: str = "#ECEFF4"
    muted: str = "#8B93A7"
    accent: str = "#FFD166"
    user: str = "#58C4DD"
    item: str = "#83C167"
    positive: str = "#83C167"
    negative: str = "#FC6255"


@dataclass(frozen=True)
class Twin:
    """A user similar to the target user, with their cosine similarity."""

    user: str
    similarity: float


@dataclass(frozen=True)
class StoryData:
    """The numbers and names one storyboard's scenes show."""

    corner: str
    users: tuple[str, ...]
    items: tuple[str, ...]
    ratings: tuple[tuple[float | None, ...], ...]
    target_user: str
    target_item: str
    # From the trained model (rounded for display).
    prediction: float = 0.0
    predictions: tuple[tuple[float, ...], ...] = ()
    user_vector: tuple[float, ...] = ()
    item_vector: tuple[float, ...] = ()
    user_table: tuple[tuple[float, ...], ...] = ()
    item_table: tuple[tuple[float, ...], ...] = ()
    embedding_size: int = 0
    layers: tuple[int, ...] = ()
    loss_history: tuple[float, ...] = ()
    history_epochs: tuple[int, ...] = ()
    target_history: tuple[float, ...] = ()
    example_user: str = ""
    example_item: str = ""
    example_true: float = 0.0
    example_history: tuple[float, ...] = ()
    epochs: int = 0

    def rating(self, user: str, item: str) -> float | None:
        return self.ratings[self.users.index(user)][self.items.index(item)]

    def predicted(self, user: str, item: str) -> float:
        return self.predictions[self.users.index(user)][self.items.index(item)]
