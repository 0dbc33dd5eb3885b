"""Tokenized texts into padded graph batches, each text always at the same width: one text, one vector.

A text's vector must be a pure function of the text and the export. The graph's pooling is a MatMul whose
summation order onnxruntime's kernels choose by the call's sequence width: measured on x86-64 (MLAS, 1 and 2
threads), a text of ``n`` tokens with ``n % 4 == 3`` gives other bits unpadded than padded (up to one ulp in
~60 of 256 columns), while its row never depends on the batch's other rows or on how many rows a call has.
So every text is padded to :func:`padded_width` of its own token count, whatever batch, order, thread or
entry point runs it, and only texts of the same width share a graph call. The widths grow in steps of at
most 1/8 (4 tokens up to 64), so padding costs about what the earlier "at most 25 % longer" groups did.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from m2v_edge.contract import PAD_MIN_STEP, PAD_STEP_BITS

Batch = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(positions, input_ids, attention_mask)``: rows of the graph's inputs and where each belongs in the texts."""


def padded_width(count: int) -> int:
    """The sequence width a text of ``count`` tokens is always run at: ``count`` rounded up to its step.

    The step is 4 up to 64 tokens, then the power of two that keeps it within 1/8 of ``count`` (8 up to 128,
    16 up to 256, ...). An empty text gets width 4 (its row is all padding and gives the zero vector).
    The JavaScript runtime uses the same rule and constants (``paddedWidth`` in ``web/src/model.js``).
    """
    count = max(int(count), 1)
    step = max(PAD_MIN_STEP, 1 << max(0, (count - 1).bit_length() - PAD_STEP_BITS))
    return -(-count // step) * step


# Most float32 cells (rows x width x dim) of one graph call: the graph gathers and casts every row it sums into a
# [rows, width, dim] float32 tensor, so 1024 passages of 128 tokens at 1024 dims would need 537 MB at once.
# Measured: Qwen-sized 1024-d, 1,024 passages, peak RSS 390 -> 353 MB; speed unchanged within noise (interleaved,
# 20 fresh slices each: 0.94-1.03x on potion and the Qwen family). A row never depends on its call's other rows
# (see above), so the vectors do not change.
MAX_CALL_CELLS = 1 << 23


def cut(
    flat: np.ndarray,
    counts: np.ndarray,
    batch_size: int,
    pad_id: int,
    unk_id: int | None,
    *,
    dim: int = 1,
) -> Iterator[Batch]:
    """Cut tokenized texts into batches of at most ``batch_size`` rows of one :func:`padded_width` each.

    :param flat: all texts' ids, text 0's first (int64); ``counts`` the number of ids per text.
    :param dim: the graph's vector width: a call holds at most :data:`MAX_CALL_CELLS` ``rows x width x dim``
        (never fewer than one row).
    :return: ``(positions, ids, mask)`` with ``positions`` indexing ``counts``; shortest texts first. Unknown
        ids get ``attention_mask`` 0; padding holds ``pad_id`` with mask 0.
    """
    if not len(counts):
        return
    order = np.argsort(counts, kind="stable")
    sorted_counts = counts[order]
    begins = np.cumsum(counts) - counts
    source = np.append(flat, pad_id)  # index len(flat) reads the pad id
    has_unk = unk_id is not None and bool((flat == unk_id).any())
    lengths = np.unique(sorted_counts)
    widths = np.array([padded_width(n) for n in lengths.tolist()], dtype=np.int64)
    text_widths = widths[np.searchsorted(lengths, sorted_counts)]
    edges = np.flatnonzero(np.diff(text_widths)) + 1  # where the width changes
    for group_start, group_stop in zip(np.r_[0, edges], np.r_[edges, len(order)], strict=True):
        width = int(text_widths[group_start])
        columns = np.arange(width)
        step = max(1, min(batch_size, MAX_CALL_CELLS // (width * dim)))
        for start in range(int(group_start), int(group_stop), step):
            rows = order[start : min(start + step, int(group_stop))]
            filled = columns < counts[rows][:, None]
            ids = source[np.where(filled, begins[rows][:, None] + columns, len(flat))]
            mask = filled.astype(np.int64)
            if has_unk:
                mask[ids == unk_id] = 0
            yield rows, ids, mask


def one(ids: list[int], pad_id: int, unk_id: int | None) -> tuple[np.ndarray, np.ndarray]:
    """``(input_ids, attention_mask)`` ``[1, padded_width]`` for one text's id list (a server's typical call)."""
    width = padded_width(len(ids))
    padding = width - len(ids)
    if unk_id is not None and unk_id in ids:
        mask = [int(i != unk_id) for i in ids] + [0] * padding
    else:
        mask = [1] * len(ids) + [0] * padding
    return np.array([ids + [pad_id] * padding], dtype=np.int64), np.array([mask], dtype=np.int64)
