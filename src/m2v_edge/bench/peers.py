"""The other engines ``m2v-edge bench`` times beside ours: laghu (with and without laghu-rs) and fastembed.

Each loader returns an encode function ``(texts, batch_size) -> vectors`` or, when the peer cannot run here, the
reason as a string, which the report prints instead of a number. None of them downloads anything.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

EncodeFn = Callable[[list[str], int], object]


def load_laghu(source: Path, rust: bool, threads: int) -> Any | str:
    """Load laghu's ``LeanModel`` on the Model2Vec ``source`` folder; ``rust`` lets it use laghu-rs.

    laghu reads ``LAGHU_RUST`` when it loads; laghu-rs runs on ``os.cpu_count()`` threads unless told, so it is
    told ``threads`` (the worker's count), as tokenizers' pool is.
    """
    try:
        import laghu as lib
    except ImportError:
        return "laghu is not installed (pip install 'm2v-edge[bench]')"
    before = os.environ.get("LAGHU_RUST")
    os.environ["LAGHU_RUST"] = "1" if rust else "0"
    try:
        model: Any = lib.load(str(source), fallback=False)
    finally:
        if before is None:
            os.environ.pop("LAGHU_RUST", None)
        else:
            os.environ["LAGHU_RUST"] = before
    tokenizer = getattr(model, "tokenizer", None)
    if rust and getattr(tokenizer, "rs", None) is None:
        return "laghu-rs does not tokenize this model (not a BERT WordPiece pipeline, or laghu-rs missing)"
    if tokenizer is not None and hasattr(tokenizer, "threads"):
        tokenizer.threads = threads
    return model


def fastembed(export: Path, dim: int, onnx_file: str, threads: int) -> EncodeFn | str:
    """Encode with fastembed's ``TextEmbedding`` on our export as a custom ONNX model (pooling off: the graph pools).

    Loaded from the folder with ``specific_model_path`` and ``HF_HUB_OFFLINE=1``, so it cannot download.
    fastembed keeps unknown-token ids in the attention mask and does not cut texts to model2vec's length, so
    its vectors can differ from ours on such texts; the bench reports the difference.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        from fastembed import TextEmbedding
        from fastembed.common.model_description import ModelSource, PoolingType
    except ImportError:
        return "fastembed is not installed (pip install fastembed)"
    name = f"m2v-edge/{export.name}"
    try:
        TextEmbedding.add_custom_model(
            model=name,
            pooling=PoolingType.DISABLED,
            normalization=False,
            sources=ModelSource(hf=name),
            dim=dim,
            model_file=onnx_file,
        )
    except ValueError:
        pass  # registered already in this process
    try:
        model = TextEmbedding(model_name=name, specific_model_path=str(export), threads=threads, lazy_load=False)
    except Exception as err:  # fastembed raises assorted errors; the reason goes in the report
        return f"fastembed cannot load the export offline: {type(err).__name__}: {str(err).splitlines()[0]}"
    return lambda texts, batch_size: np.asarray(list(model.embed(texts, batch_size=batch_size)))
