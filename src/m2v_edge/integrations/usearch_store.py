"""usearch: an encoded corpus into an HNSW index of int8 rows (cosine), one call each.

    index = index_corpus("docs.m2vec")                      # or (int8, scale), floats, .parquet
    hits = index.search(model.encode("a query"), top_k=10)  # [StoreHit(row, id, score)], best first
    index.save("docs.usearch"); UsearchStore.open("docs.usearch")

Needs ``m2v-edge[usearch]``. Keys are the corpus rows; ids (if any) are kept beside the index in Python, and in
``<file>.ids.json`` by :meth:`UsearchStore.save`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.extras import require
from m2v_edge.integrations.stores import Corpus, StoreHit, check_top_k, int8_queries, read_corpus

# HNSW search breadth: with usearch's default (64) recall@10 was 0.986 on STS-B (potion-base-8M int8), 0.990 with 128.
EXPANSION_SEARCH = 128


def _usearch_index() -> Any:
    require("usearch", "usearch", what="usearch")
    # usearch 2.26 loaded before onnxruntime crashes the process when onnxruntime loads (a native symbol clash,
    # seen on Linux x86-64): load onnxruntime first, which m2v-edge needs anyway.
    import onnxruntime  # noqa: F401
    import usearch.index

    return usearch.index


class UsearchStore:
    """A usearch ``Index`` (``metric="cos"``, ``dtype="i8"``) over a corpus, with its ids."""

    def __init__(self, index: Any, ids: list[str] | None = None):
        self.index, self.ids = index, ids

    @property
    def dim(self) -> int:
        """Vector width."""
        return int(self.index.ndim)

    @classmethod
    def open(cls, path: str | Path) -> UsearchStore:
        """Load an index written by :meth:`save` (and its ids).

        :raises FileNotFoundError: if the file does not exist.
        """
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"{file}: no such index; write one with index_corpus(...).save({str(file)!r})")
        index = _usearch_index().Index.restore(str(file))
        index.expansion_search = EXPANSION_SEARCH
        ids_file = file.with_name(file.name + ".ids.json")
        return cls(index, json.loads(ids_file.read_text(encoding="utf-8")) if ids_file.is_file() else None)

    def save(self, path: str | Path) -> None:
        """Write the index (and ``<path>.ids.json`` when there are ids)."""
        self.index.save(str(path))
        if self.ids is not None:
            Path(str(path) + ".ids.json").write_text(json.dumps(self.ids), encoding="utf-8")

    def search(self, queries: np.ndarray, top_k: int = 10) -> list[StoreHit] | list[list[StoreHit]]:
        """The ``top_k`` nearest rows by cosine to a query vector (or to each of ``[n, dim]``), best first."""
        k = check_top_k(top_k)
        rows, single = int8_queries(queries, self.dim)
        found = self.index.search(rows, k)
        keys, dists = np.atleast_2d(found.keys), np.atleast_2d(found.distances)
        # one query row gives usearch's Matches (no counts), several its BatchMatches
        counts = np.atleast_1d(found.counts) if hasattr(found, "counts") else [len(found.keys)]
        out = [
            [
                self._hit(int(key), float(dist))
                for key, dist in zip(keys[r, : counts[r]], dists[r, : counts[r]], strict=True)
            ]
            for r in range(len(rows))
        ]
        return out[0] if single else out

    def _hit(self, row: int, distance: float) -> StoreHit:
        return StoreHit(row, None if self.ids is None else self.ids[row], 1.0 - distance)


def index_corpus(corpus: Corpus, ids: list[str] | None = None, threads: int = 0) -> UsearchStore:
    """Build an HNSW index of the corpus's int8 rows (key ``i`` is row ``i``).

    :param corpus: see :func:`m2v_edge.integrations.stores.read_corpus` (``.m2vec``, int8 Parquet, ...).
    :param threads: usearch's threads for adding (0: all cores).
    """
    data = read_corpus(corpus, ids)
    index = _usearch_index().Index(ndim=data.dim, metric="cos", dtype="i8", expansion_search=EXPANSION_SEARCH)
    if len(data.vectors):
        index.add(np.arange(len(data.vectors), dtype=np.uint64), data.vectors, threads=threads)
    return UsearchStore(index, data.ids)
