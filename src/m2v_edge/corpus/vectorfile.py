r"""The compact vector file for apps (``.m2vec``): int8 rows + a float32 scale per row, or float16 rows.

Layout (little-endian; ``docs/scale.md`` documents it, ``web/src/vectors.js`` reads it)::

    0   magic    8 bytes  b"M2VEVEC\0"
    8   version  u16      1
    10  dtype    u16      1 = int8 + per-row float32 scale, 2 = float16
    12  dim      u32
    16  count    u64
    24  model    32 bytes sha256 of the export's config.json (the model fingerprint)
    56  reserved 8 bytes  zero
    64  rows     count x dim (int8 or float16)
    ..  scales   count x float32, at the next multiple of 4 (int8 only)

An int8 row is ``round(x / s)`` with ``s = max|x| / 127``; ``x ~= s * q``. Search is brute force: batched
dot products of the (dequantized) rows with the query, cosine, top-k. A file must be exactly as long as its
header says (a count smaller or larger than the data is refused), and NaN or infinite vectors are never written
nor searched with.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.contract import (
    VECTOR_DTYPE_CODES,
    VECTOR_HEADER_FORMAT,
    VECTOR_HEADER_SIZE,
    VECTOR_MAGIC,
    VECTOR_VERSION,
    ExportFiles,
)
from m2v_edge.runtime.similarity import check_top_k

# The layout is part of the contract (contract.py; web/src/contract.js is generated from it).
MAGIC = VECTOR_MAGIC
VERSION = VECTOR_VERSION
HEADER_SIZE = VECTOR_HEADER_SIZE
DTYPE_CODES = VECTOR_DTYPE_CODES
_HEADER = struct.Struct(VECTOR_HEADER_FORMAT)
SEARCH_ROWS = 65536  # rows dequantized per batch: ~64 MB of float32 at 256 dims


def model_fingerprint(model_dir: str | Path) -> bytes:
    """sha256 of the exported folder's ``config.json``: vectors made by another model are refused."""
    config = ExportFiles(Path(model_dir)).config
    if not config.is_file():
        raise FileNotFoundError(f"{config}: no config.json; export the model with `m2v-edge export` first")
    return hashlib.sha256(config.read_bytes()).digest()


def pack_header(dtype: str, dim: int, count: int, fingerprint: bytes) -> bytes:
    """The 64-byte header."""
    if dtype not in DTYPE_CODES:
        raise ValueError(f"vector file dtype {dtype!r} is not supported; choose one of {list(DTYPE_CODES)}")
    if len(fingerprint) != 32:
        raise ValueError("model fingerprint must be 32 bytes (sha256 of config.json)")
    return _HEADER.pack(MAGIC, VERSION, DTYPE_CODES[dtype], dim, count, fingerprint)


def scales_offset(dim: int, count: int) -> int:
    """Where the float32 scales of an int8 file start (4-byte aligned, for typed arrays in JS)."""
    end = HEADER_SIZE + dim * count
    return (end + 3) // 4 * 4


def require_finite(vectors: np.ndarray, what: str, remedy: str, first_row: int = 0) -> None:
    """:raises ValueError: ``WHAT contain NaN or infinity (row first_row + i); REMEDY`` if a value is not finite."""
    finite = np.isfinite(vectors)
    if not finite.all():
        row = int(np.argwhere(~finite)[0][0]) if finite.ndim else 0
        raise ValueError(f"{what} contain NaN or infinity (row {first_row + row}); {remedy}")


