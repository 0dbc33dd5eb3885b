"""Isotropy at export: "all-but-the-top" (Mu & Viswanath, ICLR 2018) on pooled sentence vectors.

Static models distilled from decoder LLMs put every text in a narrow cone: all cosines are high and
rank badly. The fix: fit the mean ``mu`` and the top ``K`` principal directions ``P`` (``[K, dim]``) of
the *pooled* (pre-normalization) vectors of a sentence corpus, then map every pooled vector
``x -> (x - mu) - (x - mu) P^T P`` before the L2 normalization.

Where the map goes (see ``docs/format.md``):

* no model2vec ``weights``: the pooling weights of a text sum to one, so the affine map commutes with the
  mean and is folded into the table (``row -> map(row)``): no graph change, no run-time cost;
* with ``weights``: only the linear part ``M = I - P^T P`` commutes with a weighted sum, so it is folded
  into the table and the graph subtracts ``mu M`` after pooling (one Sub; texts without tokens stay zero).

Either way the table is quantized after folding. ``auto`` (the default of every export) picks ``K`` on STS-B
dev pairs (held out from the fitting corpus) and keeps it only if it beats no map by :data:`MARGIN` Spearman
points: on already isotropic models (potion-base-8M: +1.7 at best) nothing is applied and the vectors stay
model2vec's; ``none`` skips all of this (model2vec's vectors on purpose). Every request but ``none`` also
measures anisotropy (mean cosine of random pairs of the held-out sentences) before and after.

Cost: one pooling pass over the fitting corpus and the dev sentences with the export's own tokenizer, one SVD,
and Spearman in numpy (no scipy import): a few seconds on the Qwen-family model (see docs/eval.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from m2v_edge.runtime.facts import isotropy_fact
from m2v_edge.runtime.similarity import random_pair_cosine
from m2v_edge.source.datasets import DATA_DIR, load_stsb
from m2v_edge.source.folder import SourceModel

if TYPE_CHECKING:
    from m2v_edge.runtime.tokenize import TextTokenizer

DEFAULT = "auto"  # what every export applies unless told otherwise
DEFAULT_CORPUS = DATA_DIR / "stsb" / "sts-train-sentences.txt"
HELD_OUT = DATA_DIR / "stsb" / "sts-dev.csv"
AUTO_KS = (1, 2, 3, 5, 10)
MARGIN = 3.0  # Spearman x 100 points `auto` must gain over no map on STS-B dev (see docs/eval.md)
MIN_SENTENCES = 100
MAX_SENTENCES = 50_000
_CHUNK_ROWS = 16384
_NO_CORPUS = "no such --isotropy-corpus file; give a UTF-8 text file, one sentence a line"


@dataclass(frozen=True)
class IsotropyRequest:
    """``--isotropy``: ``none``, ``auto`` or ``abtt:K``."""

    method: str
    k: int | None = None

    @classmethod
    def parse(cls, value: str | None) -> IsotropyRequest:
        """Read ``none``/``auto``/``abtt:K`` with a one-line error naming the remedy."""
        text = DEFAULT if value is None else value.strip().lower()
        if text in ("none", "auto"):
            return cls(text)
        name, _, k = text.partition(":")
        if name == "abtt" and k.isdigit() and int(k) >= 1:
            return cls("abtt", int(k))
        raise ValueError(f"--isotropy {value!r} is not valid; use none, auto or abtt:K with K >= 1 (e.g. abtt:3)")


@dataclass(frozen=True)
class IsotropyMap:
    """``x -> (x - mean) - (x - mean) directions^T directions`` (float64 inside, float32 out)."""

    mean: np.ndarray
    directions: np.ndarray

    @property
    def k(self) -> int:
        """Number of removed directions."""
        return int(self.directions.shape[0])

    @property
    def linear(self) -> np.ndarray:
        """``M = I - P^T P``: the map is ``x M - mean M``."""
        return np.eye(self.mean.shape[0]) - self.directions.T @ self.directions

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """The map on row vectors ``[n, dim]``."""
        centred = np.asarray(vectors, dtype=np.float64) - self.mean
        return (centred - (centred @ self.directions.T) @ self.directions).astype(np.float32)


@dataclass
class IsotropyResult:
    """What ``--isotropy`` fitted, measured and chose (``chosen`` is ``None`` when nothing is applied)."""

    request: IsotropyRequest
    corpus: str
    sentences: int
    chosen: IsotropyMap | None
    where: str | None = None
    dev_spearman: dict[str, float] = field(default_factory=dict)  # "none", "abtt:K" -> STS-B dev x 100
    random_pair_cosine: dict[str, float] = field(default_factory=dict)  # "before", "after" the map (held out)

    def describe(self) -> dict[str, Any]:
        """The ``isotropy`` entry of ``config.json``."""
        entry: dict[str, Any] = {
            "method": "none" if self.chosen is None else "abtt",
            "k": None if self.chosen is None else self.chosen.k,
            "requested": "auto" if self.request.method == "auto" else f"abtt:{self.request.k}",
            "corpus": self.corpus,
            "sentences": self.sentences,
            "where": self.where,
            "model2vec_parity": self.chosen is None,
        }
        if self.dev_spearman:
            entry["stsb_dev_spearman"] = {key: round(value, 2) for key, value in self.dev_spearman.items()}
        if self.random_pair_cosine:
            entry["random_pair_cosine"] = {key: round(value, 4) for key, value in self.random_pair_cosine.items()}
        return entry

    def summary(self) -> str:
        """One line for the export report and the card: what was applied, its figures, what it fitted on."""
        return f"{isotropy_fact(self.describe())}; fitted on {self.sentences} sentences of {self.corpus}"


def none_entry() -> dict[str, Any]:
    """The ``isotropy`` entry of an export made with ``--isotropy none``: model2vec's vectors, on purpose."""
    return {"method": "none", "k": None, "requested": "none", "where": None, "model2vec_parity": True}


