"""``m2v-edge export SOURCE -o OUTPUT``: a Model2Vec folder or Hub id to an ONNX folder (over :func:`export_model`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Add the ``export`` subcommand to ``sub`` (an argparse subparsers object)."""
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
    p.add_argument(
        "--isotropy", default="auto", metavar="auto|none|abtt:K",
        help="auto (default): remove the mean + top-K directions where it gains on STS-B dev (anisotropic models); "
        "none: model2vec's vectors exactly",
    )  # fmt: skip
    p.add_argument(
        "--pipeline-output", action="store_true",
        help="add last_hidden_state for transformers.js's feature-extraction pipeline; costs every run (docs/web.md)",
    )  # fmt: skip
    p.add_argument("--isotropy-corpus", metavar="FILE", help="sentences to fit --isotropy on (default: STS-B train)")


def run(args: argparse.Namespace) -> int:
    """Export, then print the files written and the self-check figures."""
    from m2v_edge.export.exporter import export_model
    from m2v_edge.export.isotropy import none_entry
    from m2v_edge.extras import require
    from m2v_edge.runtime.facts import isotropy_fact
    from m2v_edge.source.hub import resolve_model

    require("export", "onnx", "safetensors", what="export")
    source = resolve_model(args.source, args.revision)
    report = export_model(
        source, args.output, dtype=args.dtype, force=args.force, show_progress_bar=not args.quiet,
        target=args.target, vocab_size=args.vocab_size, vocab_corpus=args.vocab_corpus, dims=args.dims,
        max_size=args.max_size, layout=args.layout, isotropy=args.isotropy, isotropy_corpus=args.isotropy_corpus,
        pipeline_output=args.pipeline_output,
    )  # fmt: skip
    from m2v_edge.sizes import format_size

    print(f"exported {args.source} -> {report.output} ({report.dtype.value})")
    width = max(map(len, report.files), default=0)
    for name, size in report.files.items():
        print(f"  {name:<{width}} {format_size(size):>10}")
    ratio = report.model_bytes / report.source_bytes if report.source_bytes else 0.0
    print(f"  {report.model_file} is {ratio:.1%} of the source table file ({format_size(report.source_bytes)})")
    print(f"  self-check: min cosine {report.min_cosine:.5f}, mean {report.mean_cosine:.5f} vs the source")
    if report.pruning is not None:
        print(f"  pruned: {report.pruning.summary()} (self-check against the source pruned the same way)")
    print(f"  isotropy: {report.isotropy.summary() if report.isotropy else isotropy_fact(none_entry())}")
    if report.ort_max_abs_diff is not None:
        ort_file = Path(report.model_file).with_suffix(".ort").as_posix()
        print(f"  {ort_file}: same vectors as {report.model_file} (max abs diff {report.ort_max_abs_diff:.1e})")
    return 0
