"""Which models the demo runs: the int8 export (cached on disk) and, when available, its float source.

With no MODEL the demo uses the embedded potion-base-8M (found by :mod:`m2v_edge.source.embedded`), exported to int8
into the cache folder on first run and reused afterwards. A Model2Vec folder given as MODEL is exported
the same way (``--isotropy auto`` by default, as ``m2v-edge export``); an exported folder is used as is.
The float reference of the Compare tab gets the same isotropy map as the export, so it compares like with like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from m2v_edge.contract import read_config
from m2v_edge.demo.fix import FixView
from m2v_edge.export.cache import (
    CACHE_DTYPE,
    CACHE_ENV,
    cache_folder,
    default_cache_dir,
    export_to_cache,
    is_valid_export,
)
from m2v_edge.runtime.facts import is_export_folder
from m2v_edge.source.embedded import embedded_model_dir

if TYPE_CHECKING:
    from m2v_edge.runtime.model import StaticOnnxModel
    from m2v_edge.runtime.reference import ReferenceModel
    from m2v_edge.source.folder import SourceModel

Log = Callable[[str], None]
# The cache itself lives with the exporter (export/cache.py; from_pretrained uses it too); re-exported here.
__all__ = [
    "CACHE_DTYPE",
    "CACHE_ENV",
    "DemoModels",
    "cache_folder",
    "default_cache_dir",
    "export_to_cache",
    "is_valid_export",
    "open_models",
]


@dataclass
class DemoModels:
    """The models behind the demo.

    :param export_dir: the int8 (or other) exported folder the app serves.
    :param onnx: that folder opened with onnxruntime.
    :param reference: the float source as the numpy reference (under the export's isotropy map), or ``None``
        when it is not available.
    :param source_dir: the source folder, or ``None``.
    :param compare_note: why the Compare tab is unavailable (empty when it is).
    :param cone: the served model's random-pair mean cosine (:func:`m2v_edge.demo.fix.served_cone`).
    :param fix: the ranking without and with the isotropy fix, for a model that needs it (else ``None``).
    """

    export_dir: Path
    onnx: StaticOnnxModel
    reference: ReferenceModel | None
    source_dir: Path | None
    compare_note: str = ""
    cone: float = 0.0
    fix: FixView | None = None


def _open_export(folder: Path) -> StaticOnnxModel:
    from m2v_edge.runtime.model import StaticOnnxModel

    return StaticOnnxModel.from_pretrained(folder)


def _source_for_export(folder: Path) -> tuple[SourceModel | None, str]:
    """The source of an exported folder when it is the embedded model, else a note saying why not."""
    from m2v_edge.source.folder import load_source

    config = read_config(folder)
    sha = str(config.get("source", {}).get("sha256", ""))
    try:
        embedded = load_source(embedded_model_dir())
    except (OSError, ValueError):
        embedded = None
    if embedded is not None and embedded.sha256 == sha:
        return embedded, ""
    note = (
        f"The float source of {folder} is not available here (only its exported folder was given), so the "
        "float vs int8 comparison cannot run. Launch the demo with the Model2Vec source folder as MODEL "
        "(it is exported into the cache on the fly) to see this tab."
    )
    return None, note


def open_models(
    model: str | Path | None = None, cache_dir: Path | None = None, log: Log = print, isotropy: str = "auto"
) -> DemoModels:
    """Resolve MODEL to the models the demo needs.

    :param model: ``None`` for the embedded potion-base-8M, an exported folder, or a Model2Vec folder.
    :param cache_dir: where exports of source folders are cached (default :func:`default_cache_dir`).
    :param log: where progress messages go.
    :param isotropy: ``--isotropy`` for exporting a Model2Vec folder (ignored for an exported folder).
    :raises FileNotFoundError: if MODEL (or the embedded model) does not exist.
    :raises ValueError: if MODEL is neither an exported folder nor a readable Model2Vec folder, or ``isotropy``
        is not valid.
    """
    from m2v_edge.export.isotropy import check_request
    from m2v_edge.source.folder import load_source

    cache = default_cache_dir() if cache_dir is None else Path(cache_dir)
    folder = embedded_model_dir() if model is None else Path(model)
    if is_export_folder(folder):
        source, note = _source_for_export(folder)
        return _with_references(folder, _open_export(folder), source, note)
    spec = f"abtt:{request.k}" if (request := check_request(isotropy, None)).method == "abtt" else request.method
    source = load_source(folder)
    export_dir = export_to_cache(source, cache, log, isotropy=spec)
    try:
        onnx = _open_export(export_dir)
    except ValueError as err:  # a cached file damaged after it was written: export it again, once
        log(f"the cached export is unreadable ({err}); exporting again")
        onnx = _open_export(export_to_cache(source, cache, log, force=True, isotropy=spec))
    return _with_references(export_dir, onnx, source, "")


def _with_references(folder: Path, onnx: StaticOnnxModel, source: SourceModel | None, note: str) -> DemoModels:
    """The float reference under the export's own isotropy map, the measured cone and the fix's side-by-side."""
    from m2v_edge.demo.fix import fix_view, served_cone
    from m2v_edge.export.isotropy import refit
    from m2v_edge.runtime.reference import ReferenceModel
    from m2v_edge.runtime.tokenize import TextTokenizer

    cone = served_cone(onnx)
    if source is None:
        return DemoModels(folder, onnx, None, None, note, cone)
    entry = onnx.config.get("isotropy")
    tokenizer = TextTokenizer.from_tokenizer_json(source.tokenizer_json, source.max_length)  # one, shared
    mapping = refit(source, entry, tokenizer)
    if mapping is None and isinstance(entry, dict) and entry.get("method") == "abtt":
        note = f"{folder} was fitted on an --isotropy-corpus file, so its float source cannot be mapped alike here."
        return DemoModels(folder, onnx, None, source.path, note, cone)
    reference = ReferenceModel(source, mapping, tokenizer=tokenizer)
    fix = fix_view(source, onnx, entry, mapping, cone, tokenizer)
    return DemoModels(folder, onnx, reference, source.path, note, cone, fix)
