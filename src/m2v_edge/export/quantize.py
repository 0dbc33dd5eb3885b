"""Table storage: int8 with float32 per-row symmetric scales, float16 or float32."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from m2v_edge.contract import DType

_CHUNK_ROWS = 8192


@dataclass(frozen=True)
class StoredTable:
    """A table as stored in the graph: ``values[row] * scales[row]`` approximates the source row."""

    values: np.ndarray
    scales: np.ndarray | None


def quantize_int8(table: np.ndarray, show_progress_bar: bool = False) -> StoredTable:
    """Per-row symmetric int8: ``scale = max|row| / 127``, values in [-127, 127].

    An all-zero row gets scale 1 (it stays zero). An int8 source table is kept as it is, with
    scale 1, so the graph computes exactly what model2vec computes with it.
    """
    from tqdm.auto import tqdm

    if table.dtype == np.int8:
        return StoredTable(table, np.ones(table.shape[0], dtype=np.float32))
    values = np.empty(table.shape, dtype=np.int8)
    scales = np.empty(table.shape[0], dtype=np.float32)
    starts = range(0, table.shape[0], _CHUNK_ROWS)
    for start in tqdm(starts, desc="quantizing rows", unit="chunk", disable=not show_progress_bar):
        rows = table[start : start + _CHUNK_ROWS].astype(np.float32)
        scale = np.abs(rows).max(axis=1) / np.float32(127.0)
        scale[scale == 0] = 1.0
        values[start : start + _CHUNK_ROWS] = np.clip(np.rint(rows / scale[:, None]), -127, 127)
        scales[start : start + _CHUNK_ROWS] = scale
    return StoredTable(values, scales)


def store_table(table: np.ndarray, dtype: DType, show_progress_bar: bool = False) -> StoredTable:
    """Convert the source table to the storage ``dtype``."""
    if dtype is DType.INT8:
        return quantize_int8(table, show_progress_bar)
    if dtype is DType.FLOAT16:
        if table.dtype != np.float16 and np.abs(table).max(initial=0) > np.finfo(np.float16).max:
            raise ValueError("the table has values beyond float16's range; export with --dtype float32 or int8")
        return StoredTable(table.astype(np.float16), None)
    return StoredTable(table.astype(np.float32), None)
