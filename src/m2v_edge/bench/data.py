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


STSB_DIR = STSB_TEST.parent
TRAIN_SENTENCES = STSB_DIR / "sts-train-sentences.txt"


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))


def unseen_pools(limit: int | None = None) -> dict[str, list[str]]:
    """Texts for timing on unseen text: every unique STS-B sentence (train, dev, test; packaged) in file order.

    ``sentences``: those sentences; ``passages``: ~500-character passages built from them. The bench times each
    kind in its own process, so neither pool warms the other's caches. ``limit`` caps the sentences (tests).
    """
    train = [line.strip() for line in TRAIN_SENTENCES.read_text(encoding="utf-8").splitlines()]
    rest = [s for path in (STSB_DIR / "sts-dev.csv", STSB_TEST) for s in stsb_sentences(path)]
    every = _unique(train + rest)
    built = passages(every)
    if limit is not None:
        every, built = every[:limit], built[: max(1, limit * 58 // PASSAGE_CHARS)]
    return {"sentences": every, "passages": built}


def slice_sizes(pool: int, batch_sizes: list[int], repeats: int, latency_texts: int) -> dict[int, int]:
    """Texts per slice for each batch size, so that ``repeats + 1`` slices per batch size fit in ``pool``.

    Batch size 1 (latency) gets at most ``latency_texts`` per slice; the others share the rest equally.

    :raises ValueError: if a slice would be empty (fewer repeats or batch sizes, or more texts, are needed).
    """
    slices = repeats + 1  # one warm-up slice, then one fresh slice per timed repeat
    share = pool // (len(batch_sizes) * slices)
    sizes = {1: min(latency_texts, share)} if 1 in batch_sizes else {}
    others = [b for b in batch_sizes if b != 1]
    if others:
        rest = (pool - sizes.get(1, 0) * slices) // (len(others) * slices)
        sizes.update({b: rest for b in others})
    if not sizes or min(sizes.values()) < 1:
        raise ValueError(f"{pool} unseen texts are too few for {repeats} repeats of {batch_sizes}; use fewer repeats")
    return sizes


class FreshSlices:
    """Hands out consecutive, disjoint slices of a pool: no text is given twice by one instance."""

    def __init__(self, pool: list[str]) -> None:
        self.pool, self.used = pool, 0

    def take(self, n: int) -> list[str]:
        """The next ``n`` texts not given before.

        :raises ValueError: if the pool has fewer than ``n`` left.
        """
        if self.used + n > len(self.pool):
            raise ValueError(f"only {len(self.pool) - self.used} unseen texts left, {n} asked; use fewer repeats")
        self.used += n
        return self.pool[self.used - n : self.used]
