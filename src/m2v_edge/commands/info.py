"""``m2v-edge info MODEL``: describe an exported folder or a Model2Vec source folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Add the ``info`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("info", help="describe an exported (or Model2Vec) folder")
    p.add_argument("model")


def run(args: argparse.Namespace) -> int:
    """Print one ``key value`` line per fact."""
    from m2v_edge.format import ExportFiles, read_config

    files = ExportFiles(Path(args.model))
    if files.is_export():
        cfg = read_config(files.config)
        sizes = {p.name: p.stat().st_size for p in sorted(files.root.iterdir()) if p.is_file()}
        rows = [
            ("dims", cfg["dim"]),
            ("vocab", cfg["vocab_size"]),
            ("dtype", cfg["dtype"]),
            ("size", f"{sizes.get('model.onnx', 0) / 1e6:.2f} MB model.onnx, {sum(sizes.values()) / 1e6:.2f} MB total"),
            ("normalize", cfg["normalize"]),
            ("max_length", cfg["max_length"]),
            ("opset", cfg.get("opset")),
            ("source", f"{cfg['source']['name']} (sha256 {cfg['source']['sha256'][:16]}...)"),
        ]
    else:
        from m2v_edge.export.source import load_source

        src = load_source(files.root)
        rows = [
            ("dims", src.dim),
            ("vocab", src.embeddings.shape[0] if src.mapping is None else src.mapping.shape[0]),
            ("dtype", f"{src.embeddings.dtype} (Model2Vec source, not exported)"),
            ("size", f"{src.tensor_file.stat().st_size / 1e6:.2f} MB {src.tensor_file.name}"),
            ("normalize", src.normalize),
            ("max_length", src.max_length),
            ("source", f"{src.path}"),
        ]
    for key, value in rows:
        print(f"{key:<11} {value}")
    return 0
