"""Python side of web/bench/bench.mjs: sentences/s of ``StaticOnnxModel`` on the texts the browser encodes.

Usage: ``python web/bench/python_bench.py MODEL_DIR TEXTS.json --threads 1 --repeats 5`` prints one JSON line.
Run it with ``RAYON_NUM_THREADS`` equal to ``--threads`` so the tokenizer uses no more cores than ORT.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Encode the texts ``--repeats`` times after one warm-up; print the median sentences/s as JSON."""
    from m2v_edge import StaticOnnxModel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("texts", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1024)
    args = parser.parse_args(argv)

    texts = json.loads(args.texts.read_text(encoding="utf-8"))
    started = time.perf_counter()
    model = StaticOnnxModel.from_pretrained(args.model, threads=args.threads)
    model.encode(texts[:1])
    first_vector_ms = (time.perf_counter() - started) * 1000
    model.encode(texts, batch_size=args.batch_size)
    rates = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        model.encode(texts, batch_size=args.batch_size)
        rates.append(len(texts) / (time.perf_counter() - started))
    result = {"threads": args.threads, "sentences_per_s": statistics.median(rates), "first_vector_ms": first_vector_ms}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
