"""Real inputs for parity tests: STS-B sentences and the shared tricky corpus (also used by the JS suite)."""

from __future__ import annotations

import json
from pathlib import Path

from m2v_edge.source.datasets import load_stsb

DATA = Path(__file__).resolve().parent / "data"


def stsb_pairs() -> tuple[list[str], list[str], list[float]]:
    """STS-B test split: (sentences1, sentences2, gold scores), read by the eval harness's loader."""
    pairs = load_stsb()
    return [p.text1 for p in pairs], [p.text2 for p in pairs], [p.label for p in pairs]


def stsb_sentences(limit: int | None = None) -> list[str]:
    """STS-B test sentences, both sides."""
    first, second, _ = stsb_pairs()
    return (first + second)[:limit]


def tricky_texts() -> list[str]:
    """Multilingual, emoji, code, very long, special-token-like, empty and whitespace-only texts."""
    data = json.loads((DATA / "tricky_texts.json").read_text(encoding="utf-8"))
    texts = data["texts"] if isinstance(data, dict) else data
    return [t for t in texts if isinstance(t, str)]


def parity_texts(limit: int | None = None) -> list[str]:
    """STS-B sentences plus the tricky corpus."""
    return stsb_sentences(limit) + tricky_texts()
