"""Cosine similarity and ranking helpers, shared by the runtime, the CLI, the demo and eval."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from m2v_edge.contract import COSINE_NORM_FLOOR


@dataclass(frozen=True)
class Hit:
    """One ranked document: its position in the input, its cosine to the query, its text."""

    index: int
    score: float
    document: str


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm; a zero row stays zero (the one zero-safe normalization)."""
    rows = np.atleast_2d(x)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), COSINE_NORM_FLOOR)


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b`` (zero vectors give 0)."""
    return normalize_rows(np.asarray(a, np.float32)) @ normalize_rows(np.asarray(b, np.float32)).T


def row_cosine(a: np.ndarray, b: np.ndarray, *, both_zero: float = 0.0) -> np.ndarray:
    """Cosine of ``a[i]`` with ``b[i]`` for every row; a zero vector gives 0.

    :param both_zero: the value where both rows are zero: ``1.0`` when comparing two encoders of the same
        texts, for which both giving the zero vector (no known token) is agreement.
    """
    a2, b2 = normalize_rows(np.asarray(a, np.float32)), normalize_rows(np.asarray(b, np.float32))
    cos = np.einsum("ij,ij->i", a2, b2)
    if both_zero:
        zero = ~a2.any(axis=1) & ~b2.any(axis=1)
        cos = np.where(zero, np.float32(both_zero), cos)
    return cos


def check_top_k(top_k: object) -> None:
    """:raises ValueError: if ``top_k`` is not a positive integer or None."""
    if top_k is not None and (not isinstance(top_k, (int, np.integer)) or isinstance(top_k, bool) or top_k < 1):
        raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}")


def rank(
    query_vector: np.ndarray, doc_vectors: np.ndarray, documents: list[str], top_k: int | None = None
) -> list[Hit]:
    """Documents sorted by cosine to the query, best first (ties keep input order).

    :raises ValueError: if ``top_k`` is not a positive integer or None.
    """
    check_top_k(top_k)
    scores = cosine_matrix(query_vector, doc_vectors)[0]
    order = np.argsort(-scores, kind="stable")
    if top_k is not None:
        order = order[:top_k]
    return [Hit(int(i), float(scores[i]), documents[i]) for i in order]


# Random pairs in ``random_pair_cosine``: the anisotropy figure of eval, export (isotropy) and the demo.
RANDOM_PAIRS = 2000


def random_pair_cosine(vectors: np.ndarray, pairs: int = RANDOM_PAIRS, seed: int = 0) -> float:
    """Mean cosine of ``pairs`` random pairs of distinct rows (fixed seed; zero vectors left out)."""
    data = np.asarray(vectors, dtype=np.float32)
    data = data[np.linalg.norm(data, axis=1) > 0]
    if len(data) < 2:
        return 0.0
    rng = np.random.default_rng(seed)
    left = rng.integers(0, len(data), pairs)
    right = (left + rng.integers(1, len(data), pairs)) % len(data)  # never the same row
    return float(np.mean(row_cosine(data[left], data[right])))
