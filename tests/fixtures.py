"""Tiny Model2Vec models made in tests (the makers live in ``tests/tiny_models.py``, shared with scripts/)."""

from __future__ import annotations

from tests.tiny_models import CORPUS, TINY_KINDS, make_tiny_model

__all__ = ["CORPUS", "TINY_KINDS", "make_tiny_model"]
