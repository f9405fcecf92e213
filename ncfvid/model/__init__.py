"""NCF in NumPy (no Manim): the model trained for the video, and the rating-similarity baseline.

The similarity is plain Python and loads at once; the NCF (NumPy) only when one of its names is
used, so that `ncfvid validate` (which compares users' ratings) never imports NumPy.
"""

from typing import Any

from ncfvid.model.similarity import cosine_similarity, similar_users

__all__ = [
    "Adam",
    "NCFConfig",
    "NCFModel",
    "TrainResult",
    "cosine_similarity",
    "init_model",
    "similar_users",
    "train",
]

_NCF = {"Adam", "NCFConfig", "NCFModel"}
_TRAINING = {"TrainResult", "init_model", "train"}


def __getattr__(name: str) -> Any:
    if name in _NCF:
        from ncfvid.model import ncf

        return getattr(ncf, name)
    if name in _TRAINING:
        from ncfvid.model import training

        return getattr(training, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
