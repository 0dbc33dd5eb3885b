"""The ``m2v-edge`` command line: thin wrappers over the API. Errors: one line, exit code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from m2v_edge.bench.command import _add_bench, _run_bench
from m2v_edge.demo.command import _add_demo, _run_demo
from m2v_edge.eval.command import _add_eval, _run_eval

EXIT_USAGE = 2
Command = tuple[Callable[[Any], None], Callable[[argparse.Namespace], int]]


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (with a pointer to ``--help``), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _read_lines(source: str) -> list[str]:
    """One text per line, split on newline only; a final newline does not start an extra text."""
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{source}: no such input file") from None
    except IsADirectoryError:
        raise ValueError(f"{source}: is a folder; give a text file with one text per line") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{source}: not UTF-8 (byte {err.start}); convert the file to UTF-8") from None
    if not text:
        return []
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def _add_export(sub: Any) -> None:
    p = sub.add_parser("export", help="export a Model2Vec model (folder or Hub id) to an ONNX folder")
    p.add_argument("source", help="Model2Vec model: a local folder or a Hub id such as minishlab/potion-base-8M")
    p.add_argument("--revision", help="Hub branch, tag or commit (Hub ids only; default main)")
    p.add_argument(
        "--layout", default="hf", choices=["hf", "flat"],
        help="hf (default): onnx/model_quantized.onnx etc., loads in transformers.js; flat: model.onnx at the top",
    )  # fmt: skip
    p.add_argument("-o", "--output", required=True, help="folder to write")
    p.add_argument("--dtype", default="int8", choices=["int8", "float16", "float32"], help="table storage")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.add_argument("--target", default="default", choices=["default", "mobile"], help="mobile: also write model.ort")
    p.add_argument("--vocab-size", type=int, metavar="N", help="keep N tokens (the rest count as unknown)")
    p.add_argument("--vocab-corpus", metavar="FILE", help="rank tokens by frequency in this text file")
    p.add_argument("--dims", type=int, metavar="K", help="keep the first K dims")
    p.add_argument("--max-size", metavar="SIZE", help="model.onnx budget, e.g. 65MB, 500KB or bytes")


def _run_export(args: argparse.Namespace) -> int:
    from m2v_edge.export.exporter import export_model
    from m2v_edge.extras import require
    from m2v_edge.hub import resolve_model

    require("export", "onnx", "safetensors", what="export")
    source = resolve_model(args.source, args.revision)
    report = export_model(
        source, args.output, dtype=args.dtype, force=args.force, show_progress_bar=not args.quiet,
        target=args.target, vocab_size=args.vocab_size, vocab_corpus=args.vocab_corpus, dims=args.dims,
        max_size=args.max_size, layout=args.layout,
    )  # fmt: skip
    print(f"exported {args.source} -> {report.output} ({report.dtype.value})")
    width = max(map(len, report.files), default=0)
    for name, size in report.files.items():
        print(f"  {name:<{width}} {size / 1e6:9.2f} MB")
    ratio = report.model_bytes / report.source_bytes if report.source_bytes else 0.0
    print(f"  {report.model_file} is {ratio:.1%} of the source table file ({report.source_bytes / 1e6:.2f} MB)")
    print(f"  self-check: min cosine {report.min_cosine:.5f}, mean {report.mean_cosine:.5f} vs the source")
    if report.pruning is not None:
        print(f"  pruned: {report.pruning.summary()} (self-check against the source pruned the same way)")
    if report.ort_max_abs_diff is not None:
        ort_file = str(Path(report.model_file).with_suffix(".ort").as_posix())
        print(f"  {ort_file}: same vectors as {report.model_file} (max abs diff {report.ort_max_abs_diff:.1e})")
    return 0


def _add_encode(sub: Any) -> None:
    p = sub.add_parser("encode", help="encode texts (one per line) to a .npy file")
    p.add_argument("model", help="exported folder")
    p.add_argument("--input", required=True, help="UTF-8 text file, one text per line ('-' for stdin)")
    p.add_argument("--output", required=True, help="output .npy file (float32 [n, dim])")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--threads", type=int, default=None)


def _run_encode(args: argparse.Namespace) -> int:
    import numpy as np

    from m2v_edge.runtime.model import StaticOnnxModel

    model = StaticOnnxModel.from_pretrained(args.model, threads=args.threads)
    texts = _read_lines(args.input)
    vectors = model.encode(texts, batch_size=args.batch_size).reshape(len(texts), model.dim)
    out = Path(args.output)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"{out.parent}: output folder does not exist")
    np.save(out, vectors, allow_pickle=False)
    print(f"wrote {out} ({len(texts)} x {model.dim} float32)")
    return 0


def _add_info(sub: Any) -> None:
    p = sub.add_parser("info", help="describe an exported (or Model2Vec) folder")
    p.add_argument("model")


def _run_info(args: argparse.Namespace) -> int:
    from m2v_edge.format import ExportFiles, read_config

    files = ExportFiles(Path(args.model))
    if files.is_export():
        cfg = read_config(files.config)
        sizes, graph = files.sizes(), files.model_name
        rows = [
            ("dims", cfg["dim"]),
            ("vocab", cfg["vocab_size"]),
            ("dtype", cfg["dtype"]),
            ("size", f"{sizes.get(graph, 0) / 1e6:.2f} MB {graph}, {sum(sizes.values()) / 1e6:.2f} MB total"),
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


def _add_similarity(sub: Any) -> None:
    p = sub.add_parser("similarity", help="rank documents against a query")
    p.add_argument("model", help="exported folder")
    p.add_argument("query")
    p.add_argument("documents", nargs="+", metavar="DOC")


def _run_similarity(args: argparse.Namespace) -> int:
    from m2v_edge.runtime.model import StaticOnnxModel

    model = StaticOnnxModel.from_pretrained(args.model)
    for rank, hit in enumerate(model.search(args.query, args.documents), start=1):
        print(f"{rank:>3}  {hit.score:7.4f}  {hit.document}")
    return 0


COMMANDS: dict[str, Command] = {
    "export": (_add_export, _run_export),
    "encode": (_add_encode, _run_encode),
    "info": (_add_info, _run_info),
    "similarity": (_add_similarity, _run_similarity),
    "demo": (_add_demo, _run_demo),
    "eval": (_add_eval, _run_eval),
    "bench": (_add_bench, _run_bench),
}


def _parser() -> argparse.ArgumentParser:
    from m2v_edge import __version__

    parser = _Parser(prog="m2v-edge", description="Ship static text-embedding models to every edge.")
    parser.add_argument("--version", action="version", version=f"m2v-edge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 2 for any user error, printed as one line)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse already printed its usage line
        return int(stop.code or 0)
    try:
        return COMMANDS[args.command][1](args)
    except (OSError, ValueError, CliError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"m2v-edge {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("m2v-edge: interrupted", file=sys.stderr)
        return 130
