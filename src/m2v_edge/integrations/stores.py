"""An encoded corpus as int8 rows + a float32 scale per row: what vector stores take (sqlite-vec, usearch).

``m2v-edge encode`` writes exactly that to ``.m2vec`` files and to Parquet with ``--dtype int8`` (``vector`` int8,
``scale`` float32, optional ``id``); float vectors (``.npy``, a float ``.parquet``, an array) are quantized here the
same way (:func:`m2v_edge.corpus.vectorfile.quantize_rows`). Cosine ignores a row's positive scale, so a store
that ranks by cosine over the int8 rows ranks as over the float32 rows they stand for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.corpus.arrow import ID_COLUMN, SCALE_COLUMN, VECTOR_COLUMN, require_pyarrow
from m2v_edge.corpus.vectorfile import HEADER_SIZE, VectorFile, quantize_rows, scales_offset

Corpus = str | Path | np.ndarray | tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class StoreHit:
    """One search result: the corpus row, its id (when the corpus had ids) and the cosine similarity."""

    row: int
    id: str | None
    score: float


@dataclass
class Int8Corpus:
    """``vectors`` int8 ``[n, dim]``, ``scale`` float32 ``[n]`` (``vectors * scale`` is the float row), ids."""

    vectors: np.ndarray
    scale: np.ndarray
    ids: list[str] | None = None

    @property
    def dim(self) -> int:
        """Vector width."""
        return int(self.vectors.shape[1])


def read_corpus(corpus: Corpus, ids: list[str] | None = None) -> Int8Corpus:
    """An encoded corpus as int8 rows: a ``.m2vec``, ``.parquet`` or ``.npy`` path, ``(int8, scale)`` or floats.

    :param ids: one id per row (default: the Parquet ``id`` column, else none).
    :raises FileNotFoundError: for a missing file.
    :raises ValueError: for another kind of file, a wrong shape or dtype, or ids of another length.
    """
    if isinstance(corpus, tuple):
        q, scale = (np.asarray(part) for part in corpus)
        if q.dtype != np.int8 or q.ndim != 2 or scale.shape != (len(q),):
            raise ValueError("an (int8 rows, scale) corpus needs int8 [n, dim] rows and one float scale per row")
        out = Int8Corpus(q, scale.astype(np.float32))
    elif isinstance(corpus, np.ndarray):
        out = _floats(corpus, "the vectors")
    else:
        out = _read_file(Path(corpus))
    if ids is not None:
        out.ids = [str(i) for i in ids]
    if out.ids is not None and len(out.ids) != len(out.vectors):
        raise ValueError(f"{len(out.ids)} ids for {len(out.vectors)} vectors; give one id per row")
    return out


def _floats(vectors: np.ndarray, what: str) -> Int8Corpus:
    if vectors.ndim != 2 or not np.issubdtype(vectors.dtype, np.floating):
        raise ValueError(f"{what}: expected float [n, dim] vectors (or int8 rows with their scales)")
    return Int8Corpus(*quantize_rows(vectors))


def _read_file(path: Path) -> Int8Corpus:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such corpus file; write one with `m2v-edge encode MODEL --output X.m2vec`")
    if path.suffix == ".m2vec":
        vf = VectorFile(path)
        if vf.dtype != "int8":
            return _floats(vf.vectors(), str(path))
        rows = np.fromfile(path, dtype=np.int8, count=vf.count * vf.dim, offset=HEADER_SIZE)
        scale = np.fromfile(path, dtype="<f4", count=vf.count, offset=scales_offset(vf.dim, vf.count))
        return Int8Corpus(rows.reshape(vf.count, vf.dim), scale.astype(np.float32))
    if path.suffix == ".npy":
        return _floats(np.load(path, allow_pickle=False), str(path))
    if path.suffix == ".parquet":
        return _read_parquet(path)
    raise ValueError(f"{path}: a corpus is a .m2vec, .parquet or .npy file written by `m2v-edge encode`")


def _read_parquet(path: Path) -> Int8Corpus:
    require_pyarrow()
    import pyarrow.parquet as pq

    table: Any = pq.read_table(path)
    if VECTOR_COLUMN not in table.column_names:
        raise ValueError(f"{path}: no '{VECTOR_COLUMN}' column; write it with `m2v-edge encode --output X.parquet`")
    col = table.column(VECTOR_COLUMN).combine_chunks()
    values = col.flatten().to_numpy(zero_copy_only=False).reshape(-1, col.type.list_size)
    ids = table.column(ID_COLUMN).to_pylist() if ID_COLUMN in table.column_names else None
    if values.dtype == np.int8 and SCALE_COLUMN in table.column_names:
        out = Int8Corpus(values, table.column(SCALE_COLUMN).to_numpy().astype(np.float32))
    else:
        out = _floats(values.astype(np.float32), str(path))
    out.ids = ids
    return out


def int8_queries(queries: np.ndarray, dim: int) -> tuple[np.ndarray, bool]:
    """Query vectors (``[dim]`` or ``[n, dim]``, float) as int8 rows, and whether one query was given."""
    q = np.asarray(queries)
    single = q.ndim == 1
    q = np.atleast_2d(q)
    if q.ndim != 2 or q.shape[1] != dim:
        raise ValueError(
            f"query vectors have shape {np.shape(queries)}, the store holds {dim} dims; use the same model"
        )
    return (q if q.dtype == np.int8 else quantize_rows(q)[0]), single


def check_top_k(top_k: object) -> int:
    """``top_k`` as a positive int, or ``ValueError``."""
    if not isinstance(top_k, (int, np.integer)) or isinstance(top_k, bool) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
    return int(top_k)
