"""Tests for co-rated cosine similarity (ncfvid.model.similarity)."""

from __future__ import annotations

import math

import pytest

from ncfvid.model import cosine_similarity, similar_users

SEED_TABLE: list[list[float | None]] = [
    [5, 5, 1, None, 1],  # Alice
    [5, 4, None, 2, 2],  # Bob
    [None, 2, 5, 5, None],  # Charlie
    [2, None, 5, 4, 5],  # David
]


def test_cosine_hand_computed_values() -> None:
    assert cosine_similarity([1, 2, 3], [4, 5, 6]) == pytest.approx(32 / math.sqrt(14 * 77), rel=1e-12)
    assert cosine_similarity([1, 0], [0, 1]) == 0.0
    assert cosine_similarity([1, 2], [-1, -2]) == pytest.approx(-1.0)
    assert cosine_similarity([3, 4], [6, 8]) == pytest.approx(1.0)
    assert cosine_similarity([2.5], [4]) == pytest.approx(1.0)


def test_cosine_ignores_missing_cells() -> None:
    # Only position 0 is co-rated: the vectors agree there, so similarity 1 (zeros would have lowered it).
    assert cosine_similarity([1, None, 3], [2, 5, None]) == pytest.approx(1.0)
    # Co-rated positions 0 and 2: cos([5, 1], [5, 1]) = 1 although the other cells differ wildly.
    assert cosine_similarity([5, None, 1, 1], [5, 4, 1, None]) == pytest.approx(1.0)
    # Co-rated positions 0 and 1 only.
    assert cosine_similarity([1, 2, None], [2, 1, 5]) == pytest.approx(4 / 5)


def test_cosine_undefined_cases_return_none() -> None:
    assert cosine_similarity([1, None], [None, 2]) is None
    assert cosine_similarity([], []) is None
    assert cosine_similarity([0, 0, 3], [1, 2, None]) is None  # zero norm over the co-rated cells
    assert cosine_similarity([1, 2], [0, 0]) is None


def test_cosine_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="length"):
        cosine_similarity([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="finite number or None"):
        cosine_similarity([1, "2"], [1, 2])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="finite number or None"):
        cosine_similarity([1, float("inf")], [1, 2])
    with pytest.raises(ValueError, match="sequence"):
        cosine_similarity("12", [1, 2])  # type: ignore[arg-type]


def test_seed_table_similarities_to_alice() -> None:
    # Co-rated with Alice: Bob - Star Wars, Matrix, Frozen; Charlie - Matrix, Titanic;
    # David - Star Wars, Titanic, Frozen.
    expected = [
        (1, 47 / math.sqrt(51 * 45)),
        (2, 15 / math.sqrt(26 * 29)),
        (3, 20 / math.sqrt(27 * 54)),
    ]
    got = similar_users(SEED_TABLE, 0)
    assert [u for u, _ in got] == [1, 2, 3]
    for (u, s), (eu, es) in zip(got, expected, strict=True):
        assert u == eu and s == pytest.approx(es, rel=1e-12)
    assert similar_users(SEED_TABLE, 0, top=1) == got[:1]
    assert similar_users(SEED_TABLE, 0, top=0) == []
    assert similar_users(SEED_TABLE, 0, top=10) == got


def test_ordering_ties_and_exclusions() -> None:
    ratings = [
        [4, 2, None],  # target
        [2, 1, None],  # cos 1.0
        [None, None, 5],  # no co-rated item: excluded
        [8, 4, 1],  # cos 1.0 (tie with user 1, larger index)
        [1, 3, None],  # lower
        [0, 0, 3],  # zero norm over the co-rated cells: excluded
    ]
    got = similar_users(ratings, 0)
    assert [u for u, _ in got] == [1, 3, 4]
    assert got[0][1] == pytest.approx(1.0) and got[1][1] == pytest.approx(1.0)
    assert got[2][1] == pytest.approx(10 / math.sqrt(20 * 10))
    assert all(u != 0 for u, _ in got)
    # Descending similarity.
    sims = [s for _, s in got]
    assert sims == sorted(sims, reverse=True)


def test_similar_users_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="target_user"):
        similar_users(SEED_TABLE, 4)
    with pytest.raises(ValueError, match="target_user"):
        similar_users(SEED_TABLE, -1)
    with pytest.raises(ValueError, match="ragged"):
        similar_users([[1, 2], [1]], 0)
    with pytest.raises(ValueError, match="top"):
        similar_users(SEED_TABLE, 0, top=-1)
    with pytest.raises(ValueError, match="at least one row"):
        similar_users([], 0)
