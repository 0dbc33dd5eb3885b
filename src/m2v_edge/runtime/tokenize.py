"""Tokenization identical to model2vec 0.10 ``StaticModel.encode``, batched for the ONNX graph.

The rules (shared with the JavaScript runtime, see ``docs/format.md``):

1. cut each text to ``max_length * median_token_length`` Unicode code points;
2. ``encode_batch(add_special_tokens=False)`` with truncation to ``max_length`` tokens;
3. drop the unknown-token id (here: mask it out, which is the same for a mean);
4. pad with ``pad_token_id`` and an ``attention_mask`` of 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from typing import Any

import numpy as np


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
    """A ``tokenizers.Tokenizer`` with model2vec's pre-cut, truncation and unknown-token rules."""

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
        self.max_length = max_length
        self.median_token_length = median_token_length
        self.unk_token_id = unk_token_id
        self.pad_token_id = pad_token_id
        self._truncation: int | None = -1
        self._set_truncation(max_length)
        self._pool: ThreadPoolExecutor | None = None

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

    @property
    def vocab_size(self) -> int:
        """Number of token ids, added tokens included."""
        return int(self.tokenizer.get_vocab_size(with_added_tokens=True))

    def _set_truncation(self, max_length: int | None) -> None:
        if max_length == self._truncation:
            return
        if max_length is None:
            self.tokenizer.no_truncation()
        else:
            self.tokenizer.enable_truncation(max_length)
        self._truncation = max_length

    def _encode(self, texts: Sequence[str], max_length: int | None) -> list[Any]:
        if max_length is not None:
            limit = max_length * self.median_token_length
            texts = [text[:limit] for text in texts]
        elif not isinstance(texts, list):
            texts = list(texts)
        self._set_truncation(max_length)
        return self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)

    def encode_ids(self, texts: Sequence[str], max_length: int | None = -1) -> list[list[int]]:
        """Token ids per text, exactly as model2vec uses them (unknown ids dropped).

        :param max_length: token limit; ``-1`` uses the model's, ``None`` disables cutting.
        """
        limit = self.max_length if max_length == -1 else max_length
        unk = self.unk_token_id
        return [[i for i in enc.ids if i != unk] for enc in self._encode(texts, limit)]

    def batches(
        self, texts: Sequence[str], batch_size: int, max_length: int | None = -1
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Tokenize ``texts`` and yield ``(positions, input_ids, attention_mask)`` batches.

        Texts are sorted by length in characters (a close proxy for their token count, so padding costs
        little) and cut into batches of ``batch_size``; ``positions`` says where each row belongs in ``texts``.
        The next batch is tokenized in a helper thread while the caller works on the current one
        (``tokenizers`` and onnxruntime both release the GIL). Arrays are int64 ``[batch, seq]``, ``seq >= 1``.
        """
        limit = self.max_length if max_length == -1 else max_length
        if len(texts) <= batch_size:  # one batch: no sorting, no thread
            if texts:
                yield np.arange(len(texts)), *self._pad(self._ids(texts, limit))
            return
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        order = np.argsort(lengths, kind="stable")
        groups = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        pool = self._prefetcher()
        job = pool.submit(self._ids, [texts[i] for i in groups[0].tolist()], limit)
        for index, positions in enumerate(groups):
            ids = job.result()
            if index + 1 < len(groups):
                job = pool.submit(self._ids, [texts[i] for i in groups[index + 1].tolist()], limit)
            yield positions, *self._pad(ids)

    def _ids(self, texts: Sequence[str], max_length: int | None) -> list[list[int]]:
        return [enc.ids for enc in self._encode(texts, max_length)]

    def _prefetcher(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="m2v-edge-tokenize")
        return self._pool

    def _pad(self, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Pack token id lists into padded ``(input_ids, attention_mask)`` int64 arrays, at least one column."""
        lengths = [len(row) for row in ids]
        width = max(lengths, default=0)
        if width and min(lengths) == width:  # every row full (always so for one text): no padding
            out_ids = np.array(ids, dtype=np.int64)
            mask = np.ones(out_ids.shape, dtype=np.int64)
        else:
            counts = np.array(lengths, dtype=np.int64)
            flat = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(counts.sum()))
            filled = np.arange(max(width, 1)) < counts[:, None]
            out_ids = np.full(filled.shape, self.pad_token_id, dtype=np.int64)
            out_ids[filled] = flat  # boolean assignment fills row by row, left to right
            mask = filled.astype(np.int64)
        unk = self.unk_token_id
        if unk is not None and any(unk in row for row in ids):
            mask[out_ids == unk] = 0
        return out_ids, mask
