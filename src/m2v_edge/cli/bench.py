"""``m2v-edge bench``: ours beside model2vec, laghu (+ laghu-rs) and fastembed, in one run, on unseen text.

``m2v-edge bench --study NAME -- ARGS...`` runs one of the clone-only benchmark studies instead
(``m2v_edge.bench.studies``, not in the wheel): an unknown NAME, or studies missing (an installed wheel), is one
line and exit code 2; a study's own usage error exits 2 too, its failure 1.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Any

from m2v_edge.bench.runner import BenchConfig  # stdlib-only at import time
from m2v_edge.errors import EXIT_RUNTIME, CliError

STUDIES = "m2v_edge.bench.studies"  # clone-only: imported by name, never statically (the wheel has none)


def _int_list(value: str) -> tuple[int, ...]:
    try:
        numbers = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {value!r}") from None
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {value!r}")
    return numbers


def _default(name: str) -> Any:
    """The :class:`BenchConfig` default of a field: the one place the bench's defaults are written."""
    return next(f.default for f in fields(BenchConfig) if f.name == name)


def _listed(values: tuple[int, ...]) -> str:
    return ",".join(map(str, values))


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="throughput on unseen text, latency, cold start and memory beside model2vec, laghu and fastembed "
        "(needs [bench])",
    )
    p.add_argument(
        "model",
        nargs="*",
        help="Model2Vec source folder(s) (default: the embedded potion-base-8M); with --study: its ARGS, after --",
    )
    p.add_argument(
        "--study",
        metavar="NAME",
        default=None,
        help="run a benchmark study of a clone instead (python -m m2v_edge.bench.studies.NAME; docs/bench.md): "
        "m2v-edge bench --study NAME -- ARGS...",
    )
    p.add_argument("-o", "--output", default="bench-results", help="folder for bench.md, bench.json, bench.png")
    p.add_argument(
        "--qwen-sized",
        metavar="TOKENIZER_JSON",
        default=None,
        help="also bench a Qwen-sized model (this Qwen tokenizer.json, random 1024-d table; int8 only)",
    )
    p.add_argument("--busy-core", action="store_true", help="also run each thread count with one core kept busy")
    p.add_argument("--no-fast", action="store_true", help="leave out the onnxruntime-extensions tokenizer contender")
    p.add_argument("--int8-only", action="store_true", help="skip the float32 export (600 MB for Qwen-sized)")
    threads, batches = _default("threads"), _default("batch_sizes")
    p.add_argument("--threads", type=_int_list, default=threads, help=f"thread counts (default {_listed(threads)})")
    p.add_argument(
        "--batch-sizes", type=_int_list, default=batches, help=f"texts per call (default {_listed(batches)})"
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=_default("repeats"),
        help="interleaved repeats per cell, each on a fresh slice; medians",
    )
    p.add_argument("--limit", type=int, default=_default("limit"), help="use only the first N unseen sentences (tests)")
    p.add_argument(
        "--latency-texts", type=int, default=_default("latency_texts"), help="at most N texts per batch-1 slice"
    )
    p.add_argument(
        "--cold-runs", type=int, default=_default("cold_runs"), help="fresh processes per contender (0: skip)"
    )
    p.add_argument("--workdir", default=None, help="keep the int8/float32 exports here (default: temporary)")
    p.add_argument(
        "--keep-blas-env",
        action="store_true",
        help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE in the measuring processes (default: unset them there)",
    )
    p.add_argument("--no-plot", action="store_true", help="skip the PNG (no matplotlib needed)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run_study(name: str, argv: list[str]) -> int:
    """The study ``name``'s ``main(argv)``; its exit code. Studies exist only in a clone (not in the wheel)."""
    if importlib.util.find_spec(STUDIES) is None:
        raise CliError(f"--study {name}: the benchmark studies are not installed (a clone has them; see docs/bench.md)")
    names = importlib.import_module(STUDIES).names()
    if name not in names:
        raise CliError(f"--study {name!r}: no such study; choose from {', '.join(names)}")
    try:
        return int(importlib.import_module(f"{STUDIES}.{name}").main(argv) or 0)
    except ModuleNotFoundError as err:  # a study's peer or extra (model2vec, onnx, pyarrow, ray, ...)
        raise CliError(f"--study {name} needs {err.name}: pip install 'm2v-edge[bench]' or {err.name}") from None
    except SystemExit as stop:  # argparse (--help, or a usage error it printed) or a study's SystemExit(message)
        if isinstance(stop.code, str):
            raise CliError(stop.code, exit_code=EXIT_RUNTIME) from None
        return int(stop.code or 0)


def run(args: argparse.Namespace) -> int:
    if args.study is not None:
        return run_study(args.study, args.model)
    from m2v_edge.bench.report import markdown, write
    from m2v_edge.bench.runner import run_bench
    from m2v_edge.source.embedded import embedded_model_dir

    if not args.no_plot and importlib.util.find_spec("matplotlib") is None:
        raise ValueError("matplotlib is not installed; pip install 'm2v-edge[bench]' or pass --no-plot")
    sources = [(Path(m), ("int8",) if args.int8_only else ("int8", "float32")) for m in args.model]
    if not sources and not args.qwen_sized:
        sources = [(embedded_model_dir(), ("int8",) if args.int8_only else ("int8", "float32"))]
    with tempfile.TemporaryDirectory(prefix="m2v-edge-qwen-sized-") as tmp:
        if args.qwen_sized:
            from m2v_edge.bench.qwen_sized import make_qwen_sized_model

            sources.append((make_qwen_sized_model(Path(tmp) / "qwen-sized", Path(args.qwen_sized)), ("int8",)))
        for source, dtypes in sources:
            config = BenchConfig(
                source=source,
                threads=args.threads,
                batch_sizes=args.batch_sizes,
                repeats=args.repeats,
                limit=args.limit,
                latency_texts=args.latency_texts,
                cold_runs=args.cold_runs,
                keep_blas_env=args.keep_blas_env,
                workdir=Path(args.workdir) / source.name if args.workdir else None,
                dtypes=dtypes,
                busy_core=args.busy_core,
                fast=not args.no_fast,
            )
            result = run_bench(config, show_progress_bar=not args.quiet)
            output = Path(args.output) / source.name if len(sources) > 1 else Path(args.output)
            paths = write(result, output, with_plot=not args.no_plot)
            print(f"## {source.name}\n\n{markdown(result)}" if len(sources) > 1 else markdown(result))
            print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
