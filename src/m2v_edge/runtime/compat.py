"""What ``StaticOnnxModel`` needs to speak model2vec 0.10's ``StaticModel`` API (docs/model2vec.md).

The runtime may not import the exporter (tests/test_structure.py), yet model2vec's ``from_pretrained`` takes a
Model2Vec folder or Hub id. So the exporter registers itself here: :func:`set_source_exporter` is called by the
façade (``m2v_edge/__init__.py``, imported before any ``m2v_edge.runtime`` module) with
:func:`m2v_edge.export.cache.export_source`, which exports the source once into ``~/.cache/m2v-edge``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.contract import DType, ExportFiles
from m2v_edge.extras import require
from m2v_edge.runtime.tokenize import TextTokenizer, check_texts

# (Model2Vec source folder, dtype or None, normalize override or None) -> the exported folder.
SourceExporter = Callable[[Path, "str | None", "bool | None"], Path]
_EXPORTER: list[SourceExporter] = []

# model2vec's default for its multiprocessing threshold (accepted, unused).
MP_THRESHOLD = 10_000
# The tables an export can store: the quantize_to values honoured.
EXPORT_DTYPES = tuple(dtype.value for dtype in DType)
# A Model2Vec source folder's table (model2vec / sentence-transformers layouts).
SOURCE_TABLES = ("model.safetensors", "0_StaticEmbedding/model.safetensors")


def set_source_exporter(exporter: SourceExporter) -> None:
    """Register what turns a Model2Vec source folder into an export (the façade registers the cache's)."""
    _EXPORTER[:] = [exporter]


def is_source_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a Model2Vec source table."""
    return any((folder / name).is_file() for name in SOURCE_TABLES)


def export_source(folder: Path, dtype: str | None, normalize: bool | None) -> Path:
    """The export of a Model2Vec folder, through the registered exporter.

    :raises ValueError: when no exporter is registered (never, once ``m2v_edge`` is imported).
    """
    if not _EXPORTER:
        raise ValueError(f"{folder}: a Model2Vec source folder, not an export; run `m2v-edge export {folder} -o OUT`")
    return _EXPORTER[0](folder, dtype, normalize)


def locate(path: str | Path, token: str | None, subfolder: str | None) -> Path:
    """A local folder as given, or a Hub id's snapshot (exports hosted on the Hub too); then ``subfolder``."""
    from m2v_edge.source.hub import is_repo_id, resolve_model

    folder = Path(path)
    if not folder.exists() and is_repo_id(str(path)):
        folder = resolve_model(str(path), exported=True, token=token)
    return folder / subfolder if subfolder else folder


def dtype_name(quantize_to: object) -> str | None:
    """model2vec's ``quantize_to`` (a string or its ``DType`` enum) as a plain name."""
    if quantize_to is None:
        return None
    value = getattr(quantize_to, "value", quantize_to)
    if value not in EXPORT_DTYPES:
        raise ValueError(f"quantize_to={value!r}: an export stores its table as {', '.join(EXPORT_DTYPES)}")
    return str(value)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows divided by their L2 norm + 1e-32, as model2vec does (a zero row stays zero)."""
    norm = np.linalg.norm(vectors, axis=-1, keepdims=True) + np.float32(1e-32)
    return (vectors / norm).astype(np.float32, copy=False)


@dataclass
class TokenRows:
    """Each token id's row as the graph uses it (table row × int8 scale × model2vec weight) and whether it counts."""

    rows: np.ndarray  # float32 [vocab, dim]
    keep: np.ndarray | None  # bool [vocab]; False: pruned at export, ignored like the unknown token


def read_token_rows(model_file: Path) -> TokenRows:
    """Read the table out of ``model.onnx`` (needs ``onnx``: ``m2v-edge[export]``).

    :raises FileNotFoundError: if the graph file is missing.
    """
    require("export", "onnx", what="embedding / encode_as_sequence (reading the table out of the graph)")
    import onnx
    from onnx import numpy_helper

    if not model_file.is_file():
        raise FileNotFoundError(f"{model_file}: missing; re-export the model")
    graph = onnx.load(str(model_file)).graph
    inits: dict[str, Any] = {init.name: init for init in graph.initializer}

    def array(name: str) -> np.ndarray | None:
        return numpy_helper.to_array(inits[name]) if name in inits else None

    table = array("table")
    if table is None:
        raise ValueError(f"{model_file}: no 'table' initializer; not an m2v-edge graph, re-export the model")
    row_map, scale, keep = array("row_map"), array("token_scale"), array("token_keep")
    rows = table[row_map] if row_map is not None else table
    rows = rows.astype(np.float32)
    if scale is not None:
        rows *= scale.astype(np.float32)[:, None]
    return TokenRows(rows, None if keep is None else keep.astype(bool))


class StaticModelMembers:
    """The ``StaticModel`` members that only read the export (docs/model2vec.md); ``StaticOnnxModel`` has the rest."""

    files: ExportFiles
    config: dict[str, Any]
    tokenizer: TextTokenizer
    _dims: int | None = None
    _token_rows: TokenRows | None = None

    @property
    def median_token_length(self) -> int:
        """Texts are cut to ``max_length`` × this many characters before tokenizing (model2vec's rule)."""
        return self.tokenizer.median_token_length

    @property
    def unk_token_id(self) -> int | None:
        """The unknown token's id (dropped from every text), or ``None``."""
        return self.tokenizer.unk_token_id

    @property
    def tokens(self) -> tuple[str, ...]:
        """The vocabulary, ordered by token id."""
        vocab = self.tokenizer.tokenizer.get_vocab()
        return tuple(sorted(vocab, key=vocab.__getitem__))

    @property
    def embedding(self) -> np.ndarray:
        """float32 ``[vocab, dim]``: each token id's row as the graph uses it (int8 × scale × model2vec weight).

        Read out of the graph on first use (needs ``onnx``: ``m2v-edge[export]``), then kept.
        """
        if self._token_rows is None:
            self._token_rows = read_token_rows(self.files.model)
        rows = self._token_rows.rows
        return rows if self._dims is None else rows[:, : self._dims]

    @property
    def embedding_dtype(self) -> str:
        """How the export stores its table: ``int8``, ``float16`` or ``float32``."""
        return str(self.config["dtype"])

    @property
    def weights(self) -> None:
        """Always ``None``: model2vec's per-token weights are folded into :attr:`embedding` at export."""
        return None

    @property
    def token_mapping(self) -> None:
        """Always ``None``: model2vec's token → row mapping is applied in :attr:`embedding` (one row per id)."""
        return None

    @property
    def vocabulary_quantization(self) -> int | None:
        """The number of table rows of a vocabulary-quantized source, else ``None``."""
        return int(self.config["table_rows"]) if self.config["source"].get("has_mapping") else None

    @property
    def base_model_name(self) -> str | None:
        """The source the export was made from (a Hub id when it came from the Hub cache, else a folder name)."""
        return self.config["source"].get("name")

    @property
    def language(self) -> None:
        """Always ``None``: the export does not keep the source card's languages (its README.md shows them)."""
        return None

    def save_pretrained(self, path: str | Path, model_name: str | None = None, subfolder: str | None = None) -> None:
        """Not supported: an export is not a Model2Vec folder.

        :raises NotImplementedError: naming the alternatives (copy the exported folder; model2vec for sources).
        """
        raise NotImplementedError(
            f"save_pretrained: the exported folder {self.files.root} is the saved model; copy it to {path} "
            "(shutil.copytree) or export the source again with `m2v-edge export SOURCE -o PATH`"
        )

    def push_to_hub(
        self, repo_id: str, private: bool = False, token: str | None = None, subfolder: str | None = None
    ) -> None:
        """Not supported here.

        :raises NotImplementedError: naming the alternative (upload the exported folder with ``hf upload``).
        """
        raise NotImplementedError(
            f"push_to_hub: upload the exported folder instead: `hf upload {repo_id} {self.files.root}` "
            "(huggingface_hub's CLI)"
        )

    def tokenize(self, sentences: Sequence[str]) -> list[list[int]]:
        """Token ids per text, as model2vec's ``tokenize``.

        No special tokens, cut to ``max_length`` tokens (no character cut), unknown ids dropped.
        """
        items, _ = check_texts(list(sentences))
        limit = self.tokenizer.max_length
        encodings = self.tokenizer.tokenizer.encode_batch_fast(items, add_special_tokens=False)
        unk = self.unk_token_id
        return [[i for i in (enc.ids if limit is None else enc.ids[:limit]) if i != unk] for enc in encodings]

    def encode_as_sequence(
        self,
        sentences: str | Sequence[str],
        *,
        max_length: int | None = None,
        batch_size: int = 1024,
        show_progress_bar: bool = False,
        use_multiprocessing: bool = True,
        multiprocessing_threshold: int = MP_THRESHOLD,
    ) -> np.ndarray | list[np.ndarray]:
        """One ``[tokens, dim]`` float32 array per text: its tokens' :attr:`embedding` rows (not normalized).

        As model2vec: ``max_length`` cuts only when given (the model's is ignored); a text without tokens gives a
        ``[0, dim]`` array; a string gives one array. ``batch_size``, ``show_progress_bar`` and the
        multiprocessing options are accepted and unused (this is a table lookup).
        """
        del batch_size, show_progress_bar, use_multiprocessing, multiprocessing_threshold
        items, single = check_texts(sentences)
        table = self.embedding
        if self._token_rows is not None and self._token_rows.keep is not None:
            keep = self._token_rows.keep
            ids = [[i for i in row if keep[i]] for row in self.tokenizer.encode_ids(items, max_length)]
        else:
            ids = self.tokenizer.encode_ids(items, max_length)
        out = [table[np.asarray(row, dtype=np.int64)] for row in ids]
        return out[0] if single else out
