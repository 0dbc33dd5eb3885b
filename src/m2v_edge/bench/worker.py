"""One benchmark process at a fixed thread count: every timed repeat on a fresh slice of texts, medians.

Run by :mod:`m2v_edge.bench.runner` as ``python -m m2v_edge.bench.worker SPEC_JSON`` with the thread
environment (``RAYON_NUM_THREADS`` for tokenizers, BLAS variables) already set; prints one JSON object.

Every contender encodes the same slice in a repeat (each has its own tokenizer and caches, so the slice is new
to each), and each repeat takes a slice no call of this process has seen: word caches (tokenizers' BPE cache,
ours) start cold for it. The ``warm`` rows time the warm-up slice again, seen before: labelled apart.
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

import numpy as np

EncodeFn = Callable[[list[str], int], object]
ENCODERS = ("tokenizer", "tokenizer_laghu_rs", "model2vec", "laghu", "laghu_rs", "fastembed", "int8", "float32")
FAST = "int8_fast"  # ours int8 with the onnxruntime-extensions tokenizer, when installed and exact
VECTORS = ("model2vec", "laghu", "laghu_rs", "fastembed", "int8", "float32", FAST)  # contenders that give vectors


def make_encoders(spec: dict[str, Any]) -> tuple[dict[str, EncodeFn], dict[str, str]]:
    """The contenders, loaded once, and the reasons of those that cannot run here.

    tokenizers alone, laghu-rs's WordPiece alone, model2vec, laghu (without and with laghu-rs), fastembed on our
    int8 export, our int8 and float32 exports on ``tokenizers`` and, with ``spec["fast"]``, ``int8_fast``.

    :raises RuntimeError: if model2vec (the ``bench`` extra) is not installed.
    """
    from tokenizers import Tokenizer

    from m2v_edge.bench import peers
    from m2v_edge.contract import ExportFiles, read_config
    from m2v_edge.runtime.model import StaticOnnxModel

    try:
        from model2vec import StaticModel
    except ImportError:
        raise RuntimeError(
            "model2vec is not installed; install the bench extra: pip install 'm2v-edge[bench]'"
        ) from None
    threads = int(spec["threads"])
    skipped: dict[str, str] = {}
    # Ours runs with the runtime's default (one onnxruntime thread): the T threads go to tokenizers' pool,
    # which tokenizes the next batch while the graph runs, as they go to tokenizers' pool for model2vec.
    int8 = StaticOnnxModel.from_pretrained(spec["int8"], fast_tokenizer=False)
    fp32 = StaticOnnxModel.from_pretrained(spec["float32"], fast_tokenizer=False) if spec.get("float32") else None
    fast = None
    if spec.get("fast"):
        try:
            fast = StaticOnnxModel.from_pretrained(spec["int8"], fast_tokenizer=True)
        except ValueError as err:
            skipped[FAST] = str(err)
    reference = StaticModel.from_pretrained(spec["source"])
    files = ExportFiles(Path(spec["int8"]))
    tokenizer = Tokenizer.from_file(str(files.tokenizer))
    max_length = read_config(files.config)["max_length"]
    if max_length is not None:
        tokenizer.enable_truncation(int(max_length))

    encoders: dict[str, EncodeFn] = {
        "tokenizer": lambda texts, batch_size: tokenizer.encode_batch_fast(texts, add_special_tokens=False),
        "model2vec": lambda texts, batch_size: reference.encode(texts, batch_size=batch_size),
    }
    lean, lean_rs = (peers.load_laghu(Path(spec["source"]), rust, threads) for rust in (False, True))
    for name, model in (("laghu", lean), ("laghu_rs", lean_rs)):
        if isinstance(model, str):
            skipped[name] = model
        else:
            encoders[name] = _encoder(model)
    if isinstance(lean_rs, str):
        skipped["tokenizer_laghu_rs"] = lean_rs
    else:
        encoders["tokenizer_laghu_rs"] = lambda texts, batch_size: lean_rs.tokenizer.rs_batch(texts)
    embed = peers.fastembed(files.root, int8.dim, files.model_name, threads)
    if isinstance(embed, str):
        skipped["fastembed"] = embed
    else:
        encoders["fastembed"] = embed
    encoders["int8"] = lambda texts, batch_size: int8.encode(texts, batch_size=batch_size)
    if fp32 is not None:
        encoders["float32"] = lambda texts, batch_size: fp32.encode(texts, batch_size=batch_size)
    if fast is not None:
        encoders[FAST] = lambda texts, batch_size: fast.encode(texts, batch_size=batch_size)
    return encoders, skipped


def _encoder(model: Any) -> EncodeFn:
    """``model.encode`` as an :data:`EncodeFn` (a model2vec-style ``encode(texts, batch_size=...)``)."""
    return lambda texts, batch_size: model.encode(texts, batch_size=batch_size)


def _one_pass(fn: EncodeFn, texts: list[str], batch_size: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for i in range(0, len(texts), batch_size):
        fn(texts[i : i + batch_size], batch_size)
    return time.perf_counter() - start


def measure(encoders: dict[str, EncodeFn], slices: list[list[str]], batch_size: int) -> dict[str, dict[str, Any]]:
    """Time every encoder, ``batch_size`` texts per call: ``slices[0]`` warms up, each later slice is one repeat.

    Each repeat runs all encoders once on the same slice, in an order rotated by one each repeat, so slow phases
    of a shared machine hit all of them alike. Pass the same slice several times to time warm caches.

    :return: per encoder: ``texts_per_s`` (median), ``us_per_call`` (median), ``samples`` (texts/s).
    """
    names = list(encoders)
    for name in names:  # warm-up: first calls allocate, fill caches (of the warm-up slice only) and load pages
        _one_pass(encoders[name], slices[0], batch_size)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for r, texts in enumerate(slices[1:]):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            seconds[name].append(_one_pass(encoders[name], texts, batch_size) / len(texts))
    out: dict[str, dict[str, Any]] = {}
    calls = -(-len(slices[-1]) // batch_size)
    for name, per_text in seconds.items():
        median = statistics.median(per_text)
        out[name] = {
            "texts_per_s": 1 / median,
            "us_per_call": median * len(slices[-1]) / calls * 1e6,
            "samples": [round(1 / t, 1) for t in per_text],
        }
    return out


def agreement(encoders: dict[str, EncodeFn], texts: list[str]) -> dict[str, float]:
    """Largest absolute difference from model2vec's vectors on ``texts``, per contender that gives vectors."""
    vectors = {n: np.asarray(encoders[n](texts, 1024), dtype=np.float64) for n in VECTORS if n in encoders}
    reference = vectors.pop("model2vec")
    return {name: float(np.abs(v - reference).max()) for name, v in vectors.items()}


