"""Profile ``StaticOnnxModel.encode`` with pyinstrument on the bench texts (needs ``pip install pyinstrument``).

Usage: python -m m2v_edge.bench.studies.profile_encode EXPORTED_FOLDER [--batch-size 1024] [--texts passages]
       [--threads 2] [--fast]
Prints where the time goes (tokenization, padding, onnxruntime), to decide what to optimize next.
"""

from __future__ import annotations

import sys

from m2v_edge.bench.data import bench_texts
from m2v_edge.bench.studies import study_parser
from m2v_edge.runtime.model import StaticOnnxModel


def main(argv: list[str] | None = None) -> int:
    parser = study_parser(__file__, __doc__)
    parser.add_argument("model", help="an exported folder (m2v-edge export)")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--texts", choices=["sentences", "passages"], default="sentences")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0, help="profile for about this long")
    parser.add_argument("--fast", action="store_true", help="use the onnxruntime-extensions tokenizer (BPE only)")
    args = parser.parse_args(argv)
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: pip install pyinstrument", file=sys.stderr)
        return 2
    import time

    model = StaticOnnxModel.from_pretrained(args.model, threads=args.threads, fast_tokenizer=args.fast)
    texts = bench_texts()[args.texts]
    step = args.batch_size if args.batch_size > 1 else 1
    model.encode(texts[:step], batch_size=args.batch_size)  # warm-up
    profiler = Profiler(interval=0.0002)
    profiler.start()
    end = time.perf_counter() + args.seconds
    while time.perf_counter() < end:
        for i in range(0, len(texts), step):
            model.encode(texts[i : i + step], batch_size=args.batch_size)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
