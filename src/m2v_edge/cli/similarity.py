"""``m2v-edge similarity MODEL QUERY DOC...``: rank documents against a query (over ``StaticOnnxModel.search``)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    """Add the ``similarity`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("similarity", help="rank documents against a query")
    p.add_argument("model", help="exported folder")
    p.add_argument("query")
    p.add_argument("documents", nargs="+", metavar="DOC")


def run(args: argparse.Namespace) -> int:
    """Print ``rank score document``, best first."""
    from m2v_edge.cli.common import check_argv
    from m2v_edge.runtime.model import StaticOnnxModel

    check_argv(args, ("query", "documents"))  # undecodable bytes in argv: a clear error, not a tokenizer TypeError
    model = StaticOnnxModel.from_pretrained(args.model)
    for rank, hit in enumerate(model.search(args.query, args.documents), start=1):
        print(f"{rank:>3}  {hit.score:7.4f}  {hit.document}")
    return 0
