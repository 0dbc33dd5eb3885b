"""Size budgets: parse ``65MB``, predict ``model.onnx`` bytes exactly, pick the pruning that fits.

``model.onnx`` is the initializers' bytes plus a small overhead (nodes, metadata, protobuf headers):

* ``table``: ``rows × dims × itemsize`` (int8 1, float16 2, float32 4);
* ``token_scale`` (int8 storage or model2vec weights), ``row_map`` (mapping or pruned vocabulary) and
  ``token_keep`` (pruned vocabulary): 4 bytes per token id each;
* the overhead is measured by serializing the same graph with one-row arrays, plus a margin for the
  longer length fields of the real arrays. The written file is checked against the budget afterwards.

Policy for ``max_size`` (chosen from the measured quality cost, see ``docs/edge.md``: on potion-base-8M
cutting columns costs less STS-B than cutting tokens of the same bytes, down to about a quarter of the dims):

1. keep every token and the most leading columns that fit, down to ``dims_floor`` (a quarter of the
   dims, at least ``MIN_DIMS``);
2. if that is still too big: ``dims_floor`` columns and the most tokens that fit (ranked as in
   :mod:`m2v_edge.export.prune`), down to ``MIN_VOCAB_SHARE`` of the vocabulary;
3. else a ``ValueError`` naming the smallest size reachable (``dims_floor`` × ``MIN_VOCAB_SHARE``).

An explicit ``vocab_size`` or ``dims`` fixes that side and the search moves only the other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.contract import DType
from m2v_edge.export.prune import PruningPlan, check_request, count_tokens, make_plan, table_rows, token_priority
from m2v_edge.runtime.tokenize import TextTokenizer
from m2v_edge.sizes import format_size
from m2v_edge.source.folder import SourceModel

MIN_VOCAB_SHARE = 0.25
MIN_DIMS = 32
_MARGIN_BYTES = 64  # longer length fields of 4 big arrays (the metadata probe already over-counts)
_ITEMSIZE = {DType.INT8: 1, DType.FLOAT16: 2, DType.FLOAT32: 4}
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "ki": 2**10, "mi": 2**20, "gi": 2**30}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(|b|k|m|g|ki|mi|gi)b?\s*$", re.IGNORECASE)


def parse_size(value: str | int) -> int:
    """Bytes from ``65MB``, ``65M``, ``500KB``, ``1.5GB``, ``64MiB`` or a plain byte count (KB/MB/GB are 1000-based).

    :raises ValueError: for anything else, with examples.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        match = _SIZE.match(str(value))
        if match is None:
            raise ValueError(f"size {value!r} is not understood; write it like 65MB, 65M, 500KB, 1.5GB or 1000000")
        size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if size <= 0:
        raise ValueError(f"size {value!r} must be positive")
    return size


def graph_overhead(config: dict[str, Any], normalize: bool, dtype: DType) -> int:
    """Bytes of ``model.onnx`` besides the initializers' data, measured on a one-row graph of the same shape.

    Measured with every optional array present and a ``pruning`` entry in the metadata, so it bounds
    every variant from above; the margin covers the longer length fields of big arrays.
    """
    from m2v_edge.export.graph import build_graph
    from m2v_edge.export.quantize import StoredTable

    np_dtype = {DType.INT8: np.int8, DType.FLOAT16: np.float16, DType.FLOAT32: np.float32}[dtype]
    table = StoredTable(np.zeros((1, 1), dtype=np_dtype), None)
    big = 10**9
    pruning = {"vocab_kept": big, "vocab_total": big, "dims_kept": big, "dims_total": big, "by": "corpus"}
    probe = dict(config, pruning=pruning)
    one = np.zeros(1, dtype=np.float32)
    # --isotropy (reserved in the config) may add a [dim] shift to the graph (on a model with weights)
    shift = config.get("isotropy", {}).get("where") == "graph"
    bias = np.zeros(int(config["dim"]), dtype=np.float32) if shift else None
    sizes = []
    for keep in (one, None):  # pruned graphs drop the unknown token through token_keep, others by comparison
        model = build_graph(
            table, normalize=normalize, config=probe, token_scale=one, row_map=np.zeros(1, np.int32), token_keep=keep,
            unk_token_id=0, bias=bias,
        )  # fmt: skip
        sizes.append(len(model.SerializeToString()) - table.values.nbytes - (3 if keep is not None else 2) * 4)
    return max(sizes) + _MARGIN_BYTES


def model_bytes(rows: int, dims: int, vocab: int, dtype: DType, vocab_arrays: int, overhead: int) -> int:
    """Predicted size of ``model.onnx``: table + ``vocab_arrays`` float32/int32 arrays per token + overhead."""
    return rows * dims * _ITEMSIZE[dtype] + vocab_arrays * vocab * 4 + overhead


