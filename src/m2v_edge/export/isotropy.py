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

Either way the table is quantized after folding. ``auto`` picks ``K`` on STS-B dev pairs (held out from the
fitting corpus) and keeps it only if it beats no map by :data:`MARGIN` Spearman points: on already
isotropic models (potion-base-8M) the map costs 1-3 points, so it is never applied blindly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.extras import require
from m2v_edge.source.datasets import DATA_DIR
from m2v_edge.source.folder import SourceModel

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
        text = "none" if value is None else value.strip().lower()
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

    def describe(self) -> dict[str, Any]:
        """The ``isotropy`` entry of ``config.json``."""
        entry: dict[str, Any] = {
            "method": "none" if self.chosen is None else "abtt",
            "k": None if self.chosen is None else self.chosen.k,
            "requested": "auto" if self.request.method == "auto" else f"abtt:{self.request.k}",
            "corpus": self.corpus,
            "sentences": self.sentences,
            "where": self.where,
        }
        if self.dev_spearman:
            entry["stsb_dev_spearman"] = {key: round(value, 2) for key, value in self.dev_spearman.items()}
        return entry

    def summary(self) -> str:
        """One line for the export report and the card."""
        scores = ", ".join(f"{key} {value:.2f}" for key, value in self.dev_spearman.items())
        figures = f"; STS-B dev Spearman x 100: {scores}" if scores else ""
        fit = f"fitted on {self.sentences} sentences of {self.corpus}"
        if self.chosen is None:
            return f"auto kept the model as it is (no K beat none by {MARGIN:g} point){figures}; {fit}"
        how = "chosen by auto" if self.request.method == "auto" else "as requested"
        return f"abtt:{self.chosen.k} applied in the {self.where} ({how}){figures}; {fit}"


def read_corpus(path: str | Path | None) -> tuple[str, list[str]]:
    """The fitting sentences (one per line, blank lines skipped, at most :data:`MAX_SENTENCES`).

    :raises FileNotFoundError, ValueError: missing, non-UTF-8 or too small a file.
    """
    file = DEFAULT_CORPUS if path is None else Path(path)
    name = "STS-B train sentences (packaged)" if path is None else file.name
    if not file.is_file():
        raise FileNotFoundError(f"{file}: {_NO_CORPUS}")
    try:
        lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError as err:
        raise ValueError(f"{file}: not UTF-8 (byte {err.start}); convert the --isotropy-corpus file to UTF-8") from None
    if len(lines) < MIN_SENTENCES:
        raise ValueError(f"{file}: {len(lines)} sentences; --isotropy-corpus needs at least {MIN_SENTENCES} lines")
    return name, lines[:MAX_SENTENCES]


def pooled(source: SourceModel, texts: list[str], show_progress_bar: bool = False) -> np.ndarray:
    """Mean-pooled, not normalized vectors, exactly as the graph computes them before normalization."""
    from m2v_edge.runtime.reference import ReferenceModel

    raw = dataclasses.replace(source, config=dict(source.config, normalize=False))
    return ReferenceModel(raw).encode(texts, show_progress_bar=show_progress_bar)


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
    _, _, vt = np.linalg.svd(data - mean, full_matrices=False)
    return IsotropyMap(mean, vt[:k].copy())


def _spearman(mapping: IsotropyMap | None, left: np.ndarray, right: np.ndarray, gold: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if mapping is not None:
        left, right = mapping.apply(left), mapping.apply(right)
    cos = (left * right).sum(axis=1) / (np.linalg.norm(left, axis=1) * np.linalg.norm(right, axis=1) + 1e-32)
    return 100.0 * float(spearmanr(cos, gold).statistic)


def choose(
    source: SourceModel, spec: str | IsotropyRequest, corpus: str | Path | None = None, show_progress_bar: bool = False
) -> IsotropyResult | None:
    """Fit (and for ``auto``, select) the map for ``source``; ``None`` for ``none``.

    :raises ValueError, FileNotFoundError: bad spec, bad corpus, or K too large.
    """
    request = spec if isinstance(spec, IsotropyRequest) else IsotropyRequest.parse(spec)
    if request.method == "none":
        return None
    name, sentences = read_corpus(corpus)
    vectors = pooled(source, sentences, show_progress_bar)
    if request.method == "abtt":
        assert request.k is not None
        return IsotropyResult(request, name, len(sentences), fit(vectors, request.k), where=placement(source))
    require("eval", "scipy", what="--isotropy auto")
    from m2v_edge.source.datasets import load_stsb

    pairs = load_stsb(HELD_OUT)
    left = pooled(source, [p.text1 for p in pairs], show_progress_bar)
    right = pooled(source, [p.text2 for p in pairs], show_progress_bar)
    gold = np.array([p.label for p in pairs])
    ks = [k for k in AUTO_KS if k < source.dim]
    widest = fit(vectors, max(ks))
    scores = {"none": _spearman(None, left, right, gold)}
    maps = {k: IsotropyMap(widest.mean, widest.directions[:k]) for k in ks}
    scores.update({f"abtt:{k}": _spearman(m, left, right, gold) for k, m in maps.items()})
    best = max(ks, key=lambda k: scores[f"abtt:{k}"])
    keep = scores[f"abtt:{best}"] - scores["none"] >= MARGIN
    chosen = maps[best] if keep else None
    return IsotropyResult(
        request, name, len(sentences), chosen, where=placement(source) if keep else None, dev_spearman=scores
    )


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


def reserve(config: dict[str, Any], request: IsotropyRequest) -> None:
    """Put a worst-case ``isotropy`` entry in ``config`` so a ``--max-size`` plan counts its metadata bytes."""
    if request.method != "none":
        scores = {key: -100.0 for key in ("none", *(f"abtt:{k}" for k in AUTO_KS))}
        config["isotropy"] = {
            "method": "abtt", "k": 10**6, "requested": "abtt:1000000", "corpus": "x" * 260,
            "sentences": MAX_SENTENCES, "where": "table", "stsb_dev_spearman": scores,
        }  # fmt: skip


def prepare(
    source: SourceModel,
    request: IsotropyRequest,
    corpus: str | Path | None,
    config: dict[str, Any],
    show_progress_bar: bool = False,
) -> tuple[SourceModel, np.ndarray | None, IsotropyResult | None]:
    """Fit/choose the map, record it in ``config`` and fold it: (table source, graph bias, result)."""
    config.pop("isotropy", None)
    result = choose(source, request, corpus, show_progress_bar)
    if result is None:
        return source, None, None
    config["isotropy"] = result.describe()
    if result.chosen is None:
        return source, None, result
    folded, bias = fold(source, result.chosen)
    return folded, bias, result
