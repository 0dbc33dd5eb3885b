"""Tokenization identical to model2vec 0.10 ``StaticModel.encode``, batched for the ONNX graph.

The rules (shared with the JavaScript runtime, see ``docs/format.md``):

1. cut each text to ``max_length * median_token_length`` Unicode code points;
2. ``encode_batch(add_special_tokens=False)`` with truncation to ``max_length`` tokens;
3. drop the unknown-token id (here: mask it out, which is the same for a mean);
4. pad with ``pad_token_id`` and an ``attention_mask`` of 0, to the width the text's own token count gives
   (:func:`m2v_edge.runtime.batching.padded_width`), so its vector never depends on its batch.

``TextTokenizer`` is a pure function of its settings and the texts: it owns no thread. Who runs what during
``encode`` is :mod:`m2v_edge.runtime.schedule`'s business.
"""

from __future__ import annotations

import enum
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import Any, Literal

import numpy as np

from m2v_edge.runtime import batching
from m2v_edge.runtime.batching import Batch
from m2v_edge.runtime.fast_tokenizer import interleave


class _Default(enum.Enum):
    MODEL_DEFAULT = "the model's max_length"


MODEL_DEFAULT = _Default.MODEL_DEFAULT
"""``max_length`` value meaning "the model's own limit" (``None`` keeps meaning "no limit", as in model2vec)."""
MaxLength = int | None | Literal[_Default.MODEL_DEFAULT]
# Fewest texts in one call that make a deferred fast tokenizer worth building (see ``use_fast``).
FAST_MIN_TEXTS = 4096
# Texts tokenized per ``encode_batch_fast`` call in :meth:`TextTokenizer.batches`.
BATCHES_CHUNK = 2048


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
    different limits cannot see each other's settings.
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
        self._fast_lock = threading.Lock()
        self.fast: Any = None  # a fast_tokenizer op, set by use_fast() when it is exact for this model
        self.fast_reason = "not requested"
        self._fast_pending: str | None = None

    def use_fast(self, tokenizer_json: str, required: bool = False, lazy: bool = False) -> bool:
        """Tokenize with onnxruntime-extensions when it gives the same ids (:mod:`m2v_edge.runtime.fast_tokenizer`).

        :param required: raise ``ValueError`` (with the reason) instead of logging it and staying on tokenizers.
        :param lazy: build and check the op only when a call first brings ``FAST_MIN_TEXTS`` texts (building
            takes about 2 s for a 150k vocabulary: worth it for a corpus, not for a query or a short script).
        :return: whether the fast path is on (``False`` while deferred); ``fast_reason`` says why (not).
        """
        from m2v_edge.runtime import fast_tokenizer as fast

        if not required and not fast.is_candidate(self.tokenizer):
            self.fast_reason = "not a BPE or WordPiece tokenizer, or onnxruntime-extensions not installed"
            return False
        if lazy and not required:
            self._fast_pending = tokenizer_json
            self.fast_reason = f"deferred until a call brings {FAST_MIN_TEXTS} texts"
            return False
        self.fast, self.fast_reason = fast.load_fast(tokenizer_json, self, required)
        return self.fast is not None

    def prepare(self, count: int) -> None:
        """Build a deferred fast tokenizer when a call brings ``count >= FAST_MIN_TEXTS`` texts (ids unchanged)."""
        if self._fast_pending is None or count < FAST_MIN_TEXTS:
            return
        with self._fast_lock:  # one build, even when threads arrive together
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
        """Tokenize ``texts`` and yield ``(positions, input_ids, attention_mask)`` batches of at most ``batch_size``.

        Texts are tokenized ``BATCHES_CHUNK`` at a time; each text is padded to the width its own token count
        gives and only texts of one width share a batch (:func:`m2v_edge.runtime.batching.cut`).
        Arrays are int64 ``[batch, seq]``; unknown ids have ``attention_mask`` 0.
        """
        limit = self.resolve(max_length)
        self.prepare(len(texts))
        for start in range(0, len(texts), BATCHES_CHUNK):
            flat, counts = self.tokenize(texts[start : start + BATCHES_CHUNK], limit)
            for rows, ids, mask in self.cut(flat, counts, batch_size):
                yield rows + start, ids, mask

    def cut(self, flat: np.ndarray, counts: np.ndarray, batch_size: int, dim: int = 1) -> Iterator[Batch]:
        """:func:`m2v_edge.runtime.batching.cut` with this tokenizer's pad and unknown ids."""
        return batching.cut(flat, counts, batch_size, self.pad_token_id, self.unk_token_id, dim=dim)

    def one(self, text: str, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
        """``(input_ids, attention_mask)`` ``[1, width]`` for one text, straight from its id list."""
        cut = text if limit is None else text[: limit * self.median_token_length]
        ids = self.tokenizer.encode_batch_fast([cut], add_special_tokens=False)[0].ids
        return batching.one(ids if limit is None else ids[:limit], self.pad_token_id, self.unk_token_id)
