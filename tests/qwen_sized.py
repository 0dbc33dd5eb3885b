"""The Qwen-sized test model: :mod:`m2v_edge.bench.qwen_sized` with the vendored real Qwen tokenizer."""

from __future__ import annotations

from pathlib import Path

from m2v_edge.bench import qwen_sized

QWEN_TOKENIZER = Path(__file__).resolve().parent / "data" / "qwen" / "tokenizer.json"
QWEN_VOCAB = 151_669
QWEN_DIM = qwen_sized.QWEN_DIM


def make_qwen_sized_model(folder: Path, dim: int = QWEN_DIM, seed: int = 0) -> Path:
    """Write the Qwen-sized Model2Vec folder (see :func:`m2v_edge.bench.qwen_sized.make_qwen_sized_model`)."""
    return qwen_sized.make_qwen_sized_model(folder, QWEN_TOKENIZER, dim=dim, seed=seed)
