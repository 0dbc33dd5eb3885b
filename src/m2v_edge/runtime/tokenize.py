"""Tokenization identical to model2vec 0.10 ``StaticModel.encode``, batched for the ONNX graph.

The rules (shared with the JavaScript runtime, see ``docs/format.md``):

1. cut each text to ``max_length * median_token_length`` Unicode code points;
2. ``encode_batch(add_special_tokens=False)`` with truncation to ``max_length`` tokens;
3. drop the unknown-token id (here: mask it out, which is the same for a mean);
4. pad with ``pad_token_id`` and an ``attention_mask`` of 0.
"""

from __future__ import annotations

import enum
import json
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from typing import Any, Literal

import numpy as np

from m2v_edge.runtime.cores import spare_cores
from m2v_edge.runtime.fast import interleave


class _Default(enum.Enum):
    MODEL_DEFAULT = "the model's max_length"


MODEL_DEFAULT = _Default.MODEL_DEFAULT
"""``max_length`` value meaning "the model's own limit" (``None`` keeps meaning "no limit", as in model2vec)."""
MaxLength = int | None | Literal[_Default.MODEL_DEFAULT]
Batch = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(positions, input_ids, attention_mask)``: rows of the graph's inputs and where each belongs in the texts."""
# Texts tokenized per ``encode_batch_fast`` call, in graph batches: sorting each such chunk by token count leaves
# almost no padding, and the next chunk can be tokenized while the graph runs on this one. 16 (2,048 texts at
# 128 rows): on a quiet 2-core VM, STS-B sentences at batch 1024 and 2 threads went from 0.96x to 1.15-1.27x
# model2vec against 4 (larger tokenizers calls spread better over its thread pool); memory stays a few MB.
CHUNK_BATCHES = 16
# With a free core, an input of more than one batch is tokenized in at least this many equal parts, so the
# graph calls of one part overlap the tokenization of the next (one part leaves nothing to overlap). Paired
# repeats (2 cores, 61 per cell, graph shared): 279 STS-B passages at batch 1024 ran 1.05x model2vec in one
# part, 1.08x in 3 and 1.09x in 5, within the spread (0.89-1.12); sentences 1.07-1.09x either way.
MIN_PARTS = 3
# Fewest texts in one call that make a deferred fast tokenizer worth building (see ``use_fast``).
FAST_MIN_TEXTS = 4096
# Fewest rows per graph call when batches are cut by length (a call costs ~20 us besides its rows).
MIN_ROWS = 16


def unk_token_id(tokenizer: Any) -> int | None:
    """The unknown token's id, found as model2vec finds it (``None`` when the model has none)."""
    model = tokenizer.model
    if hasattr(model, "unk_token"):
        token = model.unk_token
        return None if token is None else tokenizer.token_to_id(token)
    unk = json.loads(tokenizer.to_str())["model"].get("unk_id")
    return None if unk is None else int(unk)


def median_token_length(tokenizer: Any) -> int:
    """Median length in characters of the vocabulary's tokens, as model2vec computes it."""
    return int(np.median([len(token) for token in tokenizer.get_vocab()]))


def pad_token_id(tokenizer: Any) -> int:
    """The id used for padding positions (masked out, so any valid id would do)."""
    padding = tokenizer.padding
    return int(padding["pad_id"]) if padding else 0


def check_texts(texts: object) -> tuple[list[str], bool]:
    """Validate ``encode`` input: a string or any iterable of strings (list, tuple, generator, numpy array of str).

    :return: the texts as a list and whether a single string was given.
    :raises ValueError: naming the first item that is not a string or holds a lone surrogate.
    """
    if isinstance(texts, str):
        check_unicode(texts, "text")
        return [texts], True
    if isinstance(texts, (bytes, bytearray, memoryview)) or not isinstance(texts, Iterable):
        raise ValueError(f"texts must be a string or an iterable of strings, got {type(texts).__name__}")
    if getattr(texts, "ndim", 1) == 0:  # a 0-d numpy array is not iterable
        raise ValueError("texts must be a string or an iterable of strings, got a 0-d array")
    items = texts if isinstance(texts, list) else list(texts)
    for index, text in enumerate(items):
        if not isinstance(text, str):
            raise ValueError(f"texts[{index}] is {type(text).__name__}, expected str; convert it first")
        check_unicode(text, f"texts[{index}]")
    return items, False


def check_unicode(text: str, name: str) -> None:
    """Refuse a string with a lone surrogate (e.g. undecodable bytes from ``surrogateescape``): not valid Unicode.

    :raises ValueError: naming ``name``, the code point and its position.
    """
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(
            f"{name} holds a lone surrogate U+{ord(text[err.start]):04X} at position {err.start}, not valid Unicode "
            "(undecodable bytes?); decode input as UTF-8 with errors='replace'"
        ) from None


