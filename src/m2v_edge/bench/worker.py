"""One benchmark process at a fixed thread count: interleaved repeats, medians of texts per second.

Run by :mod:`m2v_edge.bench.runner` as ``python -m m2v_edge.bench.worker SPEC_JSON`` with the thread
environment (``RAYON_NUM_THREADS`` for tokenizers, BLAS variables) already set; prints one JSON object.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

EncodeFn = Callable[[list[str], int], object]
ENCODERS = ("tokenizer", "model2vec", "int8", "float32")
FAST = "int8_fast"  # ours int8 with the onnxruntime-extensions tokenizer, when installed and exact


def make_encoders(spec: dict[str, Any]) -> dict[str, EncodeFn]:
    """The contenders, loaded once: tokenizer-only, model2vec, our int8 and float32 exports.

    Ours run on ``tokenizers``; with ``spec["fast"]``, ``int8_fast`` adds the int8 export on the fast
    tokenizer when it is installed and exact for the model.

    :raises RuntimeError: if model2vec (the ``bench`` extra) is not installed.
    """
    from tokenizers import Tokenizer

    from m2v_edge.contract import ExportFiles, read_config
    from m2v_edge.runtime.model import StaticOnnxModel

    try:
        from model2vec import StaticModel
    except ImportError:
        raise RuntimeError(
            "model2vec is not installed; install the bench extra: pip install 'm2v-edge[bench]'"
        ) from None
    # Ours runs with the runtime's default (one onnxruntime thread): the T threads go to tokenizers' pool,
    # which tokenizes the next batch while the graph runs, as they go to tokenizers' pool for model2vec.
    int8 = StaticOnnxModel.from_pretrained(spec["int8"], fast_tokenizer=False)
    fp32 = StaticOnnxModel.from_pretrained(spec["float32"], fast_tokenizer=False) if spec.get("float32") else None
    fast = None
    if spec.get("fast"):
        try:
            fast = StaticOnnxModel.from_pretrained(spec["int8"], fast_tokenizer=True)
        except ValueError as err:
            print(f"threads={spec['threads']}: no fast contender: {err}", file=sys.stderr, flush=True)
    reference = StaticModel.from_pretrained(spec["source"])
    files = ExportFiles(Path(spec["int8"]))
    tokenizer = Tokenizer.from_file(str(files.tokenizer))
    max_length = read_config(files.config)["max_length"]
    if max_length is not None:
        tokenizer.enable_truncation(int(max_length))

    def tokenize(texts: list[str], batch_size: int) -> object:
        return tokenizer.encode_batch_fast(texts, add_special_tokens=False)

    encoders: dict[str, EncodeFn] = {
        "tokenizer": tokenize,
        "model2vec": lambda texts, batch_size: reference.encode(texts, batch_size=batch_size),
        "int8": lambda texts, batch_size: int8.encode(texts, batch_size=batch_size),
    }
    if fp32 is not None:
        encoders["float32"] = lambda texts, batch_size: fp32.encode(texts, batch_size=batch_size)
    if fast is not None:
        encoders[FAST] = lambda texts, batch_size: fast.encode(texts, batch_size=batch_size)
    return encoders


def _one_pass(fn: EncodeFn, slices: list[list[str]], batch_size: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for texts in slices:
        fn(texts, batch_size)
    return time.perf_counter() - start


def measure(
    encoders: dict[str, EncodeFn], texts: list[str], batch_size: int, repeats: int
) -> dict[str, dict[str, float | list[float]]]:
    """Time every encoder on ``texts``, called ``batch_size`` texts at a time, in interleaved repeats.

    Each repeat runs all encoders once, in an order rotated by one each repeat, so slow phases of a
    shared machine hit all of them alike.

    :return: per encoder: ``texts_per_s`` (median), ``us_per_call`` (median), ``samples`` (texts/s).
    """
    slices = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    names = list(encoders)
    for name in names:  # warm-up: first calls allocate and fill caches
        _one_pass(encoders[name], slices[:3], batch_size)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            seconds[name].append(_one_pass(encoders[name], slices, batch_size))
    out: dict[str, dict[str, float | list[float]]] = {}
    for name, times in seconds.items():
        median = statistics.median(times)
        out[name] = {
            "texts_per_s": len(texts) / median,
            "us_per_call": median / len(slices) * 1e6,
            "samples": [round(len(texts) / t, 1) for t in times],
        }
    return out


def blas_info() -> list[dict[str, Any]]:
    """BLAS libraries numpy loaded, as threadpoolctl sees them (empty if threadpoolctl is missing)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: info.get(k) for k in keep} for info in threadpool_info() if info.get("user_api") == "blas"]


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure every (text kind, batch size) cell; returns a JSON-able result."""
    from m2v_edge.bench.data import bench_texts

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    limiter = threadpool_limits(limits=int(spec["threads"])) if threadpool_limits else None
    encoders = make_encoders(spec)
    texts = bench_texts(spec.get("limit"))
    cells = []
    for kind, items in texts.items():
        for batch_size in spec["batch_sizes"]:
            used = items[: spec["latency_texts"]] if batch_size == 1 else items
            result = measure(encoders, used, batch_size, int(spec["repeats"]))
            cells.append({"texts": kind, "batch_size": batch_size, "n_texts": len(used), "results": result})
            print(f"threads={spec['threads']} {kind} batch={batch_size} done", file=sys.stderr, flush=True)
    info = blas_info()
    if limiter is not None:
        limiter.restore_original_limits()
    return {"threads": spec["threads"], "busy_core": bool(spec.get("busy_core")), "cells": cells, "blas": info}


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
