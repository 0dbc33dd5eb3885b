"""Evaluation: the model card's six dimensions plus STS-B, for a model and (optionally) a reference.

``evaluate(model, reference=None) -> dict`` runs everything; :mod:`m2v_edge.eval.report` writes the
JSON, Markdown and PNG. scikit-learn, scipy and matplotlib come with the ``eval`` extra.
"""

from __future__ import annotations

from m2v_edge.eval.runner import evaluate
from m2v_edge.source.datasets import DIMENSIONS, load_dataset, load_stsb

__all__ = ["DIMENSIONS", "evaluate", "load_dataset", "load_stsb"]
