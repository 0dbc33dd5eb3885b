"""``m2v-edge info MODEL``: describe an exported folder or a Model2Vec source folder."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    """Add the ``info`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("info", help="describe an exported (or Model2Vec) folder")
    p.add_argument("model")


def run(args: argparse.Namespace) -> int:
    """Print one ``name  value`` line per fact (the same facts as the demo's Model tab)."""
    from m2v_edge.runtime.facts import export_facts, is_export_folder, source_facts

    if is_export_folder(args.model):
        rows = export_facts(args.model)
    else:
        from m2v_edge.source.folder import load_source

        rows = source_facts(load_source(args.model))
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0
