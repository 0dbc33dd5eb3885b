"""Tiny Model2Vec models made in tests (the makers live in ``m2v_edge.testing``, shared with scripts/)."""

from __future__ import annotations

from m2v_edge.testing import CORPUS, TINY_KINDS, make_tiny_model

__all__ = ["CORPUS", "TINY_KINDS", "make_tiny_model"]
