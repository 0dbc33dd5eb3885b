"""``StaticOnnxModel``: an export on onnxruntime, with model2vec 0.10's ``StaticModel`` API (docs/model2vec.md)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.contract import ATTENTION_MASK, INPUT_IDS, MAX_GRAPH_ROWS, ExportFiles, read_config
from m2v_edge.errors import one_line
from m2v_edge.runtime import compat
from m2v_edge.runtime.schedule import Scheduler
from m2v_edge.runtime.session import OrtSession
from m2v_edge.runtime.similarity import Hit, check_top_k, cosine_matrix, rank
from m2v_edge.runtime.tokenize import MODEL_DEFAULT, MaxLength, TextTokenizer, check_texts
from m2v_edge.validate import check_export, check_graph_config, verify_files

# A Model2Vec source folder's table (model2vec / sentence-transformers layouts): named in the "not an export" error.
_SOURCE_TABLES = ("model.safetensors", "0_StaticEmbedding/model.safetensors")


def _positive_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and bool(value >= 1)


class StaticOnnxModel(compat.StaticModelMembers):
    """An exported m2v-edge folder, ready to encode texts. Needs only onnxruntime, tokenizers and numpy.

    It takes model2vec 0.10's ``StaticModel`` calls (``from_pretrained``, ``encode``, ``encode_as_sequence``,
    ``tokenize``, ``dim``, settable ``normalize`` and ``max_length``, ...): each public ``StaticModel`` member and
    what this class does with it is listed in docs/model2vec.md, and tested row by row against model2vec. The
    vectors are the int8 (or float16/float32) export's, not the float source's: cosine >= 0.9999 to model2vec's
    on potion-base-8M int8, equal within 1e-6 for a float32 export.
    """

    def __init__(
        self,
        files: ExportFiles,
        config: dict[str, Any],
        tokenizer: TextTokenizer,
        session: OrtSession,
        pipeline: bool = False,
    ):
        self.files = files
        self.config = config
        self.tokenizer = tokenizer
        self.session = session
        self.scheduler = Scheduler(pipeline)
        self._normalize = bool(config["normalize"])
        self._dims: int | None = None

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        token: str | None = None,
        normalize: bool | None = None,
        subfolder: str | None = None,
        quantize_to: str | None = None,
        dimensionality: int | None = None,
        vocabulary_quantization: int | None = None,
        max_length: MaxLength = MODEL_DEFAULT,
        force_download: bool = True,
        *,
        threads: int | None = None,
        providers: Sequence[str] | None = None,
        use_ort_format: bool = False,
        fast_tokenizer: bool | None = None,
        pipeline: bool = False,
    ) -> StaticOnnxModel:
        """Load an exported folder; a Model2Vec folder or Hub id is exported once into the cache first.

        The first nine parameters are model2vec's ``StaticModel.from_pretrained``'s, in its order.

        :param path: a folder written by ``m2v-edge export``, an export on the Hub, or a Model2Vec source (folder or
            Hub id such as ``minishlab/potion-base-8M``): exported on first use into ``$M2V_EDGE_CACHE`` (default
            ``~/.cache/m2v-edge``; staged, self-checked, then renamed into place, like ``m2v-edge export``) and
            reused afterwards. Needs ``m2v-edge[export]`` (and ``[hub]`` for Hub ids).
        :param token: a Hugging Face token, for private Hub models.
        :param normalize: override the model's L2 normalization (see the ``normalize`` property).
        :param subfolder: the folder inside ``path`` (or the Hub repository) to load.
        :param quantize_to: the table's dtype (``"int8"``, ``"float16"``, ``"float32"`` or model2vec's ``DType``): a
            source is exported so (default int8); an export must already be so, else ``ValueError``.
        :param dimensionality: keep the first ``dimensionality`` dimensions of each vector (re-normalized when the
            model normalizes), as model2vec truncates its table.
        :param vocabulary_quantization: not supported (``ValueError``): quantize with model2vec, save, load that.
        :param max_length: the default token limit of ``encode`` (``None``: no limit); default the export's.
        :param force_download: accepted for model2vec's signature; Hub files come from the Hugging Face cache.
        :param threads: onnxruntime intra-op threads (``None``: 1, measured fastest; see ``OrtSession``).
        :param providers: onnxruntime execution providers (default CPU).
        :param use_ort_format: load ``model.ort`` instead of ``model.onnx``.
        :param fast_tokenizer: tokenize byte-level BPE models, and BERT-style WordPiece models on printable-ASCII
            texts, with onnxruntime-extensions (``m2v-edge[fast]``):
            ``None``: when installed and exact for this model (else logged and off), built at the first call
            with ``FAST_MIN_TEXTS`` texts so loading and short runs stay fast; ``True``: now, or an error;
            ``False``: never. ``tokenizer.fast_reason`` says which path is used and why.
        :param pipeline: tokenize ahead and share graph calls on one helper thread (see
            :mod:`m2v_edge.runtime.schedule`). Off by default: measured slower than a serial loop on 2 cores
            (0.78-0.88x on sentences; ``tokenizers`` already batches on every core; docs/bench.md, issue 23). A
            setting, never a guess from the machine's load; vectors are bit-identical either way.
        :raises FileNotFoundError: if the folder or one of its files is missing.
        :raises ValueError: if a file is corrupt or from a newer format, or an option cannot be honoured.
        """
        del force_download  # the Hugging Face cache decides (HF_HUB_OFFLINE); model2vec's default re-downloads
        if vocabulary_quantization is not None:
            raise ValueError(
                "vocabulary_quantization is not supported here: quantize with model2vec "
                "(model2vec.model.quantize_model), save_pretrained the result and load that folder"
            )
        dtype = compat.dtype_name(quantize_to)
        files = ExportFiles(compat.locate(path, token, subfolder))
        if files.root.is_file():
            raise ValueError(f"{files.root}: is a file; give an exported folder (written by `m2v-edge export`)")
        if not files.root.is_dir():
            raise FileNotFoundError(f"{files.root}: no such folder; export a model with `m2v-edge export`")
        if compat.is_source_folder(files.root) and not files.model.is_file():
            files = ExportFiles(compat.export_source(files.root, dtype, normalize))
        model = cls._load(files, threads, providers, use_ort_format, fast_tokenizer, pipeline)
        try:
            model._apply(dtype, normalize, max_length, dimensionality)
        except ValueError:
            model.close()
            raise
        return model

    def _apply(
        self, dtype: str | None, normalize: bool | None, max_length: MaxLength, dimensionality: int | None
    ) -> None:
        """``from_pretrained``'s model2vec options on a loaded export; ``ValueError`` when one cannot be honoured."""
        width = int(self.config["dim"])
        if dtype is not None and dtype != self.config["dtype"]:
            raise ValueError(
                f"{self.files.root}: a {self.config['dtype']} export, not {dtype}; export the source with "
                f"`m2v-edge export SOURCE -o OUT --dtype {dtype}` (or pass the source folder here)"
            )
        if dimensionality is not None and (not _positive_int(dimensionality) or dimensionality > width):
            raise ValueError(
                f"dimensionality must be a positive integer up to the model's {width}, got {dimensionality!r}"
            )
        if normalize is not None:
            self.normalize = normalize
        if max_length is not MODEL_DEFAULT:
            self.max_length = max_length
        if dimensionality is not None and dimensionality < width:
            self._dims = int(dimensionality)

    @classmethod
    def _load(
        cls,
        files: ExportFiles,
        threads: int | None,
        providers: Sequence[str] | None,
        use_ort_format: bool,
        fast_tokenizer: bool | None,
        pipeline: bool,
    ) -> StaticOnnxModel:
        config = read_config(files.config)
        if not files.tokenizer.is_file():
            raise FileNotFoundError(f"{files.tokenizer}: missing; re-export the model")
        # The session first: building it briefly holds two copies of the table (the parsed file and
        # onnxruntime's tensors); the tokenizer loaded after it fits in the freed copy, so the peak RSS is
        # the larger of the two, not their sum (Qwen-sized: peak RSS growth 302 MB instead of 443 MB).
        model_file = files.ort_model if use_ort_format else files.model
        if not model_file.is_file():
            raise FileNotFoundError(f"{model_file}: no such model file; export the model with `m2v-edge export`")
        verify_files(files.root, config, [model_file.relative_to(files.root).as_posix(), files.tokenizer.name])
        session = OrtSession(model_file, threads=threads, providers=tuple(providers) if providers else None)
        check_graph_config(config, session.metadata, model_file)
        try:
            tokenizer_json = files.tokenizer.read_text(encoding="utf-8")
            tokenizer = TextTokenizer(
                tokenizer_json,
                max_length=config["max_length"],
                median_token_length=int(config["median_token_length"]),
                unk_token_id=config["unk_token_id"],
                pad_token_id=int(config["pad_token_id"]),
            )
        except Exception as err:  # tokenizers raises a bare Exception on a bad file
            reason = one_line(err)
            raise ValueError(f"{files.tokenizer}: unreadable tokenizer ({reason}); re-export the model") from None
        if fast_tokenizer is not False:
            tokenizer.use_fast(tokenizer_json, required=bool(fast_tokenizer), lazy=fast_tokenizer is None)
        check_export(config, tokenizer.tokenizer, session.session, files.root)
        return cls(files, config, tokenizer, session, pipeline)

    @property
    def dim(self) -> int:
        """Embedding width (``dimensionality`` if given to ``from_pretrained``)."""
        return self._dims or int(self.config["dim"])

    @property
    def normalize(self) -> bool:
        """Whether outputs are L2-normalized: the export's setting (from its source config) unless overridden.

        Settable, as in model2vec. ``True`` on an export that does not normalize divides each vector by its norm
        (+1e-32, model2vec's rule). ``False`` on an export whose graph normalizes raises ``ValueError``: the norm
        is gone; load the source with ``from_pretrained(SOURCE, normalize=False)``, which exports it unnormalized.
        """
        return self._normalize

    @normalize.setter
    def normalize(self, value: bool) -> None:
        self._check_normalize(bool(value))
        self._normalize = bool(value)

    def _check_normalize(self, value: bool) -> None:
        if not value and self.config["normalize"]:
            raise ValueError(
                f"{self.files.root}: this export L2-normalizes inside its graph, so normalize=False cannot be "
                "honoured; load the Model2Vec source with StaticOnnxModel.from_pretrained(SOURCE, normalize=False) "
                "(exported unnormalized into the cache)"
            )

    @property
    def max_length(self) -> int | None:
        """Default token limit of ``encode`` (the export's, 512 for most); settable, ``None`` for no limit."""
        return self.tokenizer.max_length

    @max_length.setter
    def max_length(self, value: int | None) -> None:
        self.tokenizer.max_length = self.tokenizer.resolve(value)

    def encode(
        self,
        sentences: str | Iterable[str],
        batch_size: int = 1024,
        max_length: MaxLength = MODEL_DEFAULT,
        show_progress_bar: bool = False,
        *,
        normalize: bool | None = None,
        use_multiprocessing: bool = True,
        multiprocessing_threshold: int = compat.MP_THRESHOLD,
        **kwargs: Any,
    ) -> np.ndarray:
        """Encode texts to float32 vectors, like ``StaticModel.encode`` (same arguments).

        :param sentences: a string (gives a 1-D vector) or any iterable of strings (gives ``[n, dim]``).
        :param batch_size: at most this many texts per graph call (never more than ``MAX_GRAPH_ROWS``, which
            measured fastest); texts are sorted by length first, so padding costs little.
        :param max_length: token limit; default (``MODEL_DEFAULT``) the model's (512), ``None`` for no limit.
        :param show_progress_bar: show a tqdm bar over batches.
        :param normalize: L2-normalize the vectors (default: the ``normalize`` property; ``False`` is refused on an
            export whose graph normalizes, see there).
        :param use_multiprocessing: accepted and unused, as is ``multiprocessing_threshold``: ``tokenizers``
            already tokenizes a batch on every core, and a text's vector never depends on it.
        :param kwargs: any other keyword (``convert_to_numpy``, ...) is accepted and ignored, as model2vec does.
        :raises ValueError: if an item is not a string, or ``batch_size``/``max_length`` is not a positive integer.
        """
        del use_multiprocessing, multiprocessing_threshold, kwargs
        normalize = self._normalize if normalize is None else bool(normalize)
        self._check_normalize(normalize)
        texts = sentences
        items, single = check_texts(texts)
        if not _positive_int(batch_size):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if max_length is not None and max_length is not MODEL_DEFAULT and not _positive_int(max_length):
            raise ValueError(f"max_length must be a positive integer or None, got {max_length!r}")
        width = int(self.config["dim"])
        out = np.empty((len(items), width), dtype=np.float32)
        if not items:
            return out[:, : self.dim]
        if len(items) == 1:  # one text (a server's typical call): no numpy bookkeeping beyond the two arrays
            out[0] = self._graph(*self.tokenizer.one(items[0], self.tokenizer.resolve(max_length)))[0]
            out = self._finish(out, normalize)
            return out[0] if single else out
        bar = None
        if show_progress_bar:  # tqdm costs tens of microseconds even when disabled: import it only when asked
            from tqdm.auto import tqdm

            bar = tqdm(total=len(items), desc="encoding", unit="text")
        limit = self.tokenizer.resolve(max_length)
        self.tokenizer.prepare(len(items))
        fast = self.tokenizer.fast
        rows = min(batch_size, MAX_GRAPH_ROWS)
        for positions, vectors in self.scheduler.run(
            items,
            rows,
            lambda part: self.tokenizer.tokenize(part, limit),
            lambda flat, counts: self.tokenizer.cut(flat, counts, rows, width),
            self._graph,
            split_min_chars=None if fast is None else fast.split_min_chars,
            dim=width,
        ):
            out[positions] = vectors
            if bar is not None:
                bar.update(len(positions))
        if bar is not None:
            bar.close()
        out = self._finish(out, normalize)
        return out[0] if single else out

    def _finish(self, out: np.ndarray, normalize: bool) -> np.ndarray:
        """The graph's vectors with ``dimensionality`` and a ``normalize`` the graph does not apply."""
        if self._dims is not None:
            out = np.ascontiguousarray(out[:, : self._dims])
        if normalize and (self._dims is not None or not self.config["normalize"]):
            out = compat.l2_normalize(out)
        return out

    def _graph(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        vectors = self.session.run({INPUT_IDS: ids, ATTENTION_MASK: mask})
        if not np.isfinite(vectors).all():  # a tampered table: an error, never a NaN vector (~0.5% of a call)
            raise ValueError(f"{self.session.path}: the graph gave NaN or inf; the file is corrupt, re-export it")
        return vectors

    def close(self) -> None:
        """Stop the helper thread (also done by ``with`` and when the model is collected).

        Encodes running meanwhile finish; later ones run on their calling thread.
        """
        self.scheduler.close()

    def __enter__(self) -> StaticOnnxModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def similarity(self, a: str | Sequence[str], b: str | Sequence[str]) -> np.ndarray | float:
        """Cosine similarity: a float for two strings, else a ``[len(a), len(b)]`` matrix."""
        matrix = cosine_matrix(self.encode(a), self.encode(b))
        return float(matrix[0, 0]) if isinstance(a, str) and isinstance(b, str) else matrix

    def search(self, query: str, documents: Sequence[str], top_k: int | None = None) -> list[Hit]:
        """Rank ``documents`` by cosine to ``query``, best first: ``Hit(index, score, document)``."""
        if not isinstance(query, str):
            raise ValueError(f"query must be a string, got {type(query).__name__}")
        docs, _ = check_texts(documents)
        check_top_k(top_k)
        if not docs:
            return []
        return rank(self.encode(query), self.encode(docs), docs, top_k)
