"""The benchmark texts: STS-B test sentences (~58 characters) and ~500-character passages made from them."""

from __future__ import annotations

from pathlib import Path

from m2v_edge.source.datasets import STSB_TEST, load_stsb

PASSAGE_CHARS = 500


def stsb_sentences(path: Path = STSB_TEST) -> list[str]:
    """Both sentences of every STS-B test pair, in file order (read by the eval harness's ``load_stsb``).

    :raises FileNotFoundError: if the STS-B file is missing from the installed package.
    """
    return [s.strip() for pair in load_stsb(path) for s in (pair.text1, pair.text2) if s.strip()]


def passages(sentences: list[str], chars: int = PASSAGE_CHARS) -> list[str]:
    """Join consecutive sentences with a space until each passage reaches ``chars`` characters."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in sentences:
        size += len(sentence) + (1 if current else 0)
        current.append(sentence)
        if size >= chars:
            out.append(" ".join(current))
            current, size = [], 0
    return out


def bench_texts(limit: int | None = None) -> dict[str, list[str]]:
    """``{"sentences": [...], "passages": [...]}``; ``limit`` caps the sentences used (passages are built first)."""
    sentences = stsb_sentences()
    built = passages(sentences)
    if limit is not None:
        sentences = sentences[:limit]
        built = built[: max(1, limit * 58 // PASSAGE_CHARS)]
    return {"sentences": sentences, "passages": built}
