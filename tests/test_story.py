"""What the scenes show of the trained model."""

from __future__ import annotations

from pathlib import Path

from ncfvid.pipeline import load, prepare

ROOT = Path(__file__).resolve().parent.parent


def test_shown_predictions_stay_on_the_rating_scale() -> None:
    # bookclub's model predicts some missing cells below 1 on its 1-5 scale.
    prepared = prepare(load(ROOT / "storyboards" / "bookclub.yaml"), None)
    scale = prepared.loaded.story.data.scale
    values = [v for row in prepared.data.predictions for v in row]
    assert min(values) == scale.min
    assert all(scale.min <= v <= scale.max for v in values)
    assert scale.min <= prepared.data.prediction <= scale.max
