"""Python side of the web bench (bench/web/bench.mjs): sentences/s of ``StaticOnnxModel`` on the browser's slices.

Usage: ``python -m m2v_edge.bench.web_pair MODEL_DIR SLICES.json --threads 2`` prints one JSON line. SLICES.json
holds ``{"slices": [[text, ...], ...]}``: slice 0 warms up, each later slice is one timed repeat of texts this
process has not seen (cold word caches); ``warm_sentences_per_s`` re-encodes slice 0 (seen), reported apart.
Run it with ``RAYON_NUM_THREADS`` equal to ``--threads`` so the tokenizer uses no more cores than that.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Encode each fresh slice once after a warm-up slice; print the median sentences/s as JSON."""
    from m2v_edge.runtime.model import StaticOnnxModel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("slices", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--fast", action="store_true", help="the onnxruntime-extensions tokenizer ([fast])")
    args = parser.parse_args(argv)

    slices = json.loads(args.slices.read_text(encoding="utf-8"))["slices"]
    started = time.perf_counter()
    try:
        model = StaticOnnxModel.from_pretrained(args.model, threads=args.threads, fast_tokenizer=args.fast)
    except ValueError as err:  # [fast] not installed or not exact for this model: the row says why
        print(json.dumps({"threads": args.threads, "fast": args.fast, "skipped": str(err)}))
        return 0
    model.encode(["The first sentence of the day."])
    first_vector_ms = (time.perf_counter() - started) * 1000

    def rate(texts: list[str]) -> float:
        began = time.perf_counter()
        model.encode(texts, batch_size=args.batch_size)
        return len(texts) / (time.perf_counter() - began)

    rate(slices[0])
    rates = [rate(texts) for texts in slices[1:]]
    warm = [rate(slices[0]) for _ in slices[1:]]
    result = {
        "threads": args.threads,
        "fast": args.fast,
        "sentences_per_s": statistics.median(rates),
        "samples": rates,
        "warm_sentences_per_s": statistics.median(warm),
        "first_vector_ms": first_vector_ms,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
