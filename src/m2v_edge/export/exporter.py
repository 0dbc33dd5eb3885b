"""``export_model``: Model2Vec folder → exported folder (``model.onnx``, tokenizer, config, card)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge._version import __version__
from m2v_edge.contract import (
    ATTENTION_MASK,
    CHECKSUMS_KEY,
    FORMAT_VERSION,
    INPUT_IDS,
    OPSET,
    OUTPUT,
    DType,
    ExportFiles,
    model_file_name,
    write_config,
)
from m2v_edge.export.budget import parse_size, plan_pruning
from m2v_edge.export.card import write_card
from m2v_edge.export.graph import build_graph
from m2v_edge.export.hf import layout_config, tokenizer_files, unk_post_processor
from m2v_edge.export.isotropy import IsotropyResult, check_request, prepare, reserve
from m2v_edge.export.mobile import check_ort, parse_target, write_ort
from m2v_edge.export.prune import PruningPlan, check_corpus, prune_source
from m2v_edge.export.publish import (
    MARKER,
    check_not_source,
    check_output,
    clean_stale,
    make_staging,
    output_path,
    publish,
)
from m2v_edge.export.quantize import StoredTable, store_table
from m2v_edge.export.selfcheck import PROBE_TEXTS, self_check
from m2v_edge.extras import require
from m2v_edge.runtime.tokenize import TextTokenizer
from m2v_edge.sizes import format_size
from m2v_edge.source.folder import SourceModel, load_source
from m2v_edge.validate import file_sha256


@dataclass
class ExportReport:
    """What an export wrote and how close it is to its source."""

    output: Path
    dtype: DType
    files: dict[str, int] = field(default_factory=dict)
    source_bytes: int = 0
    min_cosine: float = 1.0
    mean_cosine: float = 1.0
    max_abs_diff: float = 0.0
    notes: list[str] = field(default_factory=list)
    pruning: PruningPlan | None = None
    ort_max_abs_diff: float | None = None
    model_file: str = field(default_factory=lambda: model_file_name(DType.INT8))
    isotropy: IsotropyResult | None = None

    @property
    def model_bytes(self) -> int:
        """Size of the ONNX graph (``model_file``)."""
        return self.files.get(self.model_file, 0)


def _fold_tables(source: SourceModel, stored: StoredTable) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per-token scale (int8 row scale × model2vec weight) and id → row map, or ``None`` when not needed."""
    mapping = source.mapping
    scale: np.ndarray | None = None
    if stored.scales is not None:
        scale = stored.scales if mapping is None else stored.scales[mapping]
    if source.weights is not None:
        weights = source.weights.astype(np.float32)
        scale = weights if scale is None else scale * weights
    row_map = None if mapping is None else mapping.astype(np.int32)
    return scale, row_map


def make_config(
    source: SourceModel, tokenizer: TextTokenizer, dtype: DType, layout: str = "hf", pipeline_output: bool = False
) -> dict[str, Any]:
    """The exported ``config.json``: everything a runtime needs (see docs/format.md)."""
    return {
        "format_version": FORMAT_VERSION,
        "model_type": "m2v-edge-static-embedding",
        "dim": source.dim,
        "vocab_size": tokenizer.vocab_size,
        "table_rows": int(source.embeddings.shape[0]),
        "dtype": dtype.value,
        "normalize": source.normalize,
        "max_length": source.max_length,
        "median_token_length": tokenizer.median_token_length,
        "unk_token_id": tokenizer.unk_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "opset": OPSET,
        "inputs": [INPUT_IDS, ATTENTION_MASK],
        "output": OUTPUT,
        "pipeline_output": pipeline_output,
        "source": {
            "name": source.name,
            "sha256": source.sha256,
            "embedding_dtype": np.dtype(source.embeddings.dtype).name,
            "has_weights": source.weights is not None,
            "has_mapping": source.mapping is not None,
        },
        "m2v_edge_version": __version__,
        **layout_config(dtype, layout),
    }


def clean_tokenizer_json(tokenizer_json: str, append_unk: int | None = None) -> str:
    """The source tokenizer with padding, truncation and the post-processor removed.

    Runtimes apply the config's rules; without the post-processor, a tokenizer's default call adds no
    special tokens, so any caller (transformers.js, fastembed, a mobile app) gets the ids model2vec uses.
    ``append_unk`` (the unknown token's id, ``pipeline_output`` exports): a post-processor appending that token,
    which the graph drops (:func:`m2v_edge.export.hf.unk_post_processor`).
    """
    data = json.loads(tokenizer_json)
    data["padding"] = None
    data["truncation"] = None
    data["post_processor"] = None if append_unk is None else unk_post_processor(data, append_unk)
    return json.dumps(data, ensure_ascii=False)


