"""``m2v-edge encode``: stream a corpus (or stdin) to vectors; thin over :func:`m2v_edge.corpus.encode_corpus`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from m2v_edge.cli.common import check_threads, output_file
from m2v_edge.corpus.readers import DEFAULT_MAX_LINE_CHARS, INPUT_FORMATS
from m2v_edge.corpus.stream import DEFAULT_CHUNK_ROWS
from m2v_edge.corpus.writers import OUTPUT_FORMATS


def add_parser(sub: Any) -> None:
    """Register ``encode``."""
    p = sub.add_parser("encode", help="encode a corpus (txt, jsonl, csv/tsv, parquet) to .npy/.parquet/.jsonl/.m2vec")
    p.add_argument("model", help="exported folder")
    p.add_argument("--input", required=True, help="corpus file ('-' for stdin); .txt is one text per line")
    p.add_argument("--output", required=True, help=".npy, .parquet, .jsonl or .m2vec file ('-': stdout, default .npy)")
    p.add_argument("--input-format", choices=INPUT_FORMATS, help="default: from the input's suffix (else txt)")
    p.add_argument("--output-format", choices=OUTPUT_FORMATS, help="default: from the output's suffix")
    p.add_argument("--field", "--column", dest="field", default="text", help="JSON field / column with the text")
    p.add_argument("--id-field", "--id-column", dest="id_field", help="JSON field / column with an id to carry along")
    p.add_argument("--dtype", help="npy: float32|float16, parquet: float32|int8, m2vec: int8|float16")
    p.add_argument(
        "--max-line-chars", type=int, default=DEFAULT_MAX_LINE_CHARS,
        help=f"longest line (CSV record) accepted, in characters (default {DEFAULT_MAX_LINE_CHARS:,})",
    )  # fmt: skip
    p.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_ROWS, help="texts per checkpointed chunk")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run (OUTPUT.progress.json)")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--threads", type=int, default=None, help="onnxruntime threads, 1 to the number of cores")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Encode; one summary line on stdout (on stderr when stdout carries the vectors)."""
    from m2v_edge.corpus.readers import InputSpec
    from m2v_edge.corpus.stream import encode_corpus, work_paths
    from m2v_edge.runtime.model import StaticOnnxModel

    output_file(args.output, inputs=(args.input,))  # '-': stdout; a folder or the input: refused
    model = StaticOnnxModel.from_pretrained(args.model, threads=check_threads(args.threads))
    source = InputSpec(args.input, args.input_format, args.field, args.id_field, args.max_line_chars)
    show = not args.quiet and sys.stderr.isatty()
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=source.total(), desc="encoding", unit=" texts", unit_scale=True, file=sys.stderr)
    if args.resume and args.output != "-" and not work_paths(Path(args.output))[1].exists():
        print(f"m2v-edge encode: nothing to resume for {args.output}; starting from the first text", file=sys.stderr)
    try:
        report = encode_corpus(
            model, source, args.output, output_format_name=args.output_format, dtype=args.dtype,
            chunk_rows=args.chunk_size, batch_size=args.batch_size, resume=args.resume,
            on_chunk=None if bar is None else bar.update,
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    resumed = f", resumed after {report.resumed_from} rows" if report.resumed_from else ""
    where = "<stdout>" if args.output == "-" else args.output
    kind = "" if report.format == "npy" else f" as {report.format}"
    summary = f"wrote {where} ({report.rows} x {report.dim} {report.dtype}){kind}{resumed}"
    print(summary, file=sys.stderr if args.output == "-" else sys.stdout)
    return 0
