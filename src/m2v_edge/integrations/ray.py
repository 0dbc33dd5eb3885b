"""Ray Data: encode a ``ray.data.Dataset`` with one model per actor (``pip install m2v-edge[ray]``).

::

    import ray
    from m2v_edge.integrations.ray import encode_dataset

    ds = ray.data.read_parquet("s3://bucket/corpus/")          # or a local folder
    encode_dataset(ds, "out/potion-int8", concurrency=4).write_parquet("s3://bucket/vectors/")

Each actor loads the exported folder once (onnxruntime with one thread: Ray gives each actor one CPU) and
encodes ``pyarrow`` batches; the output adds a ``vector`` column (plus ``scale`` for ``dtype="int8"``) in the
schema of ``m2v-edge encode --output X.parquet`` (:mod:`m2v_edge.corpus.arrow`).
"""

from __future__ import annotations

from typing import Any

from m2v_edge.corpus.arrow import SCALE_COLUMN, VECTOR_COLUMN, vector_columns
from m2v_edge.corpus.vectorfile import require_finite


class EncodeBatches:
    """A callable class for ``Dataset.map_batches(..., batch_format="pyarrow")``: text column in, vectors out."""

    def __init__(
        self,
        model: str,
        text_column: str = "text",
        vector_column: str = VECTOR_COLUMN,
        dtype: str = "float32",
        batch_size: int = 1024,
    ) -> None:
        """Load the model once per actor.

        :param model: an exported folder, readable on every node (a shared path or baked into the image).
        :param text_column: the column holding the texts.
        :param vector_column: the column to add (not the text column, nor ``scale`` with ``int8``).
        :param dtype: ``float32``, or ``int8`` (adds a float32 ``scale`` column).
        :raises ValueError: for another dtype or a vector column name that clashes.
        :param batch_size: texts per ``encode`` call.
        """
        from m2v_edge.runtime.model import StaticOnnxModel

        if dtype not in ("float32", "int8"):
            raise ValueError(f"dtype {dtype!r} is not supported; choose float32 or int8")
        added = [vector_column] + ([SCALE_COLUMN] if dtype == "int8" else [])
        if text_column in added or len(set(added)) < len(added):
            raise ValueError(
                f"vector_column={vector_column!r} clashes with {text_column!r} or {SCALE_COLUMN!r} (int8 adds it); "
                "pass another vector_column"
            )
        self.model = StaticOnnxModel.from_pretrained(model, threads=1)
        self.text_column, self.vector_column = text_column, vector_column
        self.dtype, self.batch_size = dtype, batch_size

    def __call__(self, batch: Any) -> Any:
        """Encode one ``pyarrow.Table`` batch; returns it with the vector column(s) appended.

        :raises ValueError: if the text column is missing or not strings, or a column to add already exists.
        """
        if self.text_column not in batch.column_names:
            raise ValueError(f"no column {self.text_column!r} (has {batch.column_names}); pass text_column=")
        added = [self.vector_column] + ([SCALE_COLUMN] if self.dtype == "int8" else [])
        clash = [name for name in added if name in batch.column_names]
        if clash:
            raise ValueError(
                f"the batch already has a column {clash[0]!r}, which EncodeBatches adds; rename it "
                "(Dataset.rename_columns) or pass another vector_column"
            )
        texts = batch.column(self.text_column).to_pylist()
        bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
        if bad is not None:
            raise ValueError(f"row {bad} of {self.text_column!r} is {texts[bad]!r}, expected a string")
        vectors = self.model.encode(texts, batch_size=self.batch_size).reshape(len(texts), self.model.dim)
        require_finite(vectors, "the model's vectors", "the export is corrupt: export it again")
        columns = vector_columns(vectors, self.dtype)
        batch = batch.append_column(self.vector_column, columns[VECTOR_COLUMN])
        if SCALE_COLUMN in columns:
            batch = batch.append_column(SCALE_COLUMN, columns[SCALE_COLUMN])
        return batch


def encode_dataset(
    dataset: Any,
    model: str,
    *,
    text_column: str = "text",
    dtype: str = "float32",
    concurrency: int = 2,
    num_cpus: float = 1.0,
    batch_size: int = 1024,
    rows_per_call: int = 4096,
) -> Any:
    """``dataset.map_batches`` with :class:`EncodeBatches`: ``concurrency`` actors of ``num_cpus`` each.

    The actors hold their CPUs for the whole run: leave some for Ray's read and write tasks (on one machine of
    ``n`` CPUs, ``concurrency * num_cpus < n``), or the pipeline waits forever for a CPU to read with.

    :param rows_per_call: rows Ray hands an actor per call (its memory per actor is a few of these).
    """
    return dataset.map_batches(
        EncodeBatches,
        fn_constructor_kwargs={
            "model": str(model),
            "text_column": text_column,
            "dtype": dtype,
            "batch_size": batch_size,
        },
        batch_format="pyarrow",
        batch_size=rows_per_call,
        concurrency=concurrency,
        num_cpus=num_cpus,
        zero_copy_batch=True,
    )