# Larger table values overflow the float32 sums and norms of the graph (and of isotropy fitting) to inf.
MAX_TABLE_VALUE = 1e15


def _check_magnitude(src: SourceModel) -> None:
    """Refuse a source table with values near or beyond float32's range, before any arithmetic warns on them."""
    with np.errstate(all="ignore"):
        largest = float(np.abs(src.embeddings).max(initial=0))
    if not largest <= MAX_TABLE_VALUE:
        raise ValueError(
            f"the source table has values up to {largest:.3g}, too close to float32's range (above "
            f"{MAX_TABLE_VALUE:.0e} the graph's sums and norms overflow to inf); nothing was written. Rescale it"
        )


def _check_finite(stored: StoredTable, token_scale: np.ndarray | None) -> None:
    """Refuse a table that would hold NaN or inf once stored (e.g. float64 values beyond float32's range)."""
    for name, values in (("table", stored.values), ("row scales", stored.scales), ("token weights", token_scale)):
        if values is not None and values.dtype != np.int8 and not np.isfinite(values).all():
            raise ValueError(
                f"the stored {name} would contain NaN or inf (values beyond the storage type's range); "
                "nothing was written. Rescale the source table"
            )


def record_checksums(files: ExportFiles, config: dict[str, Any]) -> None:
    """Write config.json with ``files``: the sha256 of every other file of the folder (hashed once each)."""
    known = config.get(CHECKSUMS_KEY, {})
    names = [name for name in files.sizes() if name not in (MARKER, files.config.name)]
    config[CHECKSUMS_KEY] = {name: known.get(name) or file_sha256(files.root / name) for name in names}
    write_config(files.config, config)


