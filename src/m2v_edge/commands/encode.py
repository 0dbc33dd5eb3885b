"""``m2v-edge encode MODEL --input FILE --output OUT.npy``: texts, one per line, to a float32 ``.npy``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from m2v_edge.cli_io import check_threads, output_file, write_atomic


def add_parser(sub: Any) -> None:
    """Add the ``encode`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("encode", help="encode texts (one per line) to a .npy file")
    p.add_argument("model", help="exported folder")
    p.add_argument("--input", required=True, help="UTF-8 text file, one text per line ('-' for stdin)")
    p.add_argument("--output", required=True, help="output .npy file (float32 [n, dim]), written as named; '-': stdout")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--threads", type=int, default=None, help="onnxruntime threads, 1 to the number of cores")


def read_lines(source: str) -> list[str]:
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


def run(args: argparse.Namespace) -> int:
    """Encode the input lines and save them with ``np.save`` (no pickle), atomically, under the exact name given."""
    import numpy as np

    from m2v_edge.runtime.model import StaticOnnxModel

    out = output_file(args.output, inputs=(args.input,))  # '-': stdout; a folder or the input: refused
    model = StaticOnnxModel.from_pretrained(args.model, threads=check_threads(args.threads))
    texts = read_lines(args.input)
    vectors = model.encode(texts, batch_size=args.batch_size).reshape(len(texts), model.dim)
    name = write_atomic(out, lambda handle: np.save(handle, vectors, allow_pickle=False))
    print(f"wrote {name} ({len(texts)} x {model.dim} float32)", file=sys.stdout if out else sys.stderr)
    return 0
