"""Qwen-sized model under size budgets: model sizes, load time, first-vector time and peak RSS.

Builds a Qwen-sized Model2Vec folder (the real Qwen tokenizer, 151,669 tokens, and a seeded random
1024-d float16 table; ``m2v_edge.bench.qwen_sized``), exports it as int8, under ``--max-size 65MB`` (the
policy's choice, and with all 1024 dims kept) and, with ``--mobile``, also as ``model.ort``; then opens
each export in a fresh Python process and reports its load time, the time to its first vector and the
process's peak RSS.

    python -m m2v_edge.bench.studies.qwen_size [--max-size 65MB] [--mobile]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from m2v_edge.bench.studies import repo_root, study_parser

ROOT = repo_root()
QWEN_TOKENIZER = ROOT / "tests" / "data" / "qwen" / "tokenizer.json"


def measure(folder: Path, fmt: str) -> dict[str, float]:
    """Imports, load and first vector in a fresh interpreter: the bench's cold-start probe."""
    from m2v_edge.bench.coldstart import probe

    return probe("ours-ort" if fmt == "ort" else "ours", folder)


def main(argv: list[str] | None = None) -> int:
    from m2v_edge.bench.qwen_sized import make_qwen_sized_model
    from m2v_edge.export.exporter import export_model

    parser = study_parser(__file__, __doc__)
    parser.add_argument("--max-size", default="65MB", help="budget for the second export")
    parser.add_argument("--mobile", action="store_true", help="also write and measure model.ort")
    args = parser.parse_args(argv)
    target = "mobile" if args.mobile else "default"
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        source = make_qwen_sized_model(Path(tmp) / "qwen-sized", QWEN_TOKENIZER)
        print(f"built the Qwen-sized source in {time.perf_counter() - started:.1f} s", flush=True)
        rows = []
        exports: tuple[tuple[str, dict[str, Any]], ...] = (
            ("int8", {}),
            (f"int8 --max-size {args.max_size}", {"max_size": args.max_size}),
            (f"int8 --max-size {args.max_size} --dims 1024", {"max_size": args.max_size, "dims": 1024}),
        )
        for label, kwargs in exports:
            out = Path(tmp) / label.replace(" ", "_")
            started = time.perf_counter()
            report = export_model(source, out, dtype="int8", target=target, **kwargs)
            seconds = time.perf_counter() - started
            cut = report.pruning.summary() if report.pruning else "nothing cut"
            print(f"exported {label} in {seconds:.1f} s: {cut}; self-check min cosine {report.min_cosine:.5f}")
            rows.append((label, report.model_file, report.model_bytes, measure(out, "onnx")))
            if args.mobile:
                ort_file = Path(report.model_file).with_suffix(".ort").as_posix()
                rows.append((label, ort_file, report.files[ort_file], measure(out, "ort")))
    print("\n| export | file | size | imports | load | first vector | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for label, name, size, m in rows:
        print(
            f"| {label} | {name} | {size / 1e6:.1f} MB | {m['import_s'] * 1e3:.0f} ms | {m['load_s'] * 1e3:.0f} ms | "
            f"{m['first_vector_s'] * 1e3:.1f} ms | {m['peak_rss'] / 1e6:.0f} MB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
