"""The benchmark texts: STS-B test sentences (~58 characters) and ~500-character passages made from them."""

from __future__ import annotations

from pathlib import Path

STSB_TEST = Path(__file__).resolve().parents[1] / "eval" / "data" / "stsb" / "sts-test.csv"
PASSAGE_CHARS = 500


def stsb_sentences(path: Path = STSB_TEST) -> list[str]:
    """Both sentences of every STS-B test pair (tab-separated, fields 5 and 6), in file order.

    :raises FileNotFoundError: if the STS-B file is missing from the installed package.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: STS-B test file missing; reinstall m2v-edge with its package data")
    sentences: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) > 6:
            sentences.extend(field.strip() for field in fields[5:7])
    return [s for s in sentences if s]


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
