"""``m2v-edge eval``: score a model on six dimensions and STS-B."""

from __future__ import annotations

import argparse
from typing import Any

from m2v_edge.extras import require


def add_parser(sub: Any) -> None:
    p = sub.add_parser("eval", help="score a model on six dimensions and STS-B (optionally vs a reference)")
    p.add_argument("model", help="exported folder, Model2Vec source folder, or a Hub id (minishlab/potion-base-8M)")
    p.add_argument("--revision", help="Hub branch, tag or commit of MODEL (Hub ids only)")
    p.add_argument("--reference", metavar="SOURCE", help="a second model to compare with (e.g. the source)")
    p.add_argument("--output", metavar="JSON", help="write the report as JSON")
    p.add_argument("--plot", metavar="PNG", help="write a bar chart, model vs reference per dimension")
    p.add_argument("--data", metavar="DIR", help="folder with the JSONL data files (default: the packaged ones)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from m2v_edge.eval.report import check_output, plot, to_markdown, write_json
    from m2v_edge.eval.runner import evaluate
    from m2v_edge.source.hub import resolve_model

    require("eval", "sklearn", "scipy", "matplotlib")
    model = resolve_model(args.model, args.revision, exported=True)
    reference = None if args.reference is None else resolve_model(args.reference, exported=True)
    for path in (args.output, args.plot):
        if path is not None:
            check_output(path)  # fail before minutes of work, not after
    report = evaluate(model, reference=reference, data_dir=args.data, show_progress_bar=not args.quiet)
    print(to_markdown(report))
    if args.output is not None:
        print(f"wrote {write_json(report, args.output)}")
    if args.plot is not None:
        print(f"wrote {plot(report, args.plot)}")
    return 0
