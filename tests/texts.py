"""Real inputs for parity tests: STS-B sentences and the shared tricky corpus (also used by the JS suite)."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
STSB_TEST = Path(__file__).resolve().parents[1] / "src" / "m2v_edge" / "eval" / "data" / "stsb" / "sts-test.csv"


def stsb_pairs() -> tuple[list[str], list[str], list[float]]:
    """STS-B test split: (sentences1, sentences2, gold scores)."""
    first, second, gold = [], [], []
    for line in STSB_TEST.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        gold.append(float(fields[4]))
        first.append(fields[5])
        second.append(fields[6])
    return first, second, gold


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