def blas_info() -> list[dict[str, Any]]:
    """BLAS libraries numpy loaded, as threadpoolctl sees them (empty if threadpoolctl is missing)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: info.get(k) for k in keep} for info in threadpool_info() if info.get("user_api") == "blas"]


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure every (text kind, batch size) cell on fresh slices, then the warm rows; returns a JSON-able result.

    ``spec["kinds"]`` picks the text kinds (default both); the runner gives each kind its own process.
    """
    from m2v_edge.bench.data import FreshSlices, slice_sizes, unseen_pools

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    limiter = threadpool_limits(limits=int(spec["threads"])) if threadpool_limits else None
    encoders, skipped = make_encoders(spec)
    repeats, batches = int(spec["repeats"]), list(spec["batch_sizes"])
    cells, agree = [], {}
    pools = unseen_pools(spec.get("limit"))
    for kind in spec.get("kinds") or list(pools):
        pool = pools[kind]
        fresh = FreshSlices(pool)
        sizes = slice_sizes(len(pool), batches, repeats, int(spec["latency_texts"]))
        for batch_size in batches:
            slices = [fresh.take(sizes[batch_size]) for _ in range(repeats + 1)]
            result = measure(encoders, slices, batch_size)
            cells.append({"texts": kind, "batch_size": batch_size, "n_texts": sizes[batch_size], "results": result})
            if batch_size == max(batches):
                agree[kind] = agreement(encoders, slices[0])
                warm = measure(encoders, [slices[0]] * (repeats + 1), batch_size)
                cells.append({**cells[-1], "results": warm, "warm": True})
            print(f"threads={spec['threads']} {kind} batch={batch_size} done", file=sys.stderr, flush=True)
    info = blas_info()
    if limiter is not None:
        limiter.restore_original_limits()
    return {
        "threads": spec["threads"],
        "busy_core": bool(spec.get("busy_core")),
        "cells": cells,
        "blas": info,
        "skipped": skipped,
        "max_abs_diff_vs_model2vec": agree,
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