def quantize_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row int8: ``(q, scale)`` with ``vectors ~= q * scale[:, None]`` (zero rows: scale 0).

    :raises ValueError: for NaN or infinite values (they have no int8 row).
    """
    x = np.asarray(vectors, dtype=np.float32)
    require_finite(x, "vectors", "pass finite vectors (NaN/infinity have no int8 form)")
    peak = np.abs(x).max(axis=1) if x.size else np.zeros(len(x), dtype=np.float32)
    scale = (peak / 127.0).astype(np.float32)
    safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(x / safe[:, None]), -127, 127).astype(np.int8)
    return q, scale


def write_vector_file(path: str | Path, vectors: np.ndarray, fingerprint: bytes, dtype: str = "int8") -> Path:
    """Write vectors held in memory as a ``.m2vec`` file (streaming writes: ``m2v-edge encode``)."""
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"vectors must be a [count, dim] array, got shape {x.shape}")
    require_finite(x, "vectors", "pass finite vectors")
    out = Path(path)
    with open(out, "wb") as fh:
        fh.write(pack_header(dtype, x.shape[1], x.shape[0], fingerprint))
        if dtype == "float16":
            fh.write(x.astype("<f2").tobytes())
        else:
            q, scale = quantize_rows(x)
            fh.write(q.tobytes())
            fh.write(b"\0" * (scales_offset(x.shape[1], x.shape[0]) - HEADER_SIZE - q.size))
            fh.write(scale.astype("<f4").tobytes())
    return out


@dataclass(frozen=True)
class VectorHit:
    """One search result: the row index in the file and its cosine to the query."""

    index: int
    score: float


class VectorFile:
    """A ``.m2vec`` file, memory-mapped: rows are read from disk batch by batch, never all at once."""

    def __init__(self, path: str | Path, expect_fingerprint: bytes | None = None) -> None:
        """Open and check a vector file.

        :param expect_fingerprint: refuse the file unless it was made by this model (see :func:`model_fingerprint`).
        :raises FileNotFoundError: if the file does not exist.
        :raises ValueError: if it is not a vector file, is not exactly the size its header says, or comes from
            another model.
        """
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such vector file")
        with open(self.path, "rb") as fh:
            head = fh.read(HEADER_SIZE)
        if len(head) < HEADER_SIZE or head[:8] != MAGIC:
            raise ValueError(f"{self.path}: not an m2v-edge vector file; write one with `m2v-edge encode -o X.m2vec`")
        _, version, code, dim, count, fingerprint = _HEADER.unpack(head)
        if version > VERSION:
            raise ValueError(f"{self.path}: vector file version {version} is newer than this m2v-edge; upgrade it")
        names = {v: k for k, v in DTYPE_CODES.items()}
        if code not in names:
            raise ValueError(f"{self.path}: unknown dtype code {code}; the file is corrupt")
        self.dtype, self.dim, self.count, self.fingerprint = names[code], int(dim), int(count), bytes(fingerprint)
        size = self.path.stat().st_size
        need = scales_offset(dim, count) + 4 * count if self.dtype == "int8" else HEADER_SIZE + 2 * dim * count
        if size != need:
            state = "truncated" if size < need else "longer than its header says"
            raise ValueError(
                f"{self.path}: {state} ({size} bytes; {count} rows of {dim} {self.dtype} need {need}); "
                "write the file again"
            )
        if expect_fingerprint is not None and expect_fingerprint != self.fingerprint:
            raise ValueError(
                f"{self.path}: vectors were made by another model (fingerprint {self.fingerprint.hex()[:12]}, "
                f"this model {expect_fingerprint.hex()[:12]}); encode the corpus again with this model"
            )
        self._rows: Any = None
        self._scales: np.ndarray | None = None
        self._norms: np.ndarray | None = None

    @classmethod
    def for_model(cls, path: str | Path, model_dir: str | Path) -> VectorFile:
        """Open ``path`` and refuse it unless it was made by the export in ``model_dir``."""
        return cls(path, expect_fingerprint=model_fingerprint(model_dir))

    def _map(self) -> tuple[Any, np.ndarray | None]:
        if self._rows is None and self.count:
            kind = np.int8 if self.dtype == "int8" else np.dtype("<f2")
            self._rows = np.memmap(self.path, dtype=kind, mode="r", offset=HEADER_SIZE, shape=(self.count, self.dim))
            if self.dtype == "int8":
                offset = scales_offset(self.dim, self.count)
                self._scales = np.fromfile(self.path, dtype="<f4", count=self.count, offset=offset)
        return self._rows, self._scales

    def vectors(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows ``start:stop`` dequantized to float32."""
        rows, scales = self._map()
        stop = self.count if stop is None else min(stop, self.count)
        if rows is None or start >= stop:
            return np.zeros((0, self.dim), dtype=np.float32)
        block = np.asarray(rows[start:stop], dtype=np.float32)
        return block * scales[start:stop, None] if scales is not None else block

    def _row_norms(self) -> np.ndarray:
        if self._norms is None:
            starts = range(0, self.count, SEARCH_ROWS)
            parts = [np.linalg.norm(self.vectors(s, s + SEARCH_ROWS), axis=1) for s in starts]
            self._norms = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        return self._norms

    def search(self, queries: np.ndarray, top_k: int = 10) -> list[list[VectorHit]]:
        """Cosine top-k for each query vector (``[dim]`` or ``[n, dim]``), best first; ties keep row order.

        :raises ValueError: for a query of another width, with NaN or infinity, or a ``top_k`` that is not a
            positive integer (``True`` is not one).
        """
        q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        if q.ndim != 2:
            raise ValueError(f"query vectors must be [dim] or [n, dim], got shape {q.shape}")
        if q.shape[1] != self.dim:
            raise ValueError(f"query vectors have {q.shape[1]} dims, the file {self.dim}; use the same model")
        require_finite(q, "query vectors", "encode the query with the model (its vectors are finite)")
        if top_k is None:
            raise ValueError("top_k must be a positive integer, got None")
        check_top_k(top_k)
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        norms = self._row_norms()
        best_scores = np.full((len(q), 0), -np.inf, dtype=np.float32)
        best_index = np.zeros((len(q), 0), dtype=np.int64)
        for start in range(0, self.count, SEARCH_ROWS):
            block = self.vectors(start, start + SEARCH_ROWS)
            scores = (q @ block.T) / np.maximum(norms[start : start + len(block)], 1e-12)
            index = np.broadcast_to(np.arange(start, start + len(block)), scores.shape)
            best_scores = np.concatenate([best_scores, scores], axis=1)
            best_index = np.concatenate([best_index, index], axis=1)
            if best_scores.shape[1] > top_k:  # keep the k best so far, ties broken by the lower row
                order = np.lexsort((best_index, -best_scores), axis=1)[:, :top_k]
                best_scores = np.take_along_axis(best_scores, order, axis=1)
                best_index = np.take_along_axis(best_index, order, axis=1)
        order = np.lexsort((best_index, -best_scores), axis=1)
        return [[VectorHit(int(best_index[r, c]), float(best_scores[r, c])) for c in order[r]] for r in range(len(q))]
