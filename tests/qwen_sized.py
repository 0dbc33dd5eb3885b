"""A Qwen-sized Model2Vec folder: the vendored real Qwen tokenizer (151,669 ids) and a seeded random table."""

from __future__ import annotations

from pathlib import Path

from m2v_edge.bench import qwen_sized
from m2v_edge.bench.qwen_sized import QWEN_DIM, QWEN_VOCAB

QWEN_TOKENIZER = Path(__file__).resolve().parent / "data" / "qwen" / "tokenizer.json"

__all__ = ["QWEN_DIM", "QWEN_TOKENIZER", "QWEN_VOCAB", "make_qwen_sized_model"]


def make_qwen_sized_model(folder: Path, dim: int = QWEN_DIM, seed: int = 0) -> Path:
    """:func:`m2v_edge.bench.qwen_sized.make_qwen_sized_model` with the tokenizer vendored in ``tests/data/qwen``."""
    return qwen_sized.make_qwen_sized_model(folder, QWEN_TOKENIZER, dim=dim, seed=seed)
