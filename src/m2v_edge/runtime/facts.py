"""What a model folder is, as ``(name, value)`` rows: ``m2v-edge info`` and the demo's Model tab show the same."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from m2v_edge.contract import ExportFiles, read_config
from m2v_edge.sizes import format_size

if TYPE_CHECKING:
    from m2v_edge.source.folder import SourceModel

Facts = list[tuple[str, str]]

DIFFERS = "vectors differ from model2vec by design (export with --isotropy none for model2vec's)"
IDENTICAL = "vectors identical to model2vec's"


def isotropy_fact(entry: Any) -> str:
    """What ``--isotropy`` did to an export and to parity with model2vec, in one line.

    :param entry: the ``isotropy`` entry of an export's ``config.json`` (``None``: an export made before the
        entry existed, when nothing was applied by default).
    """
    entry = entry if isinstance(entry, dict) else {}
    cone = entry.get("random_pair_cosine") or {}
    dev = entry.get("stsb_dev_spearman") or {}
    if entry.get("method") == "abtt":
        key = f"abtt:{entry.get('k')}"
        how = "chosen by auto" if entry.get("requested") == "auto" else "as requested"
        figures = [f"{how}, folded into the {entry.get('where')}"]
        if "none" in dev and key in dev:
            figures.append(f"STS-B dev Spearman {dev['none']:.2f} -> {dev[key]:.2f}")
        if cone:
            figures.append(f"unrelated texts' mean cosine {cone['before']:.3f} -> {cone['after']:.3f}")
        return f"{key} ({'; '.join(figures)}): {DIFFERS}"
    if entry.get("requested") == "auto":
        best = max((k for k in dev if k != "none"), key=lambda k: dev[k], default=None)
        gain = f"; best {best} {dev[best]:.2f} vs none {dev['none']:.2f} on STS-B dev" if best and "none" in dev else ""
        level = f"; unrelated texts' mean cosine {cone['before']:.3f}" if cone else ""
        return f"none (auto: no map gained enough{gain}{level}): {IDENTICAL}"
    if entry.get("requested") == "none":
        return f"none (--isotropy none): {IDENTICAL}"
    return f"none (not recorded: exported before --isotropy auto became the default): {IDENTICAL}"


def is_export_folder(path: str | Path) -> bool:
    """Whether ``path`` is an m2v-edge export (else it is read as a Model2Vec folder).

    :raises FileNotFoundError: if ``path`` does not exist.
    """
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such folder; give an exported folder or a local Model2Vec folder")
    return ExportFiles(folder).is_export()


def export_facts(folder: str | Path, config: dict[str, Any] | None = None) -> Facts:
    """Dims, vocab, dtype, file sizes, normalize, source, opset, format version of an exported folder.

    :param config: its ``config.json`` when already read (else read here, validated).
    """
    files = ExportFiles(Path(folder))
    root = files.root
    cfg = read_config(root) if config is None else config
    sizes = files.sizes()  # both layouts: onnx/model_quantized.onnx or model.onnx
    source = cfg.get("source", {})
    return [
        ("dims", str(cfg["dim"])),
        ("vocab", f"{cfg['vocab_size']:,}"),
        ("dtype", str(cfg["dtype"])),
        *((f"file {name}", format_size(size)) for name, size in sizes.items()),
        ("total size", format_size(sum(sizes.values()))),
        ("normalize", str(cfg["normalize"])),
        ("max_length", str(cfg["max_length"])),
        ("isotropy", isotropy_fact(cfg.get("isotropy"))),
        ("source", str(source.get("name", "?"))),
        ("source sha256", str(source.get("sha256", "?"))),
        ("source table dtype", str(source.get("embedding_dtype", "?"))),
        ("opset", str(cfg.get("opset", "?"))),
        ("format_version", str(cfg["format_version"])),
        ("exported by", f"m2v-edge {cfg.get('m2v_edge_version', '?')}"),
        ("exported folder", str(root)),
    ]


def source_facts(source: SourceModel) -> Facts:
    """The same rows, where they exist, for a Model2Vec source folder (not exported)."""
    vocab = source.embeddings.shape[0] if source.mapping is None else source.mapping.shape[0]
    return [
        ("dims", str(source.dim)),
        ("vocab", f"{vocab:,}"),
        ("dtype", f"{source.embeddings.dtype} (Model2Vec source, not exported)"),
        (f"file {source.tensor_file.name}", format_size(source.tensor_file.stat().st_size)),
        ("normalize", str(source.normalize)),
        ("max_length", str(source.max_length)),
        ("source", str(source.name)),
        ("source sha256", source.sha256),
        ("source folder", str(source.path)),
    ]
