"""NCF in NumPy (no Manim): the model trained for the video, and the rating-similarity baseline."""

from ncfvid.model.ncf import Adam, NCFConfig, NCFModel
from ncfvid.model.similarity import cosine_similarity, similar_users
from ncfvid.model.training import TrainResult, init_model, train

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
