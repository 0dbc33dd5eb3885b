"""Vocabulary and dimension pruning: which token ids and columns an export keeps.

The tokenizer is never changed. A pruned token keeps its id; inside the graph an int32 id → row map
points it at any row and a 0 in ``token_keep`` drops it from the mean, exactly like the unknown token,
so every runtime works unchanged (see ``docs/format.md``).

Which tokens are kept, in order of priority:

1. with a corpus, tokens by how often they occur in it (tokenized with the model's own rules, no
   special tokens added, no length cut), most frequent first;
2. ties and all tokens absent from the corpus (or every token, without a corpus) by tokenizer rank:
   lower id first (BPE merge order; WordPiece/Unigram vocabularies are stored roughly by frequency);
3. the unknown token last: runtimes drop it anyway, so it never costs a row when anything is pruned.

Special and added tokens get no priority: they only count in a corpus when they appear there
literally, and otherwise rank by id like every other token (Qwen's added tokens sit at the end).

Dimensions: the first ``K`` columns are kept, as model2vec's ``dimensionality`` does with PCA-ordered tables.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.runtime.tokenize import TextTokenizer
from m2v_edge.source.folder import SourceModel

_CORPUS_BATCH_LINES = 4096


@dataclass(frozen=True)
class PruningPlan:
    """What an export keeps: token ids (ascending) and the number of leading columns."""

    kept_ids: np.ndarray
    vocab_total: int
    dims_kept: int
    dims_total: int
    by: str

    @property
    def vocab_kept(self) -> int:
        """Number of token ids that keep a row."""
        return int(self.kept_ids.shape[0])

    @property
    def prunes_vocab(self) -> bool:
        """Whether some token ids are sent to "unknown"."""
        return self.vocab_kept < self.vocab_total

    def describe(self) -> dict[str, Any]:
        """The ``pruning`` entry of ``config.json``."""
        return {
            "vocab_kept": self.vocab_kept,
            "vocab_total": self.vocab_total,
            "dims_kept": self.dims_kept,
            "dims_total": self.dims_total,
            "by": self.by,
        }

    def summary(self) -> str:
        """One line for the CLI and the report."""
        share = self.vocab_kept / self.vocab_total
        return (
            f"kept {self.vocab_kept:,} of {self.vocab_total:,} tokens ({share:.1%}, by {self.by}), "
            f"{self.dims_kept} of {self.dims_total} dims"
        )


def check_corpus(path: str | Path) -> Path:
    """Fail early, before any heavy work, if the corpus file cannot be used.

    :raises FileNotFoundError: if it does not exist.
    :raises ValueError: if it is a folder or empty.
    """
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"{file}: no such corpus file; give a UTF-8 text file for --vocab-corpus")
    if not file.is_file():
        raise ValueError(f"{file}: is not a file; give a UTF-8 text file (one text per line) for --vocab-corpus")
    if file.stat().st_size == 0:
        raise ValueError(f"{file}: the corpus file is empty; give text the model will see, or drop --vocab-corpus")
    return file


def count_tokens(tokenizer: TextTokenizer, corpus: str | Path, show_progress_bar: bool = False) -> np.ndarray:
    """How often each token id occurs in a text file (one text per line), tokenized as the model does.

    :param tokenizer: the model's tokenizer with its rules (unknown ids are not counted).
    :param corpus: a UTF-8 text file; lines are tokenized whole (no ``max_length`` cut).
    :return: int64 counts ``[vocab_size]``.
    :raises FileNotFoundError, ValueError: for a missing, empty or non-UTF-8 file.
    """
    from tqdm.auto import tqdm

    file = check_corpus(corpus)
    counts = np.zeros(tokenizer.vocab_size, dtype=np.int64)
    bar = tqdm(
        total=file.stat().st_size, unit="B", unit_scale=True, desc="counting tokens", disable=not show_progress_bar
    )
    with file.open("rb") as handle, bar:
        while lines := handle.readlines(1 << 20):
            bar.update(sum(len(line) for line in lines))
            try:
                texts = [line.decode("utf-8").rstrip("\r\n") for line in lines]
            except UnicodeDecodeError:
                raise ValueError(f"{file}: not UTF-8; convert the corpus file to UTF-8") from None
            for start in range(0, len(texts), _CORPUS_BATCH_LINES):
                ids = tokenizer.encode_ids(texts[start : start + _CORPUS_BATCH_LINES], max_length=None)
                flat = np.fromiter((i for row in ids for i in row), dtype=np.int64)
                counts += np.bincount(flat, minlength=counts.shape[0])[: counts.shape[0]]
    if not counts.any():
        raise ValueError(f"{file}: no known token in the corpus; give text in the model's language")
    return counts


def token_priority(tokenizer: TextTokenizer, counts: np.ndarray | None = None) -> np.ndarray:
    """All token ids, the one to keep first at the front (see the module docstring for the rules).

    :param tokenizer: gives the vocabulary size and the unknown token.
    :param counts: corpus counts per id, or ``None`` to rank by id alone.
    """
    ids = np.arange(tokenizer.vocab_size, dtype=np.int64)
    count = np.zeros_like(ids) if counts is None else counts.astype(np.int64)
    last = np.zeros(ids.shape[0], dtype=np.int64)
    if tokenizer.unk_token_id is not None:
        last[tokenizer.unk_token_id] = 1
    # np.lexsort sorts by the last key first: unknown last, then most frequent, then lowest id.
    return np.lexsort((ids, -count, last))


def make_plan(priority: np.ndarray, vocab_kept: int, dims_kept: int, dims_total: int, by: str) -> PruningPlan:
    """Keep the first ``vocab_kept`` ids of ``priority`` and the first ``dims_kept`` columns."""
    kept = np.sort(priority[:vocab_kept])
    return PruningPlan(kept, int(priority.shape[0]), int(dims_kept), int(dims_total), by)


def check_request(vocab_size: int | None, dims: int | None, vocab_total: int, dims_total: int) -> None:
    """Validate ``--vocab-size`` and ``--dims`` against the model.

    :raises ValueError: naming the allowed range.
    """
    if vocab_size is not None and (isinstance(vocab_size, bool) or not 1 <= vocab_size <= vocab_total):
        raise ValueError(
            f"--vocab-size {vocab_size} is out of range: this model's tokenizer has {vocab_total:,} tokens; "
            f"choose 1..{vocab_total}"
        )
    if dims is not None and (isinstance(dims, bool) or not 1 <= dims <= dims_total):
        raise ValueError(f"--dims {dims} is out of range: this model has {dims_total} dims; choose 1..{dims_total}")


def table_rows(source: SourceModel, kept_ids: np.ndarray) -> int:
    """Rows the pruned table needs (fewer than the kept ids when a model2vec ``mapping`` shares rows)."""
    if source.mapping is None:
        return int(kept_ids.shape[0])
    return int(np.unique(source.mapping[kept_ids]).shape[0])


def prune_source(source: SourceModel, plan: PruningPlan) -> SourceModel:
    """The source as the pruned export computes it: fewer rows and columns, an id → row map, a keep mask.

    The result is an ordinary :class:`SourceModel`, so the exporter and :class:`ReferenceModel` (the
    self-check) treat it like any other model: the check compares against the same pruning in numpy.
    """
    dims = plan.dims_kept
    if not plan.prunes_vocab:
        return dataclasses.replace(source, embeddings=np.ascontiguousarray(source.embeddings[:, :dims]))
    kept = plan.kept_ids
    rows = kept if source.mapping is None else source.mapping[kept]
    unique_rows, inverse = np.unique(rows, return_inverse=True)
    mapping = np.zeros(plan.vocab_total, dtype=np.int64)
    mapping[kept] = inverse.reshape(-1)
    keep = np.zeros(plan.vocab_total, dtype=bool)
    keep[kept] = True
    table = np.ascontiguousarray(source.embeddings[unique_rows, :dims])
    return dataclasses.replace(source, embeddings=table, mapping=mapping, keep=keep)
