"""Anisotropy: how much cosine two unrelated texts already get, the baseline every card score sits on.

A model whose vectors all point into a narrow cone gives every pair a high cosine: its card metric (mean
cosine of positives) reads high while its rankings sit near chance. Read a mean cosine against these
figures, never alone (see ``docs/eval.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from m2v_edge.runtime.similarity import random_pair_cosine

CONE = 0.5  # mean cosine of random pairs at or above this: the model cannot separate texts by cosine alone
MIN_GAP = 0.05  # positives within this of random pairs: the card metric says nothing
RANKING_DIMENSIONS = ("instruction_awareness", "conversational_understanding", "code_understanding")


def anisotropy(vectors: np.ndarray, dimensions: dict[str, dict[str, float]]) -> dict[str, float]:
    """``random_pair_mean_cosine`` over all texts encoded, and positives/hard negatives of the ranking sets."""
    result = {"random_pair_mean_cosine": random_pair_cosine(vectors)}
    ranked = [dimensions[name] for name in RANKING_DIMENSIONS if name in dimensions]
    if ranked:
        result["hard_negative_mean_cosine"] = float(np.mean([d["mean_cosine_negative"] for d in ranked]))
        result["positive_mean_cosine"] = float(np.mean([d["mean_cosine"] for d in ranked]))
    return result


def warnings_for(figures: dict[str, float]) -> list[str]:
    """One-line warnings when the figures say the model cannot discriminate by cosine."""
    found = []
    rand = figures["random_pair_mean_cosine"]
    if rand >= CONE:
        found.append(
            f"unrelated texts already score a mean cosine of {rand:.3f} (>= {CONE}): the vectors sit in a narrow "
            "cone, so mean-cosine scores (the card metric) are high for everything; read the discriminative "
            "metrics. A Model2Vec source or an export made with --isotropy none: export it with the default "
            "`m2v-edge export SOURCE -o DIR` (--isotropy auto removes the cone where it helps)"
        )
    positive = figures.get("positive_mean_cosine")
    if positive is not None and positive - rand < MIN_GAP:
        found.append(
            f"positives average {positive:.3f}, within {MIN_GAP} of random pairs ({rand:.3f}): "
            "the card metric does not tell matching texts from unrelated ones here"
        )
    return found


def texts_seen(cache: dict[str, np.ndarray]) -> np.ndarray:
    """Every distinct text's vector an evaluation run encoded."""
    return np.stack(list(cache.values())) if cache else np.zeros((0, 1), dtype=np.float32)


def add_to_report(report: dict[str, Any], vectors: Sequence[np.ndarray] | np.ndarray) -> None:
    """Put ``anisotropy`` and ``warnings`` in one model's report."""
    figures = anisotropy(np.asarray(vectors), report["dimensions"])
    report["anisotropy"] = figures
    report["warnings"] = warnings_for(figures)
