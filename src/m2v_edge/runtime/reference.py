"""The source model's own arithmetic in numpy: the reference every export is checked against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from m2v_edge.runtime.tokenize import MODEL_DEFAULT, MaxLength, TextTokenizer, check_texts
from m2v_edge.source.folder import SourceModel


class PooledMap(Protocol):
    """A map of pooled vectors before normalization (``export.isotropy.IsotropyMap``)."""

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Map row vectors ``[n, dim]``."""
        ...


class ReferenceModel:
    """Encodes like model2vec 0.10 ``StaticModel.encode``, from a :class:`SourceModel`, in numpy."""

    def __init__(
        self, source: SourceModel, isotropy: PooledMap | None = None, tokenizer: TextTokenizer | None = None
    ) -> None:
        """``tokenizer``: the source's, when the caller already built it (else built here)."""
        self.source = source
        self.isotropy = isotropy  # applied to every pooled vector that has a token, before normalization
        if tokenizer is None:
            tokenizer = TextTokenizer.from_tokenizer_json(source.tokenizer_json, source.max_length)
        self.tokenizer = tokenizer

    @property
    def dim(self) -> int:
        """Embedding width."""
        return self.source.dim

    @property
    def normalize(self) -> bool:
        """Whether outputs are L2-normalized."""
        return self.source.normalize

    def encode(
        self,
        texts: str | Sequence[str],
        batch_size: int = 256,
        max_length: MaxLength = MODEL_DEFAULT,
        show_progress_bar: bool = False,
    ) -> np.ndarray:
        """Mean of the texts' token rows (× ``weights``, via ``mapping``), L2-normalized when configured.

        :param max_length: token limit; ``MODEL_DEFAULT`` uses the model's, ``None`` disables cutting.
        :return: float32 ``[n, dim]``, or ``[dim]`` for a single string.
        """
        from tqdm.auto import tqdm

        items, single = check_texts(texts)
        src = self.source
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        batches = self.tokenizer.batches(items, batch_size, max_length)
        total = -(-len(items) // batch_size)
        for positions, ids, mask in tqdm(batches, total=total, disable=not show_progress_bar, desc="encoding"):
            if src.keep is not None:  # pruned tokens count like the unknown token: not at all
                mask = mask * src.keep[ids]
            rows = ids if src.mapping is None else src.mapping[ids]
            weight = mask.astype(np.float32)
            if src.weights is not None:
                weight *= src.weights[ids].astype(np.float32)
            count = np.maximum(mask.sum(axis=1, keepdims=True), 1).astype(np.float32)
            vectors = src.embeddings[rows].astype(np.float32)
            out[positions] = np.einsum("bs,bsd->bd", weight, vectors) / count
            if self.isotropy is not None:
                out[positions] = np.where(mask.sum(axis=1, keepdims=True) > 0, self.isotropy.apply(out[positions]), 0)
        if self.normalize:
            out /= np.linalg.norm(out, axis=1, keepdims=True) + np.float32(1e-32)
        return out[0] if single else out
