"""Vectors as Arrow columns, shared by the Parquet writer and the Ray integration.

Schema: ``id`` (string, when ids are given), ``vector`` (``fixed_size_list<float32, dim>``, or
``fixed_size_list<int8, dim>`` plus ``scale`` float32 for ``int8``: ``vector * scale`` gives the float32 row back).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from m2v_edge.corpus.vectorfile import quantize_rows

VECTOR_COLUMN = "vector"
SCALE_COLUMN = "scale"
ID_COLUMN = "id"


def require_pyarrow() -> Any:
    """Import pyarrow or say which extra installs it."""
    from m2v_edge.extras import require

    require("parquet", "pyarrow", what="Parquet")
    import pyarrow

    return pyarrow


def vector_columns(vectors: np.ndarray, dtype: str = "float32") -> dict[str, Any]:
    """``{"vector": ..., ["scale": ...]}`` Arrow arrays for ``[n, dim]`` float32 vectors."""
    pa = require_pyarrow()
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = x.shape[1]
    if dtype == "float32":
        return {VECTOR_COLUMN: pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), dim)}
    if dtype == "int8":
        q, scale = quantize_rows(x)
        return {
            VECTOR_COLUMN: pa.FixedSizeListArray.from_arrays(pa.array(q.reshape(-1)), dim),
            SCALE_COLUMN: pa.array(scale),
        }
    raise ValueError(f"Parquet vector dtype {dtype!r} is not supported; choose float32 or int8")


def vectors_table(
    vectors: np.ndarray, dtype: str, ids: list[str] | None = None, metadata: dict[str, str] | None = None
) -> Any:
    """A ``pyarrow.Table`` of ids (optional) and vector columns, with ``metadata`` on its schema."""
    pa = require_pyarrow()
    columns: dict[str, Any] = {} if ids is None else {ID_COLUMN: pa.array(ids, type=pa.string())}
    columns.update(vector_columns(vectors, dtype))
    table = pa.table(columns)
    return table.replace_schema_metadata(metadata) if metadata else table


def table_vectors(table: Any, column: str = VECTOR_COLUMN) -> np.ndarray:
    """The float32 ``[n, dim]`` vectors of a table written by :func:`vectors_table` (int8 dequantized)."""
    col = table.column(column).combine_chunks()
    dim = col.type.list_size
    values = col.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim).astype(np.float32)
    if SCALE_COLUMN in table.column_names and col.type.value_type.bit_width == 8:
        values *= table.column(SCALE_COLUMN).to_numpy()[:, None]
    return values