def dims_floor(dims_total: int) -> int:
    """Fewest columns the budget search keeps on its own: a quarter of the dims, at least ``MIN_DIMS``."""
    return min(dims_total, max(MIN_DIMS, dims_total // 4))


def _largest(low: int, high: int, fits: Callable[[int], bool]) -> int | None:
    """The largest ``n`` in ``[low, high]`` with ``fits(n)`` (``fits`` true up to some point), else ``None``."""
    if high < low or not fits(low):
        return None
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if fits(mid) else (low, mid - 1)
    return low


def fit_budget(
    max_size: int,
    *,
    priority: np.ndarray,
    dims_total: int,
    dtype: DType,
    by: str,
    base_arrays: int,
    has_mapping: bool,
    overhead: int,
    rows_for: Callable[[np.ndarray], int],
    vocab_size: int | None = None,
    dims: int | None = None,
) -> PruningPlan:
    """The model the module's policy picks for ``max_size`` bytes of ``model.onnx``.

    :param max_size: the budget in bytes.
    :param priority: all token ids, the one to keep first at the front.
    :param base_arrays: per-token arrays the unpruned graph already has (``token_scale``, ``row_map``).
    :param has_mapping: the source has a model2vec mapping (``row_map`` exists even unpruned).
    :param rows_for: table rows needed to keep the given ids.
    :param vocab_size: fixes the number of tokens (explicit ``--vocab-size``).
    :param dims: fixes the number of columns (explicit ``--dims``).
    :raises ValueError: if nothing fits, naming the smallest size reachable.
    """
    vocab = int(priority.shape[0])
    pruned_arrays = base_arrays + 1 + (0 if has_mapping else 1)  # + token_keep (+ row_map)
    tokens = vocab if vocab_size is None else vocab_size
    fewest_tokens = max(1, math.ceil(vocab * MIN_VOCAB_SHARE)) if vocab_size is None else vocab_size
    fewest_dims = dims_floor(dims_total) if dims is None else dims

    def size(n: int, k: int) -> int:
        rows = vocab if n == vocab and not has_mapping else rows_for(priority[:n])
        arrays = base_arrays if n == vocab else pruned_arrays
        return model_bytes(rows, k, vocab, dtype, arrays, overhead)

    k = _largest(fewest_dims, dims or dims_total, lambda k: size(tokens, k) <= max_size)
    if k is not None:
        return make_plan(priority, tokens, k, dims_total, by)
    # Pruned sizes grow with n (the unpruned one can be smaller: it needs no row_map/token_keep).
    n = _largest(fewest_tokens, tokens - 1, lambda n: size(n, fewest_dims) <= max_size)
    if n is not None:
        return make_plan(priority, n, fewest_dims, dims_total, by)
    floors = [
        f"--vocab-size {fewest_tokens:,}" if vocab_size is not None else f"{MIN_VOCAB_SHARE:.0%} of the tokens",
        f"--dims {fewest_dims}" if dims is not None else f"{fewest_dims} of {dims_total} dims",
    ]
    smallest = size(fewest_tokens, fewest_dims)
    raise ValueError(
        f"--max-size {format_size(max_size)} is too small: the smallest model reachable is {format_size(smallest)} "
        f"({dtype.value}, keeping {' and '.join(floors)}); raise --max-size or lower --vocab-size/--dims explicitly"
    )


def plan_pruning(
    source: SourceModel,
    tokenizer: TextTokenizer,
    dtype: DType,
    config: dict[str, Any],
    *,
    vocab_size: int | None = None,
    vocab_corpus: str | Path | None = None,
    dims: int | None = None,
    max_size: int | None = None,
    show_progress_bar: bool = False,
) -> PruningPlan | None:
    """Turn ``--vocab-size``, ``--vocab-corpus``, ``--dims`` and ``--max-size`` into a plan.

    :param config: the unpruned export config (its metadata is part of the measured overhead).
    :return: the plan, or ``None`` when nothing needs to be cut.
    :raises ValueError, FileNotFoundError: for out-of-range requests, a bad corpus or an unreachable budget.
    """
    vocab, dims_total = tokenizer.vocab_size, source.dim
    check_request(vocab_size, dims, vocab, dims_total)
    if vocab_corpus is not None and vocab_size is None and max_size is None:
        raise ValueError("--vocab-corpus only ranks the tokens; give --vocab-size or --max-size with it")
    if vocab_size is None and dims is None and max_size is None:
        return None
    counts = None if vocab_corpus is None else count_tokens(tokenizer, vocab_corpus, show_progress_bar)
    priority = token_priority(tokenizer, counts)
    by = "rank" if counts is None else "corpus"
    if max_size is None:
        plan = make_plan(priority, vocab_size or vocab, dims or dims_total, dims_total, by)
    else:
        has_scale = dtype is DType.INT8 or source.weights is not None
        plan = fit_budget(
            max_size,
            priority=priority,
            dims_total=dims_total,
            dtype=dtype,
            by=by,
            base_arrays=int(has_scale) + int(source.mapping is not None),
            has_mapping=source.mapping is not None,
            overhead=graph_overhead(config, source.normalize, dtype),
            rows_for=lambda ids: table_rows(source, ids),
            vocab_size=vocab_size,
            dims=dims,
        )
    return plan if plan.prunes_vocab or plan.dims_kept < dims_total else None