def export_model(
    source: str | Path | SourceModel,
    output: str | Path,
    dtype: str | DType = DType.INT8,
    force: bool = False,
    show_progress_bar: bool = False,
    *,
    target: str = "default",
    vocab_size: int | None = None,
    vocab_corpus: str | Path | None = None,
    dims: int | None = None,
    max_size: str | int | None = None,
    isotropy: str = "auto",
    isotropy_corpus: str | Path | None = None,
    layout: str = "hf",
    pipeline_output: bool = False,
) -> ExportReport:
    """Export a Model2Vec folder to an ONNX folder, checked against the source before it is kept.

    A pruned export (``vocab_size``, ``dims``, ``max_size``) is checked against the source pruned the
    same way (same kept tokens and columns, in numpy), so the check measures the export, not the cut.

    :param source: a local Model2Vec folder (or a loaded :class:`SourceModel`).
    :param output: the folder to write; written to a temp folder first, then renamed into place.
    :param dtype: table storage: ``int8`` (per-row scales), ``float16`` or ``float32``.
    :param force: replace ``output`` if it exists.
    :param show_progress_bar: tqdm bars for the long steps.
    :param target: ``"default"``, or ``"mobile"`` to also write ``model.ort`` and the operator configs.
    :param vocab_size: keep this many tokens (the others count as unknown); the tokenizer is unchanged.
    :param vocab_corpus: a UTF-8 text file; tokens are kept by their frequency in it (default: by id).
    :param dims: keep the first ``dims`` columns.
    :param max_size: a ``model.onnx`` budget (``"65MB"`` or bytes); picks the largest pruning that fits.
    :param layout: ``"hf"`` (default: ``onnx/model_quantized.onnx`` etc., what transformers.js and the Hub
        expect) or ``"flat"`` (``model.onnx`` at the top, the format-1 layout).
    :param pipeline_output: also output ``last_hidden_state`` [batch, tokens, dim] (``embeddings`` × mask), so
        transformers.js's ``pipeline("feature-extraction", …, {pooling: "mean"})`` gives our vectors; and, when
        the tokenizer has an unknown token, append it in ``tokenizer.json``'s post-processor (the graph drops it)
        so such a pipeline gives the zero vector for a text with no token. Off by default: onnxruntime computes
        the output on every run, asked for or not (docs/web.md, "transformers.js pipeline").
    :param isotropy: ``"auto"`` (default), ``"none"`` or ``"abtt:K"``: remove the mean and top-K directions of
        pooled vectors (see :mod:`m2v_edge.export.isotropy`); the self-check applies the same map to the source.
        ``auto`` applies a map only where it gains on held-out STS-B dev pairs (never on potion-base-8M: its
        vectors stay model2vec's); ``none`` keeps model2vec's vectors on purpose. ``config.json``'s
        ``isotropy`` entry says which was applied.
    :param isotropy_corpus: a UTF-8 text file (one sentence a line) to fit on (default: packaged STS-B train).
    :return: the export report (sizes, min/mean cosine to the source, what was cut).
    :raises FileNotFoundError, FileExistsError, ValueError: with the remedy in the message.
    """
    require("export", "onnx", "safetensors", what="export")
    import onnx

    kind = DType.parse(dtype)
    model_file = model_file_name(kind, layout)
    mobile = parse_target(target)
    budget = None if max_size is None else parse_size(max_size)
    if vocab_corpus is not None:
        check_corpus(vocab_corpus)
    iso_request = check_request(isotropy, isotropy_corpus)
    out = output_path(output)
    check_not_source(out, source.path if isinstance(source, SourceModel) else Path(source))
    check_output(out, force)
    src = source if isinstance(source, SourceModel) else load_source(source)
    tokenizer = TextTokenizer.from_tokenizer_json(src.tokenizer_json, src.max_length)
    config = make_config(src, tokenizer, kind, layout, pipeline_output)
    reserve(config, iso_request, src, isotropy_corpus)
    plan = plan_pruning(
        src, tokenizer, kind, config, vocab_size=vocab_size, vocab_corpus=vocab_corpus, dims=dims,
        max_size=budget, show_progress_bar=show_progress_bar,
    )  # fmt: skip
    if plan is not None:
        src = prune_source(src, plan)
        config.update(dim=src.dim, table_rows=int(src.embeddings.shape[0]), pruning=plan.describe())
    _check_magnitude(src)
    table_src, bias, iso_result = prepare(src, iso_request, isotropy_corpus, config, show_progress_bar, tokenizer)
    stored = store_table(table_src.embeddings, kind, show_progress_bar)
    token_scale, row_map = _fold_tables(src, stored)
    _check_finite(stored, token_scale)
    keep = None if src.keep is None else src.keep.astype(np.float32)
    unk = tokenizer.unk_token_id
    if keep is not None and unk is not None:
        keep[unk] = 0.0  # the graph drops the unknown token (format 2)
    model = build_graph(
        stored, normalize=src.normalize, config=config, token_scale=token_scale, row_map=row_map, token_keep=keep,
        unk_token_id=unk, bias=bias, pipeline_output=pipeline_output,
    )  # fmt: skip
    onnx.checker.check_model(model, full_check=True)

    report = ExportReport(
        output=out, dtype=kind, source_bytes=src.tensor_file.stat().st_size, pruning=plan, model_file=model_file
    )
    report.isotropy = iso_result
    clean_stale(out)
    staging = make_staging(out)
    try:
        files = ExportFiles(staging, model_file)
        files.model.parent.mkdir(parents=True, exist_ok=True)
        onnx.save_model(model, str(files.model))
        del model
        appended = unk if pipeline_output else None
        files.tokenizer.write_text(clean_tokenizer_json(src.tokenizer_json, appended), encoding="utf-8")
        tok_config, special = tokenizer_files(src.path, src.tokenizer_json, config)
        write_config(files.tokenizer_config, tok_config)
        write_config(files.special_tokens_map, special)
        record_checksums(files, config)
        check = self_check(src, staging, None if iso_result is None else iso_result.chosen, tokenizer)
        report.min_cosine, report.mean_cosine = check.min_cosine, check.mean_cosine
        report.max_abs_diff = check.max_abs_diff
        if budget is not None and files.model.stat().st_size > budget:
            size = files.model.stat().st_size
            raise ValueError(
                f"{model_file} is {format_size(size)}, over --max-size {format_size(budget)}; please report"
            )
        if mobile:
            write_ort(staging)
            record_checksums(files, config)
            report.ort_max_abs_diff = check_ort(staging, list(PROBE_TEXTS))
        write_card(files.card, config, check, iso_result, source_dir=src.path)
        record_checksums(files, config)
        report.files = {name: size for name, size in files.sizes().items() if name != MARKER}
        publish(staging, out, force)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report
