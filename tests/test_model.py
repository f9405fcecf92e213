"""Tests for the NumPy NCF model (ncfvid.model.ncf)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from ncfvid.model import NCFConfig, TrainResult, train
from ncfvid.model.ncf import Adam, NCFModel
from ncfvid.model.training import init_model, parse_ratings

# The seed's table: users Alice, Bob, Charlie, David; items Star Wars, The Matrix, Titanic, Shrek, Frozen.
SEED_TABLE: list[list[float | None]] = [
    [5, 5, 1, None, 1],
    [5, 4, None, 2, 2],
    [None, 2, 5, 5, None],
    [2, None, 5, 4, 5],
]
SEED_MEAN = 53 / 15  # 15 known ratings summing to 53
ALICE, SHREK = 0, 3


@pytest.fixture(scope="module")
def default_result() -> TrainResult:
    return train(SEED_TABLE)


# --------------------------------------------------------------------------------------------------------
# Backpropagation
# --------------------------------------------------------------------------------------------------------


def _small_model() -> tuple[NCFModel, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(123)
    model = NCFModel(4, 3, embedding_size=3, layers=(5, 4), rng=rng, output_bias=3.0)
    # Re-draw every parameter at a scale where all terms matter (the real init makes embeddings tiny).
    for value in model.params.values():
        value[...] = rng.normal(0.0, 0.7, size=value.shape)
    users = np.array([0, 1, 1, 3, 0, 2])  # user 1 and 0 repeat: embedding grads must accumulate
    items = np.array([2, 0, 1, 2, 2, 1])
    targets = np.array([4.0, 1.0, 2.5, 5.0, 3.0, 2.0])
    return model, users, items, targets


def test_gradients_match_central_finite_differences() -> None:
    model, users, items, targets = _small_model()
    _, grads = model.loss_and_grads(users, items, targets)
    assert (
        set(grads)
        == set(model.params)
        == {
            "user_embedding",
            "item_embedding",
            "W1",
            "b1",
            "W2",
            "b2",
            "W_out",
            "b_out",
        }
    )
    # The ReLU mask must actually matter, and stay away from kinks for the finite differences.
    _, cache = model.forward(users, items)
    z = np.concatenate([a.ravel() for a in cache["pre_activations"]])
    assert (z < 0).any() and (z > 0).any()
    assert np.abs(z).min() > 1e-4

    h = 1e-6
    for name, param in model.params.items():
        assert grads[name].shape == param.shape
        assert grads[name].dtype == np.float64
        numeric = np.zeros_like(param)
        for idx in np.ndindex(param.shape):
            saved = param[idx]
            param[idx] = saved + h
            plus, _ = model.loss_and_grads(users, items, targets)
            param[idx] = saved - h
            minus, _ = model.loss_and_grads(users, items, targets)
            param[idx] = saved
            numeric[idx] = (plus - minus) / (2 * h)
        analytic = grads[name]
        assert np.linalg.norm(numeric) > 1e-3, name  # the check is not vacuous
        rel = np.linalg.norm(numeric - analytic) / (np.linalg.norm(numeric) + np.linalg.norm(analytic))
        assert rel < 1e-5, f"{name}: relative error {rel:.2e}"


def test_embedding_gradient_only_touches_looked_up_rows() -> None:
    model, users, items, targets = _small_model()
    _, grads = model.loss_and_grads(users, items, targets)
    assert np.all(grads["user_embedding"][np.setdiff1d(np.arange(4), users)] == 0)
    assert np.any(grads["user_embedding"][users] != 0)
    assert np.all(grads["item_embedding"][np.setdiff1d(np.arange(3), items)] == 0)  # no unused item: empty


def test_forward_is_concat_then_relu_mlp_then_linear() -> None:
    model, users, items, _ = _small_model()
    p = model.params
    pred, _ = model.forward(users, items)
    for j, (u, i) in enumerate(zip(users, items, strict=True)):
        x = np.concatenate([p["user_embedding"][u], p["item_embedding"][i]])
        h1 = np.maximum(x @ p["W1"] + p["b1"], 0)
        h2 = np.maximum(h1 @ p["W2"] + p["b2"], 0)
        assert pred[j] == pytest.approx(float(h2 @ p["W_out"][:, 0] + p["b_out"][0]), rel=1e-12)
    assert model.predict_all().shape == (4, 3)
    assert model.predict_all()[users[0], items[0]] == pytest.approx(pred[0], rel=1e-12)


def test_loss_is_mean_squared_error() -> None:
    model, users, items, targets = _small_model()
    pred, _ = model.forward(users, items)
    loss, _ = model.loss_and_grads(users, items, targets)
    assert loss == pytest.approx(float(np.mean((pred - targets) ** 2)), rel=1e-12)
    with pytest.raises(ValueError, match="targets"):
        model.loss_and_grads(users, items, targets[:-1])
    with pytest.raises(ValueError, match="equal length"):
        model.forward(users, items[:-1])


# --------------------------------------------------------------------------------------------------------
# Adam
# --------------------------------------------------------------------------------------------------------


def test_adam_matches_hand_computed_steps() -> None:
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    w = np.array([1.0, -2.0])
    opt = Adam({"w": w}, learning_rate=lr, beta1=b1, beta2=b2, eps=eps)
    g1 = np.array([0.5, -0.1])
    opt.step({"w": g1})
    # Step 1: m_hat = g, v_hat = g^2 -> update = lr * g / (|g| + eps) ~ lr * sign(g).
    expected = np.array([1.0, -2.0]) - lr * g1 / (np.abs(g1) + eps)
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    g2 = np.array([-0.2, 0.3])
    opt.step({"w": g2})
    m = b1 * (1 - b1) * g1 + (1 - b1) * g2
    v = b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2
    expected = expected - lr * (m / (1 - b1**2)) / (np.sqrt(v / (1 - b2**2)) + eps)
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    assert opt.t == 2


def test_adam_minimises_a_quadratic_and_rejects_bad_input() -> None:
    w = np.array([3.0, -4.0])
    opt = Adam({"w": w}, learning_rate=0.05)
    for _ in range(2000):
        opt.step({"w": 2 * w})
    assert np.abs(w).max() < 1e-2
    with pytest.raises(ValueError, match="missing gradients"):
        opt.step({})
    with pytest.raises(ValueError, match="learning_rate"):
        Adam({"w": w}, learning_rate=0.0)
    with pytest.raises(ValueError, match="beta1"):
        Adam({"w": w}, beta1=1.0)


# --------------------------------------------------------------------------------------------------------
# Initialisation
# --------------------------------------------------------------------------------------------------------


def test_init_statistics() -> None:
    k, layers = 32, (64, 32, 16)
    model = NCFModel(3000, 2000, k, layers, rng=np.random.default_rng(7), output_bias=3.5)
    p = model.params
    for name, rows in (("user_embedding", 3000), ("item_embedding", 2000)):
        emb = p[name]
        assert emb.shape == (rows, k)
        assert emb.std() == pytest.approx(0.01, rel=0.03)
        assert abs(emb.mean()) < 1e-3
    fan_in = 2 * k
    for i, width in enumerate(layers, start=1):
        w = p[f"W{i}"]
        limit = math.sqrt(6 / (fan_in + width))  # Glorot uniform
        assert w.shape == (fan_in, width)
        assert np.abs(w).max() <= limit
        assert np.abs(w).max() > 0.95 * limit
        assert w.std() == pytest.approx(limit / math.sqrt(3), rel=0.1)
        assert np.all(p[f"b{i}"] == 0) and p[f"b{i}"].shape == (width,)
        fan_in = width
    limit = math.sqrt(3 / fan_in)  # LeCun uniform
    assert p["W_out"].shape == (16, 1)
    assert np.abs(p["W_out"]).max() <= limit
    assert p["b_out"].tolist() == [3.5]


def test_train_starts_from_mean_rating(default_result: TrainResult) -> None:
    model = init_model(SEED_TABLE)
    assert model.params["b_out"][0] == pytest.approx(SEED_MEAN, abs=1e-15)
    # train() starts from exactly this model: its epoch-0 snapshot is that model's output ...
    assert default_result.history_epochs[0] == 0
    np.testing.assert_array_equal(default_result.prediction_history[0], model.predict_all())
    # ... which, with 0.01-scale embeddings, is essentially the mean everywhere.
    assert np.abs(default_result.prediction_history[0] - SEED_MEAN).max() < 0.05


# --------------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------------


def _known_rmse(predictions: np.ndarray) -> float:
    errs = [predictions[u, i] - r for u, row in enumerate(SEED_TABLE) for i, r in enumerate(row) if r is not None]
    return math.sqrt(float(np.mean(np.square(errs))))


def test_training_fits_the_seed_table(default_result: TrainResult) -> None:
    r = default_result
    cfg = NCFConfig()
    assert r.config == cfg
    assert len(r.loss_history) == cfg.epochs
    assert r.loss_history[-1] < 0.01 * r.loss_history[0]
    assert r.rmse < 0.3
    assert r.rmse == pytest.approx(math.sqrt(r.loss_history[-1]), rel=1e-12)
    assert r.rmse == pytest.approx(_known_rmse(r.predictions), rel=1e-9, abs=1e-12)
    assert r.seconds < 2.0
    # Alice liked the sci-fi and disliked the family films she rated, like Bob (her taste twin): a low score.
    assert 1.0 <= r.predict(ALICE, SHREK) <= 2.5


def test_result_shapes_and_history(default_result: TrainResult) -> None:
    r = default_result
    assert r.user_embeddings.shape == (4, 32)
    assert r.item_embeddings.shape == (5, 32)
    assert r.predictions.shape == (4, 5)
    assert r.history_epochs[0] == 0 and r.history_epochs[-1] == r.config.epochs
    assert r.history_epochs == sorted(set(r.history_epochs))
    assert len(r.history_epochs) == 20
    assert r.prediction_history.shape == (20, 4, 5)
    np.testing.assert_array_equal(r.prediction_history[-1], r.predictions)
    assert r.predict(ALICE, SHREK) == r.predictions[ALICE, SHREK]
    # The snapshots show the fit improving.
    assert _known_rmse(r.prediction_history[-1]) < _known_rmse(r.prediction_history[len(r.history_epochs) // 2])
    assert _known_rmse(r.prediction_history[len(r.history_epochs) // 2]) < _known_rmse(r.prediction_history[0])
    with pytest.raises(ValueError, match="user"):
        r.predict(4, 0)
    with pytest.raises(ValueError, match="item"):
        r.predict(0, -1)


def test_history_points_are_capped_by_epochs() -> None:
    r = train(SEED_TABLE, NCFConfig(epochs=5, embedding_size=4, layers=(8,)), history_points=50)
    assert r.history_epochs == [0, 1, 2, 3, 4, 5]
    r = train(SEED_TABLE, NCFConfig(epochs=5, embedding_size=4, layers=(8,)), history_points=2)
    assert r.history_epochs == [0, 5]


def test_minibatch_training_fits_and_is_deterministic() -> None:
    cfg = NCFConfig(batch_size=4, epochs=200, seed=3)
    a = train(SEED_TABLE, cfg)
    b = train(SEED_TABLE, cfg)
    assert a.rmse < 0.3
    np.testing.assert_array_equal(a.predictions, b.predictions)
    # Shuffling draws from the same generator: a different batch size gives a different trajectory.
    c = train(SEED_TABLE, NCFConfig(batch_size=5, epochs=200, seed=3))
    assert not np.array_equal(a.predictions, c.predictions)


def test_training_is_deterministic_per_seed(default_result: TrainResult) -> None:
    again = train(SEED_TABLE)
    for name in ("user_embeddings", "item_embeddings", "predictions", "prediction_history"):
        first, second = getattr(default_result, name), getattr(again, name)
        assert first.tobytes() == second.tobytes(), name
    assert again.loss_history == default_result.loss_history
    assert again.rmse == default_result.rmse
    other = train(SEED_TABLE, NCFConfig(seed=1))
    assert not np.array_equal(other.user_embeddings, default_result.user_embeddings)
    assert not np.array_equal(other.predictions, default_result.predictions)


def test_fresh_process_reproduces_the_same_bytes(default_result: TrainResult) -> None:
    code = (
        "import sys, json; from ncfvid.model import train; "
        f"r = train({SEED_TABLE!r}); print(r.predictions.tobytes().hex())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == default_result.predictions.tobytes().hex()


# --------------------------------------------------------------------------------------------------------
# Serialisation
# --------------------------------------------------------------------------------------------------------


def test_to_dict_from_dict_round_trip_through_json() -> None:
    r = train(SEED_TABLE, NCFConfig(epochs=30, embedding_size=8, layers=(16, 8), batch_size=5, seed=9))
    d = json.loads(json.dumps(r.to_dict()))
    back = TrainResult.from_dict(d)
    assert back.config == r.config
    assert isinstance(back.config.layers, tuple)
    for name in ("user_embeddings", "item_embeddings", "predictions", "prediction_history"):
        original, restored = getattr(r, name), getattr(back, name)
        assert restored.dtype == np.float64
        np.testing.assert_array_equal(restored, original)
    assert back.loss_history == r.loss_history
    assert back.history_epochs == r.history_epochs
    assert back.rmse == r.rmse and back.seconds == r.seconds
    assert back.predict(ALICE, SHREK) == r.predict(ALICE, SHREK)


def test_from_dict_rejects_bad_input() -> None:
    d = train(SEED_TABLE, NCFConfig(epochs=3, embedding_size=2, layers=(4,))).to_dict()
    with pytest.raises(ValueError, match="format"):
        TrainResult.from_dict({**d, "format": "something-else/9"})
    with pytest.raises(ValueError, match="missing keys"):
        TrainResult.from_dict({k: v for k, v in d.items() if k != "predictions"})
    with pytest.raises(ValueError, match="prediction_history"):
        TrainResult.from_dict({**d, "prediction_history": d["prediction_history"][:-1]})
    with pytest.raises(ValueError, match="unknown NCFConfig keys"):
        TrainResult.from_dict({**d, "config": {**d["config"], "dropout": 0.5}})


# --------------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------------


def test_parse_ratings_extracts_known_triplets() -> None:
    n_users, n_items, users, items, values = parse_ratings(SEED_TABLE)
    assert (n_users, n_items) == (4, 5)
    assert len(values) == 15 and values.sum() == 53
    assert (users[0], items[0], values[0]) == (0, 0, 5.0)
    assert (users[-1], items[-1], values[-1]) == (3, 4, 5.0)
    assert not any(u == ALICE and i == SHREK for u, i in zip(users, items, strict=True))


@pytest.mark.parametrize(
    ("ratings", "message"),
    [
        ([], "at least one row"),
        ([[]], "at least one column"),
        ([[1, 2], [3]], "ragged"),
        ([[None, None], [None, None]], "no known rating"),
        ([[1, "5"]], "finite number or None"),
        ([[1, float("nan")]], "finite number or None"),
        ([[1, True]], "finite number or None"),
        ("12", "sequence of rows"),
        ([5, 4], "not a sequence"),
    ],
)
def test_bad_ratings_are_rejected(ratings: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train(ratings, NCFConfig(epochs=1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"embedding_size": 0}, "embedding_size"),
        ({"embedding_size": 2.5}, "embedding_size"),
        ({"layers": ()}, "layers"),
        ({"layers": (8, 0)}, "layers"),
        ({"layers": 8}, "layers"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"epochs": 0}, "epochs"),
        ({"seed": -1}, "seed"),
        ({"batch_size": 0}, "batch_size"),
        ({"beta2": 1.0}, "beta2"),
        ({"eps": 0.0}, "eps"),
    ],
)
def test_bad_config_is_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NCFConfig(**kwargs)


def test_config_normalises_layers_and_train_checks_arguments() -> None:
    cfg = NCFConfig(layers=[8, 4])  # type: ignore[arg-type]
    assert cfg.layers == (8, 4)
    assert hash(cfg) == hash(NCFConfig(layers=(8, 4)))
    assert NCFConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="history_points"):
        train(SEED_TABLE, NCFConfig(epochs=1), history_points=1)
    with pytest.raises(ValueError, match="config"):
        train(SEED_TABLE, {"epochs": 1})  # type: ignore[arg-type]


def test_model_package_does_not_import_manim() -> None:
    code = "import sys, ncfvid.model; print('manim' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
