"""Values the story computes: the trained model's numbers, similarities, and narration that quotes them.

Training is cached on disk by a hash of everything it depends on (the table and the model section),
so an unchanged storyboard never retrains.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ncfvid.files import write_atomic
from ncfvid.model import NCFConfig, TrainResult, similar_users, train
from ncfvid.storydata import StoryData, Twin

if TYPE_CHECKING:
    from ncfvid.schema import Storyboard

DISPLAY_PLACES = 2  # vector values on screen
PREDICTION_PLACES = 1  # predicted ratings, on screen and in speech alike
TABLE_COLUMNS = 6  # embedding-table columns drawn before the ellipsis


def ncf_config(story: Storyboard) -> NCFConfig:
    m = story.model
    return NCFConfig(
        embedding_size=m.embedding_size,
        layers=tuple(m.layers[1:-1]),
        learning_rate=m.learning_rate,
        epochs=m.epochs,
        seed=m.seed,
    )


def ratings_matrix(story: Storyboard) -> list[list[float | None]]:
    return [list(row) for row in story.data.ratings.values()]


@functools.cache
def _model_code() -> str:
    folder = Path(__file__).parent / "model"
    digest = hashlib.sha256()
    for file in sorted(folder.glob("*.py")):
        digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()


def model_key(story: Storyboard) -> str:
    """A hash of everything training depends on."""
    payload = {
        "ratings": ratings_matrix(story),
        "model": story.model.model_dump(mode="json"),
        "v": 1,
        "code": _model_code(),  # the training code and the NumPy it runs on
        "numpy": importlib.metadata.version("numpy"),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def train_story(story: Storyboard, cache_dir: Path | None = None) -> tuple[TrainResult, bool]:
    """The trained model for this storyboard and whether it came from the cache."""
    from ncfvid.cacheguard import Damaged, read_summed, summed

    path = cache_dir / f"model-{model_key(story)}.json" if cache_dir is not None else None
    if path is not None and path.is_file():
        try:
            result = TrainResult.from_dict(read_summed(path))
            if result.predictions.shape != (len(story.users), len(story.data.items)):
                raise Damaged("trained on another table")
            return result, True
        except (Damaged, ValueError, KeyError, TypeError, AttributeError) as err:
            print(f"ncfvid: damaged trained model {path} ({err}): trained again", file=sys.stderr, flush=True)
    result = train(ratings_matrix(story), ncf_config(story))
    if path is not None:
        write_atomic(path, summed(result.to_dict()))
    return result, False


def _r(value: float, places: int = 4) -> float:
    return round(float(value), places)


def _downsample(values: list[float], points: int = 60) -> list[float]:
    if len(values) <= points:
        return list(values)
    step = (len(values) - 1) / (points - 1)
    return [values[round(i * step)] for i in range(points)]


def twins_of(story: Storyboard, user: str, top: int) -> list[Twin]:
    """The users most similar to `user` (cosine over co-rated items)."""
    users = story.users
    ranked = similar_users(ratings_matrix(story), users.index(user), top=top)
    return [Twin(users[index], _r(sim, 2)) for index, sim in ranked]


def example_cell(story: Storyboard, user: str | None = None, item: str | None = None) -> tuple[str, str]:
    """The known rating a training scene follows: the one given, else the first known one."""
    if user is not None and item is not None:
        return user, item
    for name, row in story.data.ratings.items():
        for index, value in enumerate(row):
            if value is not None:
                return name, story.data.items[index]
    raise ValueError("the table has no known rating")


def story_data(story: Storyboard, result: TrainResult, example: tuple[str, str] | None = None) -> StoryData:
    """Everything the generated scenes draw, rounded for display."""
    d = story.data
    users, items = story.users, list(d.items)
    u, i = users.index(d.target.user), items.index(d.target.item)
    ex_user, ex_item = example or example_cell(story)
    eu, ei = users.index(ex_user), items.index(ex_item)
    history = result.prediction_history
    # A rating outside the scale cannot be given; like any recommender, show the nearest one that can.
    shown = np.clip(result.predictions, d.scale.min, d.scale.max)
    return StoryData(
        corner=d.corner,
        users=tuple(users),
        items=tuple(items),
        ratings=tuple(tuple(row) for row in d.ratings.values()),
        target_user=d.target.user,
        target_item=d.target.item,
        prediction=round(float(shown[u, i]), PREDICTION_PLACES),
        predictions=tuple(tuple(round(float(v), PREDICTION_PLACES) for v in row) for row in shown),
        user_vector=tuple(_r(v, DISPLAY_PLACES) for v in result.user_embeddings[u]),
        item_vector=tuple(_r(v, DISPLAY_PLACES) for v in result.item_embeddings[i]),
        user_table=tuple(tuple(_r(v, 3) for v in row[:TABLE_COLUMNS]) for row in result.user_embeddings),
        item_table=tuple(tuple(_r(v, 3) for v in row[:TABLE_COLUMNS]) for row in result.item_embeddings),
        embedding_size=story.model.embedding_size,
        layers=tuple(story.model.layers),
        loss_history=tuple(_r(v, 4) for v in _downsample(list(result.loss_history))),
        history_epochs=tuple(int(e) for e in result.history_epochs),
        target_history=tuple(_r(history[k, u, i], 3) for k in range(history.shape[0])),
        example_user=ex_user,
        example_item=ex_item,
        example_true=float(d.ratings[ex_user][ei]),  # type: ignore[arg-type]
        example_history=tuple(_r(history[k, eu, ei], 3) for k in range(history.shape[0])),
        epochs=story.model.epochs,
    )


def narration_context(story: Storyboard, data: StoryData, result: TrainResult) -> dict[str, Any]:
    """The names narration may quote: `{{ prediction }}` says exactly what the screen shows."""
    missing = {
        f"{user} x {item}": data.predicted(user, item)
        for user, row in zip(data.users, data.ratings, strict=True)
        for item, value in zip(data.items, row, strict=True)
        if value is None
    }
    twins = twins_of(story, data.target_user, top=len(data.users) - 1)
    return {
        "prediction": data.prediction,
        "target": {"user": data.target_user, "item": data.target_item},
        "rmse": round(result.rmse, 3),
        "epochs": data.epochs,
        "first_loss": round(result.loss_history[0], 2),
        "final_loss": round(result.loss_history[-1], 4),
        "predictions": missing,
        "twins": [{"user": t.user, "similarity": t.similarity} for t in twins],
        "title": story.title,
    }


def completed_table(story: Storyboard, result: TrainResult) -> list[str]:
    """`ncfvid model`'s report: the ratings table with the predicted cells, the fit and the target."""
    items = list(story.data.items)
    width = max(8, *(len(i) for i in items))
    name_width = max(len(story.data.corner), *(len(u) for u in story.users))
    lines = [f"{story.data.corner:<{name_width}}  " + "  ".join(f"{i:>{width}}" for i in items)]
    for u, (user, row) in enumerate(story.data.ratings.items()):
        cells = []
        for i, value in enumerate(row):
            text = f"{value:g}" if value is not None else f"({result.predictions[u, i]:.2f})"
            cells.append(f"{text:>{width}}")
        lines.append(f"{user:<{name_width}}  " + "  ".join(cells))
    t = story.data.target
    u, i = story.users.index(t.user), items.index(t.item)
    return [
        *lines,
        "(predicted values in parentheses)",
        f"training RMSE: {result.rmse:.4f} over {story.model.epochs} epochs",
        f"target: {t.user} x {t.item} = {result.predictions[u, i]:.3f}",
        f"trained in {result.seconds:.2f} s",
    ]
