"""Training the NCF of `ncfvid.model.ncf` on a ratings table: the known triplets, the epochs (full
batch or shuffled mini-batches, Adam), the history of predictions the video shows, and the result's
JSON form (cached by `ncfvid.story`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ncfvid.model.ncf import Adam, NCFConfig, NCFModel, _is_int, _is_real

__all__ = ["TrainResult", "init_model", "parse_ratings", "train"]

#: Format tag written by :meth:`TrainResult.to_dict` (bump on incompatible changes).
RESULT_FORMAT = "ncfvid.ncf.train-result/1"


# --------------------------------------------------------------------------------------------------------
# Data and training
# --------------------------------------------------------------------------------------------------------


def parse_ratings(
    ratings: Sequence[Sequence[float | None]],
) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray]:
    """Validate a ratings table and extract its known triplets.

    Returns ``(n_users, n_items, users, items, values)`` where the last three are 1-D arrays of the known
    cells in row-major order. Raises ``ValueError`` for an empty or ragged table, non-numeric or non-finite
    values, or a table without any known rating.
    """
    if isinstance(ratings, str | bytes) or not isinstance(ratings, Sequence | np.ndarray):
        raise ValueError("ratings must be a sequence of rows (users), each a sequence of item ratings")
    if len(ratings) == 0:
        raise ValueError("ratings must have at least one row (user)")
    rows = []
    for u, row in enumerate(ratings):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence | np.ndarray):
            raise ValueError(f"ratings row {u} is not a sequence: {row!r}")
        rows.append(list(row))
    n_items = len(rows[0])
    if n_items == 0:
        raise ValueError("ratings rows must have at least one column (item)")
    for u, row in enumerate(rows):
        if len(row) != n_items:
            raise ValueError(f"ragged ratings: row 0 has {n_items} items but row {u} has {len(row)}")
    users, items, values = [], [], []
    for u, row in enumerate(rows):
        for i, value in enumerate(row):
            if value is None:
                continue
            if not _is_real(value) or not math.isfinite(float(value)):
                raise ValueError(f"rating at (user {u}, item {i}) must be a finite number or None, got {value!r}")
            users.append(u)
            items.append(i)
            values.append(float(value))
    if not values:
        raise ValueError("ratings contain no known rating (every cell is None)")
    return (
        len(rows),
        n_items,
        np.array(users, dtype=np.intp),
        np.array(items, dtype=np.intp),
        np.array(values, dtype=np.float64),
    )


def _history_epochs(epochs: int, history_points: int) -> list[int]:
    """``history_points`` epochs evenly spread over ``[0, epochs]``, always including both ends."""
    points = np.rint(np.linspace(0, epochs, history_points)).astype(int)
    return sorted({int(e) for e in points} | {0, epochs})


def _array(value: Any, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False)
class TrainResult:
    """Outcome of :func:`train`: learned embeddings, predictions, and the training history.

    Attributes:
        config: the configuration used.
        user_embeddings: learned user vectors, (n_users, k).
        item_embeddings: learned item vectors, (n_items, k).
        predictions: model output for every (user, item) cell after training, (n_users, n_items).
        loss_history: training MSE on all known ratings after each epoch (``len == config.epochs``).
        history_epochs: epochs at which ``prediction_history`` was sampled (0 = before training, and the
            last epoch).
        prediction_history: predictions for every cell at those epochs,
            (len(history_epochs), n_users, n_items).
        rmse: training RMSE on the known ratings after training.
        seconds: wall time of training.
    """

    config: NCFConfig
    user_embeddings: np.ndarray
    item_embeddings: np.ndarray
    predictions: np.ndarray
    loss_history: list[float]
    history_epochs: list[int]
    prediction_history: np.ndarray
    rmse: float
    seconds: float = field(default=0.0)

    @property
    def n_users(self) -> int:
        return int(self.predictions.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.predictions.shape[1])

    def predict(self, user: int, item: int) -> float:
        """The trained model's rating for ``(user, item)`` (0-based indices)."""
        if not _is_int(user) or not 0 <= user < self.n_users:
            raise ValueError(f"user must be an index in [0, {self.n_users}), got {user!r}")
        if not _is_int(item) or not 0 <= item < self.n_items:
            raise ValueError(f"item must be an index in [0, {self.n_items}), got {item!r}")
        return float(self.predictions[user, item])

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (nested lists of floats); floats round-trip exactly through ``json``."""
        return {
            "format": RESULT_FORMAT,
            "config": self.config.to_dict(),
            "user_embeddings": self.user_embeddings.tolist(),
            "item_embeddings": self.item_embeddings.tolist(),
            "predictions": self.predictions.tolist(),
            "loss_history": [float(x) for x in self.loss_history],
            "history_epochs": [int(e) for e in self.history_epochs],
            "prediction_history": self.prediction_history.tolist(),
            "rmse": float(self.rmse),
            "seconds": float(self.seconds),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainResult:
        """Rebuild a result from :meth:`to_dict` output (e.g. a JSON cache file)."""
        if not isinstance(d, Mapping):
            raise ValueError(f"expected a mapping, got {type(d).__name__}")
        fmt = d.get("format", RESULT_FORMAT)
        if fmt != RESULT_FORMAT:
            raise ValueError(f"unsupported TrainResult format {fmt!r} (expected {RESULT_FORMAT!r})")
        required = (
            "config",
            "user_embeddings",
            "item_embeddings",
            "predictions",
            "loss_history",
            "history_epochs",
            "prediction_history",
            "rmse",
        )
        missing = [key for key in required if key not in d]
        if missing:
            raise ValueError(f"TrainResult dict is missing keys: {missing}")
        config = NCFConfig.from_dict(d["config"])
        predictions = _array(d["predictions"], "predictions", 2)
        history = _array(d["prediction_history"], "prediction_history", 3)
        history_epochs = [int(e) for e in d["history_epochs"]]
        if history.shape[0] != len(history_epochs) or history.shape[1:] != predictions.shape:
            raise ValueError(
                f"prediction_history shape {history.shape} does not match {len(history_epochs)} "
                f"history epochs and predictions shape {predictions.shape}"
            )
        return cls(
            config=config,
            user_embeddings=_array(d["user_embeddings"], "user_embeddings", 2),
            item_embeddings=_array(d["item_embeddings"], "item_embeddings", 2),
            predictions=predictions,
            loss_history=[float(x) for x in d["loss_history"]],
            history_epochs=history_epochs,
            prediction_history=history,
            rmse=float(d["rmse"]),
            seconds=float(d.get("seconds", 0.0)),
        )


def init_model(
    ratings: Sequence[Sequence[float | None]],
    config: NCFConfig = NCFConfig(),  # noqa: B008 - NCFConfig is frozen, a shared default is safe
    rng: np.random.Generator | None = None,
) -> NCFModel:
    """The untrained model :func:`train` starts from: sized for ``ratings``, output bias = mean known rating.

    ``rng`` defaults to ``numpy.random.default_rng(config.seed)``, which is what :func:`train` uses.
    """
    if not isinstance(config, NCFConfig):
        raise ValueError(f"config must be an NCFConfig, got {type(config).__name__}")
    n_users, n_items, _, _, values = parse_ratings(ratings)
    return NCFModel(
        n_users,
        n_items,
        config.embedding_size,
        config.layers,
        rng=np.random.default_rng(config.seed) if rng is None else rng,
        output_bias=float(values.mean()),
    )


def train(
    ratings: Sequence[Sequence[float | None]],
    config: NCFConfig = NCFConfig(),  # noqa: B008 - NCFConfig is frozen, a shared default is safe
    history_points: int = 20,
) -> TrainResult:
    """Train NCF on a ratings table.

    Args:
        ratings: rows are users, columns items, ``None`` = missing. Training uses the known
            (user, item, rating) triplets only.
        config: hyper-parameters (see :class:`NCFConfig`).
        history_points: how many snapshots of the full prediction grid to keep, evenly spread over
            ``[0, epochs]`` (always including epoch 0, before training, and the last epoch); at least 2.

    Returns:
        A :class:`TrainResult`. Deterministic for a given ``config.seed``.
    """
    start = time.perf_counter()
    if not isinstance(config, NCFConfig):
        raise ValueError(f"config must be an NCFConfig, got {type(config).__name__}")
    if not _is_int(history_points) or history_points < 2:
        raise ValueError(f"history_points must be an integer >= 2, got {history_points!r}")
    n_users, n_items, users, items, values = parse_ratings(ratings)
    rng = np.random.default_rng(config.seed)
    model = init_model(ratings, config, rng=rng)
    optimizer = Adam(model.params, config.learning_rate, config.beta1, config.beta2, config.eps)

    sample_at = _history_epochs(config.epochs, history_points)
    snapshots = {0: model.predict_all()} if 0 in sample_at else {}
    loss_history: list[float] = []
    for epoch in range(1, config.epochs + 1):
        loss_history.append(_epoch(model, optimizer, config, rng, (users, items, values)))
        if epoch in sample_at:
            snapshots[epoch] = model.predict_all()

    predictions = snapshots[config.epochs]
    prediction_history = np.stack([snapshots[e] for e in sample_at])
    return TrainResult(
        config=config,
        user_embeddings=model.params["user_embedding"].copy(),
        item_embeddings=model.params["item_embedding"].copy(),
        predictions=predictions,
        loss_history=loss_history,
        history_epochs=sample_at,
        prediction_history=prediction_history,
        rmse=math.sqrt(loss_history[-1]),
        seconds=time.perf_counter() - start,
    )


def _epoch(
    model: NCFModel,
    optimizer: Adam,
    config: NCFConfig,
    rng: np.random.Generator,
    known: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> float:
    """One epoch over the known (users, items, values), in mini-batches unless the batch holds them
    all; the training MSE after it."""
    users, items, values = known
    n = values.size
    if config.batch_size is None or config.batch_size >= n:
        _, grads = model.loss_and_grads(users, items, values)
        optimizer.step(grads)
    else:
        order = rng.permutation(n)
        for lo in range(0, n, config.batch_size):
            batch = order[lo : lo + config.batch_size]
            _, grads = model.loss_and_grads(users[batch], items[batch], values[batch])
            optimizer.step(grads)
    pred, _ = model.forward(users, items)
    err = pred - values
    return float(np.mean(err * err))
