"""Comparisons used by the parity tests."""

from __future__ import annotations

import numpy as np

from m2v_edge.runtime.similarity import row_cosine


def assert_parity(got: np.ndarray, expected: np.ndarray) -> None:
    """Max abs difference <= 1e-5, scaled by the row's magnitude when it exceeds 1.

    Normalized models (all real ones here) are held to 1e-5 absolute. For an unnormalized table with values
    near 2, model2vec's own float32 mean of 512 tokens is ~1e-5 off the float64 truth, so no float32 runtime
    can match it tighter than that in absolute terms.
    """
    scale = np.maximum(1.0, np.abs(expected).max(axis=1, keepdims=True))
    assert got.shape == expected.shape
    assert (np.abs(got - expected) / scale).max() <= 1e-5


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row cosines of ``a`` and ``b``, leaving out the rows where ``a`` is the zero vector."""
    keep = np.linalg.norm(a, axis=1) > 0
    return row_cosine(a[keep], b[keep])
