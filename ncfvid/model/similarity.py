"""Rating-based user similarity: the "taste twins" baseline the video contrasts with NCF.

Cosine similarity is computed over the co-rated items only (cells both users rated); missing ratings
(``None``) are ignored rather than treated as zeros.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

__all__ = ["cosine_similarity", "similar_users"]


def _check_vector(v: Sequence[float | None], name: str) -> list[float | None]:
    if isinstance(v, str | bytes):
        raise ValueError(f"{name} must be a sequence of ratings, got a string")
    try:
        values = list(v)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of ratings, got {type(v).__name__}") from None
    for i, x in enumerate(values):
        if x is None:
            continue
        if not isinstance(x, Real) or isinstance(x, bool) or not math.isfinite(float(x)):
            raise ValueError(f"{name}[{i}] must be a finite number or None, got {x!r}")
    return values


def cosine_similarity(a: Sequence[float | None], b: Sequence[float | None]) -> float | None:
    """Cosine similarity of two rating vectors over their co-rated positions.

    Positions where either vector is ``None`` are skipped. Returns ``None`` when there is no co-rated
    position or when either restricted vector has zero norm. Raises ``ValueError`` if the lengths differ or
    a value is neither a finite number nor ``None``.
    """
    va = _check_vector(a, "a")
    vb = _check_vector(b, "b")
    if len(va) != len(vb):
        raise ValueError(f"rating vectors differ in length: {len(va)} vs {len(vb)}")
    pairs = [(float(x), float(y)) for x, y in zip(va, vb, strict=True) if x is not None and y is not None]
    if not pairs:
        return None
    dot = math.fsum(x * y for x, y in pairs)
    norm_a = math.sqrt(math.fsum(x * x for x, _ in pairs))
    norm_b = math.sqrt(math.fsum(y * y for _, y in pairs))
    if norm_a == 0.0 or norm_b == 0.0:
        return None
    # Clamp tiny rounding excursions outside [-1, 1].
    return max(-1.0, min(1.0, dot / (norm_a * norm_b)))


def similar_users(
    ratings: Sequence[Sequence[float | None]], target_user: int, top: int | None = None
) -> list[tuple[int, float]]:
    """Users most similar to ``target_user`` by co-rated cosine similarity.

    Args:
        ratings: rows are users, columns items, ``None`` = missing.
        target_user: 0-based row index of the user to compare against.
        top: keep only the first ``top`` results (``None`` = all).

    Returns:
        ``(user_index, similarity)`` pairs sorted by similarity descending, ties by index ascending. The
        target itself and users with no co-rated item (or a zero norm over them) are left out.
    """
    if isinstance(ratings, str | bytes) or not isinstance(ratings, Sequence):
        raise ValueError("ratings must be a sequence of rows (users)")
    rows = [_check_vector(row, f"ratings[{u}]") for u, row in enumerate(ratings)]
    if not rows:
        raise ValueError("ratings must have at least one row (user)")
    n_items = len(rows[0])
    for u, row in enumerate(rows):
        if len(row) != n_items:
            raise ValueError(f"ragged ratings: row 0 has {n_items} items but row {u} has {len(row)}")
    if not isinstance(target_user, Integral) or isinstance(target_user, bool):
        raise ValueError(f"target_user must be an integer index, got {target_user!r}")
    if not 0 <= target_user < len(rows):
        raise ValueError(f"target_user must be in [0, {len(rows)}), got {target_user}")
    if top is not None and (not isinstance(top, Integral) or isinstance(top, bool) or top < 0):
        raise ValueError(f"top must be None or a non-negative integer, got {top!r}")

    scored: list[tuple[int, float]] = []
    for u, row in enumerate(rows):
        if u == target_user:
            continue
        sim = cosine_similarity(rows[target_user], row)
        if sim is not None:
            scored.append((u, sim))
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored if top is None else scored[:top]
