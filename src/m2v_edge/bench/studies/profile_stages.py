"""Where Python's encode time goes, on unseen text: each stage timed alone, every repeat on a fresh slice.

Stages (each on its own instance, so no stage warms another's caches; all on the same fresh slice per repeat):
- ``tokenizers encode_batch_fast``: the HF ``tokenizers`` call alone (ids, offsets, the Encoding objects);
- ``+ flatten (ours tokenize)``: our ``TextTokenizer.tokenize`` (cut, that call, ids to one int64 array);
- ``laghu-rs WordPiece ids`` (WordPiece models): a tokenizer that computes ids only, no offsets;
- ``[fast] tokenize``: the onnxruntime-extensions op where exact for the model;
- ``encode, serial``: ``StaticOnnxModel.encode`` with ``pipeline=False`` (tokenize, then pad + graph, one thread);
  ``encode - tokenize`` is the padding and onnxruntime's share;
- ``encode, pipeline``: the default scheduling (tokenize ahead on a helper thread).
Threads: tokenizers' pool has ``RAYON_NUM_THREADS`` (set it to 1 for a one-core profile).

Usage: python -m m2v_edge.bench.studies.profile_stages EXPORT [--source MODEL2VEC_FOLDER] [--texts sentences]
       [--repeats 5]
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from m2v_edge.bench.data import FreshSlices, unseen_pools
from m2v_edge.bench.studies import study_parser
from m2v_edge.contract import ExportFiles
from m2v_edge.runtime.model import StaticOnnxModel


def stages(export: str, source: str | None) -> dict[str, Callable[[list[str]], object]]:
    from tokenizers import Tokenizer

    out: dict[str, Callable[[list[str]], object]] = {}
    raw = Tokenizer.from_file(str(ExportFiles(Path(export)).tokenizer))
    out["tokenizers encode_batch_fast"] = lambda t: raw.encode_batch_fast(t, add_special_tokens=False)
    ours = StaticOnnxModel.from_pretrained(export, fast_tokenizer=False, pipeline=False)
    out["+ flatten (ours tokenize)"] = lambda t: ours.tokenizer.tokenize(t, ours.max_length)
    if source:
        from m2v_edge.bench.peers import load_laghu

        lean = load_laghu(Path(source), rust=True, threads=2)
        if not isinstance(lean, str):
            out["laghu-rs WordPiece ids"] = lambda t: lean.tokenizer.rs_batch(t)
    try:
        fast = StaticOnnxModel.from_pretrained(export, fast_tokenizer=True, pipeline=False)
        out["[fast] tokenize"] = lambda t: fast.tokenizer.tokenize(t, fast.max_length)
    except ValueError as err:
        print(f"no [fast] stage: {err}")
    serial = StaticOnnxModel.from_pretrained(export, fast_tokenizer=False, pipeline=False)
    out["encode, serial"] = lambda t: serial.encode(t, batch_size=1024)
    piped = StaticOnnxModel.from_pretrained(export, fast_tokenizer=False, pipeline=True)
    out["encode, pipeline"] = lambda t: piped.encode(t, batch_size=1024)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = study_parser(__file__, __doc__)
    parser.add_argument("export")
    parser.add_argument("--source", help="the Model2Vec folder (for laghu-rs's WordPiece)")
    parser.add_argument("--texts", choices=["sentences", "passages"], default="sentences")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    pool = unseen_pools()[args.texts]
    size = len(pool) // (args.repeats + 1)
    fresh = FreshSlices(pool)
    fns = stages(args.export, args.source)
    warm = fresh.take(size)
    for fn in fns.values():
        fn(warm)
    seconds: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(args.repeats):
        texts = fresh.take(size)
        names = list(fns)
        for name in names[r % len(names) :] + names[: r % len(names)]:
            began = time.perf_counter()
            fns[name](texts)
            seconds[name].append(time.perf_counter() - began)
    total = statistics.median(seconds["encode, serial"])
    print(f"{args.repeats} fresh slices of {size} unseen {args.texts}; median per slice\n")
    print("| stage | texts/s | share of serial encode |\n|---|--:|--:|")
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"| {name} | {size / median:,.0f} | {100 * median / total:.0f} % |")
    rest = total - statistics.median(seconds["+ flatten (ours tokenize)"])
    print(
        f"| encode, serial - ours tokenize (padding + onnxruntime) | {size / rest:,.0f} | {100 * rest / total:.0f} % |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
