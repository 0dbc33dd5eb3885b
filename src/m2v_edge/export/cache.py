"""The export cache: a Model2Vec source exported once (checked, staged, renamed into place) and reused.

Used by the demo (a source folder as MODEL) and by ``StaticOnnxModel.from_pretrained`` given a Model2Vec folder or
Hub id (through the hook :func:`m2v_edge.runtime.model.set_source_exporter`, which the façade sets: the runtime
may not import the exporter). The folder is ``$M2V_EDGE_CACHE`` if set, else ``~/.cache/m2v-edge``; an entry is
keyed by the source table's sha256, the table dtype, the isotropy request and (when overridden) normalization, and
written by
:func:`m2v_edge.export.exporter.export_model`, which builds it in a staging folder and renames it into place only
after its self-check against the source passed.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

from m2v_edge.contract import DType, ExportFiles, read_config
from m2v_edge.runtime.facts import isotropy_fact
from m2v_edge.sizes import format_size
from m2v_edge.source.folder import SourceModel, load_source

CACHE_ENV = "M2V_EDGE_CACHE"
CACHE_DTYPE = "int8"
# model2vec's ``quantize_to`` values that an export can store (``float64`` has no ONNX table here).
CACHE_DTYPES = tuple(dtype.value for dtype in DType)

Log = Callable[[str], None]
logger = logging.getLogger("m2v_edge")


def default_cache_dir() -> Path:
    """``$M2V_EDGE_CACHE`` if set, else ``~/.cache/m2v-edge``."""
    value = os.environ.get(CACHE_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "m2v-edge"


def cache_folder(
    source: SourceModel,
    cache_dir: Path,
    isotropy: str = "auto",
    *,
    dtype: str = CACHE_DTYPE,
    normalize: bool | None = None,
) -> Path:
    """Where the export of ``source`` lives in the cache: keyed by the source table's sha256 and the options.

    :param isotropy: ``--isotropy`` of the export (the default ``auto`` adds nothing to the name).
    :param normalize: ``None`` (the source's setting) or an override that differs from it (its own entry).
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", source.name) or "model"
    suffix = "" if normalize is None or normalize == source.normalize else ("-norm" if normalize else "-raw")
    suffix += "" if isotropy == "auto" else "-iso-" + isotropy.replace(":", "")
    return cache_dir / f"{name}-{source.sha256[:16]}-{dtype}{suffix}"


def is_valid_export(
    folder: Path,
    sha256: str,
    isotropy: str = "auto",
    *,
    dtype: str = CACHE_DTYPE,
    normalize: bool | None = None,
) -> bool:
    """Whether ``folder`` is a readable export of the source with this sha256, with these options.

    An export cached before ``auto`` became the default has no ``isotropy`` entry: it is made again.
    """
    if not ExportFiles(folder).is_export():
        return False
    try:
        config = read_config(folder)
    except (OSError, ValueError):
        return False
    source, entry = config.get("source"), config.get("isotropy")
    same_norm = normalize is None or config.get("normalize") == normalize
    return (
        isinstance(source, dict)
        and source.get("sha256") == sha256
        and config.get("dtype") == dtype
        and same_norm
        and isinstance(entry, dict)
        and entry.get("requested") == isotropy
    )


def export_to_cache(
    source: SourceModel,
    cache_dir: Path,
    log: Log = print,
    force: bool = False,
    *,
    dtype: str = CACHE_DTYPE,
    normalize: bool | None = None,
    show_progress_bar: bool = True,
    isotropy: str = "auto",
) -> Path:
    """The export of ``source`` in ``cache_dir``: exported on first use, reused afterwards.

    A cached folder whose ``config.json`` names another source sha256 (or is unreadable) is re-exported.

    :param source: the loaded Model2Vec source.
    :param cache_dir: the cache folder (created if needed).
    :param log: where progress messages go.
    :param force: re-export even if a valid export is cached.
    :param dtype: the table's storage (:data:`CACHE_DTYPES`).
    :param normalize: override the source config's ``normalize`` (``None``: keep it).
    :param show_progress_bar: tqdm bars while exporting.
    :param isotropy: ``--isotropy`` of the export (``auto``, as ``m2v-edge export``; ``none``; ``abtt:K``).
    :return: the exported folder.
    :raises ValueError: for a dtype an export cannot store.
    """
    from m2v_edge.export.exporter import export_model

    if dtype not in CACHE_DTYPES:
        raise ValueError(f"quantize_to={dtype!r}: an export stores its table as one of {', '.join(CACHE_DTYPES)}")
    target = cache_folder(source, cache_dir, isotropy, dtype=dtype, normalize=normalize)
    if not force and is_valid_export(target, source.sha256, isotropy, dtype=dtype, normalize=normalize):
        log(f"using the cached {dtype} export {target}")
        return target
    if normalize is not None and normalize != source.normalize:  # the export (and its self-check) follow the config
        source.config = {**source.config, "normalize": normalize}
    cache_dir.mkdir(parents=True, exist_ok=True)
    log(f"exporting {source.path} to {dtype} into {target} (first run only; reused afterwards) ...")
    report = export_model(
        source, target, dtype=dtype, force=True, show_progress_bar=show_progress_bar, isotropy=isotropy
    )
    log(
        f"exported: {report.model_file} {format_size(report.model_bytes)} "
        f"(source table {format_size(report.source_bytes)}), min cosine to the source {report.min_cosine:.5f}; "
        f"isotropy: {isotropy_fact(read_config(target).get('isotropy'))}"
    )
    return target


def export_source(folder: Path, dtype: str | None = None, normalize: bool | None = None) -> Path:
    """The cached export of the Model2Vec folder ``folder`` (the hook ``StaticOnnxModel.from_pretrained`` calls).

    :param dtype: ``None`` for int8, else one of :data:`CACHE_DTYPES`.
    :param normalize: override the source's ``normalize`` (``None``: keep it).
    """
    return export_to_cache(
        load_source(folder),
        default_cache_dir(),
        log=logger.info,
        dtype=dtype or CACHE_DTYPE,
        normalize=normalize,
        show_progress_bar=False,
    )