class TextTokenizer:
    """A ``tokenizers.Tokenizer`` with model2vec's pre-cut, truncation and unknown-token rules.

    Thread safety: an instance may be shared by threads. Every setting is fixed at construction and each
    call gets its ``max_length`` as an argument; the HF tokenizer is never reconfigured after ``__init__``
    (truncation is applied to the ids here, not through ``enable_truncation``), so concurrent calls with
    different limits cannot see each other's settings. The helper thread (prefetch) is created lazily under a
    lock and shut down by :meth:`close`, by ``with TextTokenizer(...)``, or when the instance is collected.
    Calls made after :meth:`close` tokenize in the calling thread.
    """

    def __init__(
        self,
        tokenizer_json: str,
        *,
        max_length: int | None,
        median_token_length: int,
        unk_token_id: int | None,
        pad_token_id: int = 0,
    ) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()  # never changed again: truncation is per call, on the ids
        self.max_length = max_length
        self.median_token_length = median_token_length
        self.unk_token_id = unk_token_id
        self.pad_token_id = pad_token_id
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._closed = False
        self._finalizer: weakref.finalize | None = None
        self.fast: Any = None  # a runtime.fast tokenizer, set by use_fast() when it is exact for this model
        self.fast_reason = "not requested"
        self._fast_pending: str | None = None

    def use_fast(self, tokenizer_json: str, required: bool = False, lazy: bool = False) -> bool:
        """Tokenize with onnxruntime-extensions when it gives the same ids (see :mod:`m2v_edge.runtime.fast`).

        :param required: raise ``ValueError`` (with the reason) instead of logging it and staying on tokenizers.
        :param lazy: build and check the op only when a call first brings ``FAST_MIN_TEXTS`` texts (building
            takes about 2 s for a 150k vocabulary: worth it for a corpus, not for a query or a short script).
        :return: whether the fast path is on (``False`` while deferred); ``fast_reason`` says why (not).
        """
        from m2v_edge.runtime import fast

        if not required and not fast.is_candidate(self.tokenizer):
            self.fast_reason = "not a BPE or WordPiece tokenizer, or onnxruntime-extensions not installed"
            return False
        if lazy and not required:
            self._fast_pending = tokenizer_json
            self.fast_reason = f"deferred until a call brings {FAST_MIN_TEXTS} texts"
            return False
        self.fast, self.fast_reason = fast.load_fast(tokenizer_json, self, required)
        return self.fast is not None

    def _maybe_build_fast(self, count: int) -> None:
        if self._fast_pending is None or count < FAST_MIN_TEXTS:
            return
        with self._pool_lock:  # one build, even when threads arrive together
            pending, self._fast_pending = self._fast_pending, None
            if pending is not None:
                self.use_fast(pending)

    @classmethod
    def from_tokenizer_json(cls, tokenizer_json: str, max_length: int | None) -> TextTokenizer:
        """Derive the rules (median token length, unknown and pad ids) from the tokenizer itself."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(tokenizer_json)
        return cls(
            tokenizer_json,
            max_length=max_length,
            median_token_length=median_token_length(tokenizer),
            unk_token_id=unk_token_id(tokenizer),
            pad_token_id=pad_token_id(tokenizer),
        )

    def __enter__(self) -> TextTokenizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Shut the helper thread down (waits for a running batch). Later calls still work, unthreaded."""
        with self._pool_lock:
            self._closed = True
            pool, self._pool = self._pool, None
            if self._finalizer is not None:
                self._finalizer.detach()
        if pool is not None:
            pool.shutdown(wait=True)

    @property
    def vocab_size(self) -> int:
        """Number of token ids, added tokens included."""
        return int(self.tokenizer.get_vocab_size(with_added_tokens=True))

    def resolve(self, max_length: MaxLength) -> int | None:
        """The token limit a call uses: the model's for :data:`MODEL_DEFAULT`, else ``max_length``."""
        if max_length is MODEL_DEFAULT:
            return self.max_length
        if max_length is None:
            return None
        if not isinstance(max_length, (int, np.integer)) or isinstance(max_length, bool) or max_length < 1:
            raise ValueError(f"max_length must be a positive integer or None (no limit), got {max_length!r}")
        return int(max_length)

    def tokenize(self, texts: Sequence[str], max_length: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Flat token ids of all texts and the count per text, truncated to ``max_length`` (unknown ids kept).

        :return: ``(flat, counts)``, int64: ``flat`` holds text 0's ids, then text 1's, ...
        """
        if max_length is not None:
            cut = max_length * self.median_token_length
            texts = [text[:cut] for text in texts]
        elif not isinstance(texts, list):
            texts = list(texts)
        ok = self.fast.supported(texts) if self.fast is not None else None
        if ok is None or not ok.any():
            flat, counts = self._hf_tokenize(texts)
        elif ok.all():
            flat, counts = self.fast.tokenize(texts)
        else:  # the op's texts and the others, each in one call, put back in order
            mine, theirs = np.flatnonzero(ok), np.flatnonzero(~ok)
            flat, counts = interleave(
                (mine, *self.fast.tokenize([texts[i] for i in mine])),
                (theirs, *self._hf_tokenize([texts[i] for i in theirs])),
            )
        if max_length is not None and len(counts) and int(counts.max()) > max_length:
            starts = np.cumsum(counts) - counts
            flat = flat[np.arange(len(flat)) - np.repeat(starts, counts) < max_length]
            counts = np.minimum(counts, max_length)
        return flat, counts

    def _hf_tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        ids = [enc.ids for enc in self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]
        counts = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        return np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(counts.sum())), counts

    def encode_ids(self, texts: Sequence[str], max_length: MaxLength = MODEL_DEFAULT) -> list[list[int]]:
        """Token ids per text, exactly as model2vec uses them (unknown ids dropped).

        :param max_length: token limit; :data:`MODEL_DEFAULT` uses the model's, ``None`` disables cutting.
        """
        flat, counts = self.tokenize(texts, self.resolve(max_length))
        unk = self.unk_token_id
        rows = np.split(flat, np.cumsum(counts)[:-1]) if len(counts) else []
        return [[i for i in row.tolist() if i != unk] for row in rows]

    def batches(self, texts: Sequence[str], batch_size: int, max_length: MaxLength = MODEL_DEFAULT) -> Iterator[Batch]:
        """Tokenize ``texts`` and yield ``(positions, input_ids, attention_mask)`` batches (see :meth:`chunks`)."""
        for chunk, _ in self.chunks(texts, batch_size, max_length):
            yield from chunk

    def chunks(
        self, texts: Sequence[str], batch_size: int, max_length: MaxLength = MODEL_DEFAULT
    ) -> Iterator[tuple[list[Batch], bool]]:
        """Tokenize ``texts`` and yield, chunk by chunk, ``(batches, prefetching)``.

        Texts are tokenized in chunks of ``CHUNK_BATCHES * batch_size``; each chunk is sorted by token count
        (so padding costs almost nothing) and cut into ``(positions, input_ids, attention_mask)`` batches of at
        most ``batch_size`` rows; ``positions`` says where each row belongs in ``texts``. When a core is free
        (see :func:`spare_cores`), the next chunk is tokenized in the helper thread while the caller works on
        this one (``tokenizers`` and onnxruntime both release the GIL): ``prefetching`` says so, and when it is
        false the caller may use :meth:`helper` itself. On a busy machine that thread would only compete with
        the caller, so chunks are then tokenized in turn.
        Arrays are int64 ``[batch, seq]``, ``seq >= 1``; unknown ids have ``attention_mask`` 0.
        """
        limit = self.resolve(max_length)
        self._maybe_build_fast(len(texts))
        if len(texts) == 1:  # one text (a server's typical call): no numpy bookkeeping beyond the two arrays
            yield [(np.zeros(1, dtype=np.int64), *self._one(texts[0], limit))], False
            return
        if len(texts) <= batch_size:  # one batch: no sorting, no prefetch
            if texts:
                yield [(np.arange(len(texts)), *self._pad(*self._tokenize_here(texts, limit)))], False
            return
        least = -(-len(texts) // (batch_size * CHUNK_BATCHES))  # parts of at most CHUNK_BATCHES batches
        overlap = self.fast is None and spare_cores() >= 0.5
        count = max(least, min(MIN_PARTS, len(texts) // (2 * MIN_ROWS))) if overlap else least
        chunk = -(-len(texts) // count)  # equal parts
        parts = [texts[start : start + chunk] for start in range(0, len(texts), chunk)]
        if self.fast is not None:  # the op is single-threaded: the helper takes half of each chunk instead
            for index, part in enumerate(parts):
                batches = self._sorted(*self._tokenize_here(part, limit), batch_size)
                yield [(rows + index * chunk, ids, mask) for rows, ids, mask in batches], False
            return
        pool = self.helper() if len(parts) > 1 and overlap else None
        job = pool.submit(self.tokenize, parts[0], limit) if pool is not None else None
        for index, part in enumerate(parts):
            flat, counts = job.result() if job is not None else self.tokenize(part, limit)
            prefetching = False
            if pool is not None and index + 1 < len(parts):
                job, prefetching = pool.submit(self.tokenize, parts[index + 1], limit), True
            batches = self._sorted(flat, counts, batch_size)
            yield [(rows + index * chunk, ids, mask) for rows, ids, mask in batches], prefetching

    def _sorted(self, flat: np.ndarray, counts: np.ndarray, batch_size: int) -> Iterator[Batch]:
        """Cut tokenized texts into padded batches of ``batch_size`` rows, sorted by token count."""
        order = np.argsort(counts, kind="stable")
        begins = np.cumsum(counts) - counts
        source = np.append(flat, self.pad_token_id)  # index len(flat) reads the pad id
        unk = self.unk_token_id
        has_unk = unk is not None and bool((flat == unk).any())
        sorted_counts = counts[order]
        start = 0
        while start < len(order):
            # At most batch_size rows, fewer where the lengths grow fast: a row at most ~25 % longer than the
            # group's first, so the long tail does not pad a whole batch to its longest text.
            longest = int(sorted_counts[start]) * 5 // 4 + 2
            stop = min(start + batch_size, max(start + MIN_ROWS, int(np.searchsorted(sorted_counts, longest, "right"))))
            rows = order[start:stop]
            start = stop
            lengths = counts[rows]
            columns = np.arange(max(int(lengths[-1]), 1))  # sorted: the last row is the longest
            filled = columns < lengths[:, None]
            ids = source[np.where(filled, begins[rows][:, None] + columns, len(flat))]
            mask = filled.astype(np.int64)
            if has_unk:
                mask[ids == unk] = 0
            yield rows, ids, mask

    def _tokenize_here(self, texts: Sequence[str], limit: int | None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`tokenize`, split with the helper thread when the fast path is on and a core is free.

        Only when the texts hold at least the op's ``split_min_chars`` characters (a hand-off costs tens of
        microseconds). ``tokenizers`` spreads a batch over its own thread pool; the onnxruntime-extensions op does not.
        """
        split = self.fast is not None and len(texts) > 1 and sum(map(len, texts)) >= self.fast.split_min_chars
        split = split and spare_cores() >= 0.5
        pool = self.helper() if split else None
        if pool is None:
            return self.tokenize(texts, limit)
        half = len(texts) // 2
        job = pool.submit(self.tokenize, texts[:half], limit)
        flat_b, counts_b = self.tokenize(texts[half:], limit)
        flat_a, counts_a = job.result()
        return np.concatenate([flat_a, flat_b]), np.concatenate([counts_a, counts_b])

    def helper(self) -> ThreadPoolExecutor | None:
        """The one helper thread, created on first use (``None`` after :meth:`close`).

        It tokenizes the next chunk ahead; callers such as ``StaticOnnxModel.encode`` may run work on it while
        it is idle.
        """
        with self._pool_lock:
            if self._pool is None and not self._closed:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="m2v-edge-helper")
                self._finalizer = weakref.finalize(self, self._pool.shutdown, wait=False)
            return self._pool

    def _one(self, text: str, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
        """``(input_ids, attention_mask)`` ``[1, seq]`` for one text, straight from its id list."""
        cut = text if limit is None else text[: limit * self.median_token_length]
        ids = self.tokenizer.encode_batch_fast([cut], add_special_tokens=False)[0].ids
        if limit is not None:
            ids = ids[:limit]
        unk = self.unk_token_id
        mask = [int(i != unk) for i in ids] if unk is not None and unk in ids else [1] * len(ids)
        if not ids:
            ids, mask = [self.pad_token_id], [0]
        return np.array([ids], dtype=np.int64), np.array([mask], dtype=np.int64)

    def _pad(self, flat: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pack flat ids into padded ``(input_ids, attention_mask)`` int64 arrays, at least one column."""
        width = int(counts.max(initial=0))
        if width and int(counts.min()) == width:  # every row full (always so for one text): no padding
            out_ids = flat.reshape(len(counts), width)
            mask = np.ones(out_ids.shape, dtype=np.int64)
        else:
            filled = np.arange(max(width, 1)) < counts[:, None]
            out_ids = np.full(filled.shape, self.pad_token_id, dtype=np.int64)
            out_ids[filled] = flat  # boolean assignment fills row by row, left to right
            mask = filled.astype(np.int64)
        unk = self.unk_token_id
        if unk is not None and (flat == unk).any():
            mask[out_ids == unk] = 0
        return out_ids, mask