def corpus_name(path: str | Path | None) -> str:
    """How ``config.json`` names the fitting corpus."""
    return "STS-B train sentences (packaged)" if path is None else Path(path).name


def read_corpus(path: str | Path | None) -> tuple[str, list[str]]:
    """The fitting sentences (one per line, blank lines skipped, at most :data:`MAX_SENTENCES`).

    :raises FileNotFoundError, ValueError: missing, non-UTF-8 or too small a file.
    """
    file = DEFAULT_CORPUS if path is None else Path(path)
    name = corpus_name(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: {_NO_CORPUS}")
    try:
        lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError as err:
        raise ValueError(f"{file}: not UTF-8 (byte {err.start}); convert the --isotropy-corpus file to UTF-8") from None
    if len(lines) < MIN_SENTENCES:
        raise ValueError(f"{file}: {len(lines)} sentences; --isotropy-corpus needs at least {MIN_SENTENCES} lines")
    return name, lines[:MAX_SENTENCES]


def pooled(
    source: SourceModel, texts: list[str], show_progress_bar: bool = False, tokenizer: TextTokenizer | None = None
) -> np.ndarray:
    """Mean-pooled, not normalized vectors, exactly as the graph computes them before normalization.

    :param tokenizer: the source's tokenizer when already built (building Qwen's takes over a second).
    """
    from m2v_edge.runtime.reference import ReferenceModel

    raw = dataclasses.replace(source, config=dict(source.config, normalize=False))
    return ReferenceModel(raw, tokenizer=tokenizer).encode(texts, show_progress_bar=show_progress_bar)


def fit(vectors: np.ndarray, k: int) -> IsotropyMap:
    """Mean and top-``k`` principal directions of the non-zero rows of ``vectors``.

    :raises ValueError: if ``k`` is not below the width or there are too few non-zero rows.
    """
    data = np.asarray(vectors, dtype=np.float64)
    data = data[np.abs(data).sum(axis=1) > 0]
    if k >= data.shape[1]:
        raise ValueError(f"--isotropy abtt:{k}: K must be below the model's {data.shape[1]} dims")
    if data.shape[0] <= k:
        raise ValueError(f"--isotropy-corpus: only {data.shape[0]} sentences with known tokens; give more text")
    mean = data.mean(axis=0)
    centred = data - mean
    _, vectors = np.linalg.eigh(centred.T @ centred)  # [dim, dim] scatter: cheaper than an SVD of the data
    return IsotropyMap(mean, np.ascontiguousarray(vectors[:, ::-1][:, :k].T))  # eigh sorts ascending


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank (``scipy.stats.rankdata``'s default, checked in the tests)."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse.reshape(-1)]


def _spearman(mapping: IsotropyMap | None, left: np.ndarray, right: np.ndarray, gold_ranks: np.ndarray) -> float:
    """Spearman x 100 of the pairs' cosines (after ``mapping``) against the gold scores' ranks."""
    if mapping is not None:
        left, right = mapping.apply(left), mapping.apply(right)
    cos = (left * right).sum(axis=1) / (np.linalg.norm(left, axis=1) * np.linalg.norm(right, axis=1) + 1e-32)
    return 100.0 * float(np.corrcoef(_ranks(cos), gold_ranks)[0, 1])


def choose(
    source: SourceModel,
    spec: str | IsotropyRequest,
    corpus: str | Path | None = None,
    show_progress_bar: bool = False,
    tokenizer: TextTokenizer | None = None,
) -> IsotropyResult | None:
    """Fit (and for ``auto``, select) the map for ``source``, measuring it on STS-B dev; ``None`` for ``none``.

    :raises ValueError, FileNotFoundError: bad spec, bad corpus, or K too large.
    """
    request = spec if isinstance(spec, IsotropyRequest) else IsotropyRequest.parse(spec)
    if request.method == "none":
        return None
    name, sentences = read_corpus(corpus)
    pairs = load_stsb(HELD_OUT)
    held_out = list(dict.fromkeys([p.text1 for p in pairs] + [p.text2 for p in pairs]))
    vectors = pooled(source, sentences + held_out, show_progress_bar, tokenizer)  # one pass, one tokenizer
    vectors, dev = vectors[: len(sentences)], vectors[len(sentences) :]
    row = {text: i for i, text in enumerate(held_out)}
    left, right = (dev[[row[getattr(p, side)] for p in pairs]] for side in ("text1", "text2"))
    gold_ranks = _ranks(np.array([p.label for p in pairs]))
    ks = [k for k in AUTO_KS if k < source.dim] if request.method == "auto" else [request.k or 0]
    widest = fit(vectors, max(ks))
    maps = {k: IsotropyMap(widest.mean, widest.directions[:k]) for k in ks}
    scores = {"none": _spearman(None, left, right, gold_ranks)}
    scores.update({f"abtt:{k}": _spearman(m, left, right, gold_ranks) for k, m in maps.items()})
    best = max(ks, key=lambda k: scores[f"abtt:{k}"])
    keep = request.method == "abtt" or scores[f"abtt:{best}"] - scores["none"] >= MARGIN
    chosen = maps[best] if keep else None
    before = random_pair_cosine(dev)
    after = before if chosen is None else random_pair_cosine(chosen.apply(dev))
    return IsotropyResult(
        request, name, len(sentences), chosen, where=placement(source) if keep else None, dev_spearman=scores,
        random_pair_cosine={"before": before, "after": after},
    )  # fmt: skip


def refit(source: SourceModel, entry: Any, tokenizer: TextTokenizer | None = None) -> IsotropyMap | None:
    """The map an export's ``isotropy`` entry says was folded in, fitted again on ``source``.

    Same corpus, same K, same arithmetic: the same map, to compare the export with its float source like with like.

    :return: ``None`` when the entry applied no map, or when it was fitted on an ``--isotropy-corpus`` file
        (only the packaged corpus can be read again here).
    """
    if not isinstance(entry, dict) or entry.get("method") != "abtt" or entry.get("corpus") != corpus_name(None):
        return None
    _, sentences = read_corpus(None)
    return fit(pooled(source, sentences, tokenizer=tokenizer), int(entry["k"]))


def placement(source: SourceModel) -> str:
    """``"table"`` when the whole map folds into the table, ``"graph"`` when the mean shift stays in the graph."""
    return "table" if source.weights is None else "graph"


def fold(source: SourceModel, mapping: IsotropyMap) -> tuple[SourceModel, np.ndarray | None]:
    """The source with the map folded into its table, and the bias the graph must add (``None`` if none).

    Without ``weights`` every table row becomes ``map(row)``; with them, rows become ``row M`` and the
    graph adds ``-mean M`` to every pooled vector that has a token.
    """
    linear = mapping.linear
    shift = -(mapping.mean @ linear)
    bias = None if placement(source) == "table" else shift.astype(np.float32)
    n_rows = int(source.embeddings.shape[0])
    folded = np.empty((n_rows, source.dim), dtype=np.float32)
    for start in range(0, n_rows, _CHUNK_ROWS):  # float64 math, float32 result, bounded memory
        rows = source.embeddings[start : start + _CHUNK_ROWS].astype(np.float64) @ linear
        folded[start : start + _CHUNK_ROWS] = rows if bias is not None else rows + shift
    return dataclasses.replace(source, embeddings=folded), bias


def check_request(spec: str | None, corpus: str | Path | None) -> IsotropyRequest:
    """Validate ``--isotropy``/``--isotropy-corpus`` before any heavy work."""
    request = IsotropyRequest.parse(spec)
    if corpus is not None:
        if request.method == "none":
            raise ValueError("--isotropy-corpus is only used with --isotropy auto or abtt:K; add one or drop it")
        if not Path(corpus).is_file():
            raise FileNotFoundError(f"{corpus}: {_NO_CORPUS}")
    return request


def reserve(config: dict[str, Any], request: IsotropyRequest, source: SourceModel, corpus: str | Path | None) -> None:
    """Put a worst-case ``isotropy`` entry in ``config`` so a ``--max-size`` plan counts its metadata bytes.

    Worst case: a map applied (its graph shift only where :func:`placement` puts one), every figure widest.
    """
    if request.method == "none":
        config["isotropy"] = none_entry()
        return
    ks = AUTO_KS if request.method == "auto" else (request.k or 1,)
    config["isotropy"] = IsotropyResult(
        request, corpus_name(corpus), MAX_SENTENCES, IsotropyMap(np.zeros(1), np.zeros((max(ks), 1))),
        where=placement(source), dev_spearman={key: -99.99 for key in ("none", *(f"abtt:{k}" for k in ks))},
        random_pair_cosine={"before": -0.9999, "after": -0.9999},
    ).describe()  # fmt: skip


def prepare(
    source: SourceModel,
    request: IsotropyRequest,
    corpus: str | Path | None,
    config: dict[str, Any],
    show_progress_bar: bool = False,
    tokenizer: TextTokenizer | None = None,
) -> tuple[SourceModel, np.ndarray | None, IsotropyResult | None]:
    """Fit/choose the map, record it in ``config`` and fold it: (table source, graph bias, result)."""
    result = choose(source, request, corpus, show_progress_bar, tokenizer)
    if result is None:
        config["isotropy"] = none_entry()
        return source, None, None
    config["isotropy"] = result.describe()
    if result.chosen is None:
        return source, None, result
    folded, bias = fold(source, result.chosen)
    return folded, bias, result
