"""NCF in NumPy (no Manim): the model trained for the video, and the rating-similarity baseline."""

from ncfvid.model.ncf import Adam, NCFConfig, NCFModel, TrainResult, init_model, train
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
