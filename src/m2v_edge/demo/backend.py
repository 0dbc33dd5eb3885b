"""What the demo computes, without any UI: input checks, ranking, comparisons, notice, matrix, model facts.

Comparisons: float vs int8 (like with like: the same isotropy map), and the ranking without and with the fix.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from m2v_edge.demo import DEFAULT_MAX_CHARS, DEFAULT_MAX_DOCUMENTS
from m2v_edge.demo.cache import DemoModels
from m2v_edge.demo.fix import notice
from m2v_edge.runtime.facts import export_facts
from m2v_edge.runtime.similarity import Hit, cosine_matrix, rank, row_cosine

MAX_MATRIX_TEXTS = 50


class DemoInputError(ValueError):
    """A user input the demo refuses, with a message that says what to change."""


@dataclass(frozen=True)
class Limits:
    """Input limits: documents per request, characters per text, and bytes per HTTP request body.

    ``max_request_bytes`` (checked by the server before any parsing, :mod:`m2v_edge.demo.bodylimit`) defaults to
    what the largest request within the other two limits takes as ASCII JSON: ``max_chars x (max_documents + 1)``
    plus 2 bytes per document and 64 KiB (10.1 MB with the defaults).
    """

    max_documents: int = DEFAULT_MAX_DOCUMENTS
    max_chars: int = DEFAULT_MAX_CHARS
    max_request_bytes: int | None = None

    def __post_init__(self) -> None:
        """Refuse non-positive limits."""
        if self.max_documents < 1 or self.max_chars < 1:
            raise ValueError(
                f"--max-documents and --max-chars must be positive, got {self.max_documents} and {self.max_chars}"
            )
        if self.max_request_bytes is not None and self.max_request_bytes < 1:
            raise ValueError(f"--max-request-bytes must be positive, got {self.max_request_bytes}")

    @property
    def request_bytes(self) -> int:
        """The largest HTTP request body the server reads."""
        if self.max_request_bytes is not None:
            return self.max_request_bytes
        return self.max_chars * (self.max_documents + 1) + 2 * self.max_documents + (64 << 10)


@dataclass(frozen=True)
class Ranking:
    """A ranking and how long encoding took."""

    hits: list[Hit]
    encode_ms: float


@dataclass(frozen=True)
class Comparison:
    """The same ranking from the float source (numpy) and from the int8 ONNX export.

    Rows are in the float ranking's order: ``(document, float score, int8 score, float rank, int8 rank,
    cosine between the document's float and int8 vectors)``.
    """

    rows: list[tuple[str, float, float, int, int, float]]
    query_cosine: float
    float_ms: float
    onnx_ms: float

    @property
    def same_order(self) -> bool:
        """Whether both models rank the documents identically."""
        return all(row[3] == row[4] for row in self.rows)

    @property
    def max_abs_diff(self) -> float:
        """Largest absolute score difference."""
        return max((abs(row[2] - row[1]) for row in self.rows), default=0.0)

    @property
    def min_cosine(self) -> float:
        """Smallest float/int8 vector cosine over the query and the documents."""
        return min([self.query_cosine, *(row[5] for row in self.rows)])


@dataclass(frozen=True)
class FixComparison:
    """One ranking without and with the isotropy fix (rows in the fixed ranking's order).

    Rows: ``(document, score without, rank without, score with, rank with)``; ``cones``: the random-pair mean
    cosine without and with the fix, the baseline each column's scores sit on.
    """

    rows: list[tuple[str, float, int, float, int]]
    without_label: str
    with_label: str
    cones: tuple[float, float]

    @property
    def margins(self) -> tuple[float, float]:
        """Score gap between the first and the second document, without and with the fix."""
        without = sorted((row[1] for row in self.rows), reverse=True)
        fixed = sorted((row[3] for row in self.rows), reverse=True)
        return (without[0] - without[1], fixed[0] - fixed[1]) if len(self.rows) > 1 else (0.0, 0.0)


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each score, best first (stable on ties)."""
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return ranks


def split_lines(text: str | None) -> list[str]:
    """One text per line; surrounding spaces stripped, blank lines dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def document_list(documents: str | Sequence[str] | None, what: str = "documents") -> list[str]:
    """Documents given as one string (one per line) or as a list of strings; stripped, blank ones dropped.

    :raises DemoInputError: if an item of the list is not a string.
    """
    if documents is None or isinstance(documents, str):
        return split_lines(documents)
    for number, doc in enumerate(documents, start=1):
        if not isinstance(doc, str):
            raise DemoInputError(f"{what.capitalize().rstrip('s')} {number} is a {type(doc).__name__}, not a string.")
    return [doc.strip() for doc in documents if doc.strip()]


class DemoBackend:
    """Serves the demo's requests from :class:`DemoModels`; thread-safe (encoding is serialized)."""

    def __init__(self, models: DemoModels, limits: Limits | None = None) -> None:
        self.models = models
        self.limits = limits or Limits()
        self._lock = threading.Lock()

    def _check_text(self, text: str, what: str) -> None:
        if len(text) > self.limits.max_chars:
            raise DemoInputError(
                f"{what} has {len(text):,} characters; the limit is {self.limits.max_chars:,} per text "
                "(shorten it, or start the demo with a larger --max-chars)"
            )

    def check_query(self, query: str | None) -> str:
        """The query, stripped. :raises DemoInputError: if it is empty or too long."""
        text = (query or "").strip()
        if not text:
            raise DemoInputError("The query is empty: type a query (or click a preset).")
        self._check_text(text, "The query")
        return text

    def check_documents(
        self, documents: str | Sequence[str] | None, what: str = "documents", limit: int | None = None
    ) -> list[str]:
        """The documents (one per line, or a list). :raises DemoInputError: none, too many, too long, not strings."""
        docs = document_list(documents, what)
        if not docs:
            raise DemoInputError(f"No {what}: put one per line (or click a preset).")
        most = self.limits.max_documents if limit is None else limit
        if len(docs) > most:
            flag = " (start the demo with a larger --max-documents)" if limit is None else ""
            raise DemoInputError(f"{len(docs):,} {what} given; the limit is {most:,} per request{flag}.")
        for number, doc in enumerate(docs, start=1):
            self._check_text(doc, f"{what.capitalize().rstrip('s')} {number}")
        return docs

    def _encode_onnx(self, texts: list[str]) -> tuple[np.ndarray, float]:
        with self._lock:
            start = time.perf_counter()
            vectors = self.models.onnx.encode(texts)
            return vectors, (time.perf_counter() - start) * 1000

    def rank(self, query: str | None, documents: str | Sequence[str] | None) -> Ranking:
        """Rank the documents (one per line, or a list of strings) by cosine to the query with the int8 ONNX model.

        :raises DemoInputError: on empty or over-limit input.
        """
        text = self.check_query(query)
        docs = self.check_documents(documents)
        vectors, ms = self._encode_onnx([text, *docs])
        return Ranking(rank(vectors[0], vectors[1:], docs), ms)

    def compare(self, query: str | None, documents: str | None) -> Comparison:
        """Rank with the float source (numpy) and with the int8 ONNX model, side by side.

        :raises DemoInputError: on empty or over-limit input, or when the source is not available.
        """
        reference = self.models.reference
        if reference is None:
            raise DemoInputError(self.models.compare_note or "The float source model is not available.")
        text = self.check_query(query)
        docs = self.check_documents(documents)
        texts = [text, *docs]
        with self._lock:
            start = time.perf_counter()
            exact = reference.encode(texts)
            float_ms = (time.perf_counter() - start) * 1000
        quant, onnx_ms = self._encode_onnx(texts)
        float_hits = rank(exact[0], exact[1:], docs)
        onnx_scores = cosine_matrix(quant[0], quant[1:])[0]
        onnx_rank = _ranks(onnx_scores)
        pair_cos = row_cosine(exact, quant, both_zero=1.0)
        rows = [
            (hit.document, hit.score, float(onnx_scores[hit.index]), pos, int(onnx_rank[hit.index]),
             float(pair_cos[hit.index + 1]))
            for pos, hit in enumerate(float_hits, start=1)
        ]  # fmt: skip
        return Comparison(rows, float(pair_cos[0]), float_ms, onnx_ms)

    def notice(self) -> str:
        """The warning shown when the served model cannot discriminate (markdown; "" when it can)."""
        return notice(self.models.cone, self.models.fix is not None)

    def fix_compare(self, query: str | None, documents: str | None) -> FixComparison:
        """The ranking without and with the isotropy fix, side by side (models that need the fix only).

        :raises DemoInputError: on empty or over-limit input, or when this model has no fix to show.
        """
        fix = self.models.fix
        if fix is None:
            raise DemoInputError("This model needs no isotropy fix (or its source is not available here).")
        text = self.check_query(query)
        docs = self.check_documents(documents)
        with self._lock:
            before, after = (encoder.encode([text, *docs]) for encoder in (fix.without, fix.with_fix))
        scores = [cosine_matrix(vectors[0], vectors[1:])[0] for vectors in (before, after)]
        ranks = [_ranks(s) for s in scores]
        order = np.argsort(-scores[1], kind="stable")
        rows = [(docs[i], float(scores[0][i]), int(ranks[0][i]), float(scores[1][i]), int(ranks[1][i])) for i in order]
        return FixComparison(rows, fix.without_label, fix.with_label, fix.cones)

    def matrix(self, texts: str | None) -> tuple[list[str], np.ndarray, float]:
        """Pairwise cosine of the texts (one per line) with the int8 ONNX model.

        :return: the texts, the ``[n, n]`` matrix and the encode time in ms.
        :raises DemoInputError: on empty or over-limit input.
        """
        items = self.check_documents(texts, what="texts", limit=min(MAX_MATRIX_TEXTS, self.limits.max_documents))
        vectors, ms = self._encode_onnx(items)
        return items, cosine_matrix(vectors, vectors), ms

    def model_facts(self) -> list[tuple[str, str]]:
        """The Model tab: dims, vocab, dtype, file sizes, normalize, source, opset (from ``config.json``)."""
        rows = export_facts(self.models.export_dir, self.models.onnx.config)
        float_source = str(self.models.source_dir) if self.models.source_dir else "not available"
        rows.append(("float source (Compare tab)", float_source))
        rows.append(("unrelated texts' mean cosine (served model)", f"{self.models.cone:.3f}"))
        return rows
