"""A/B of encode's scheduling, side by side in one run, every timed repeat on texts the run has not seen yet.

Variants (each a worker process, interleaved in a shuffled order every round):
- ``before``: the code at ``--before SRC`` (e.g. a worktree of the previous release), its own defaults;
- ``pipeline``: this tree, helper thread on (the default on two cores or more);
- ``serial``: this tree, ``pipeline=False``;
- ``probe``: this tree, the helper thread decided per call by a load probe (/proc/stat minus our own CPU time,
  as the previous release did): what load sensing would buy on top of the setting.
Each round takes a fresh slice of STS-B train sentences (or ~500-character passages built from them), so no
tokenizer or page cache has seen them. ``--busy-core`` repeats everything with a spinning process beside it.

Rows marked [CPU] divide by the process's CPU seconds (all its threads) instead of wall time: the work done,
which the VM's host contention (rates drifting 3x within a run here) does not move.

Usage: python -m m2v_edge.bench.studies.schedule_ab EXPORT [EXPORT ...] [--before ../before/src] [--rounds 16]
       [--busy-core] [--no-probe]
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# (kind, batch size, texts per timed repeat): sized so every repeat of every workload gets texts of its own.
WORKLOADS = (("sentences", 1024, 256), ("sentences", 32, 256), ("passages", 1024, 32), ("passages", 32, 32))


def train_texts(stsb: Path) -> dict[str, list[str]]:
    sentences: list[str] = []
    for split in ("train", "dev", "test"):  # all of STS-B: as many unseen slices as it has
        for line in (stsb / f"sts-{split}.csv").read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            sentences += [s.strip() for s in fields[5:7] if s.strip()]
    passages, current = [], ""
    for sentence in sentences:
        current = f"{current} {sentence}" if current else sentence
        if len(current) >= 500:
            passages.append(current)
            current = ""
    return {"sentences": sentences, "passages": passages}


def worker(variant: str, model_path: str, stsb: Path, fast: bool) -> None:
    """Answer 'kind batch start stop' lines with the seconds one encode of those texts took.

    Runs as ``python THIS_FILE --worker ...`` on the variant's src (``--before``: another tree, without studies/),
    so this module imports only the standard library at module level.
    """
    from m2v_edge.runtime.model import StaticOnnxModel

    kwargs: dict[str, Any] = {} if variant == "before" else {"pipeline": variant != "serial"}
    model = StaticOnnxModel.from_pretrained(model_path, threads=1, fast_tokenizer=None if fast else False, **kwargs)
    if variant == "probe":
        model.scheduler.__class__ = _probed(type(model.scheduler))
    texts = train_texts(stsb)
    print("ready", flush=True)
    for line in sys.stdin:
        kind, batch, start, stop = line.split()
        chunk = texts[kind][int(start) : int(stop)]
        began, cpu = time.perf_counter(), time.process_time()
        model.encode(chunk, batch_size=int(batch))
        print(time.perf_counter() - began, time.process_time() - cpu, flush=True)


def _probed(base: type) -> type:
    state = {"at": -1.0, "busy": 0.0, "own": 0.0, "on": 1.0}

    def pipeline(self: object) -> bool:  # the previous release's probe: others' CPU time over the last 0.5 s
        now = time.monotonic()
        if now - state["at"] >= 0.5:
            with open("/proc/stat", encoding="ascii") as handle:
                fields = [int(v) for v in handle.readline().split()[1:9]]
            busy = (sum(fields[:3]) + sum(fields[5:8])) / os.sysconf("SC_CLK_TCK")
            own = sum(os.times()[:2])
            if state["at"] >= 0:
                others = max(0.0, (busy - state["busy"]) - (own - state["own"])) / (now - state["at"])
                state["on"] = float(len(os.sched_getaffinity(0)) - 1 - others >= 0.5)
            state.update(at=now, busy=busy, own=own)
        return bool(state["on"])

    return type("Probed", (base,), {"pipeline": property(pipeline, lambda self, value: None)})


def main(argv: list[str] | None = None) -> int:
    from m2v_edge.bench.studies import repo_root, shared_dir, study_parser

    root, stsb = repo_root(), shared_dir() / "data" / "stsb"
    parser = study_parser(__file__, __doc__)
    parser.add_argument("models", nargs="*")
    parser.add_argument("--before", help="src folder of the code to compare with")
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument(
        "--fast-tokenizer", action="store_true", help="the [fast] extra's tokenizer ops where they apply (auto)"
    )
    parser.add_argument("--no-probe", action="store_true", help="leave out the load-probe variant")
    parser.add_argument("--busy-core", action="store_true")
    args = parser.parse_args(argv)
    texts = train_texts(stsb)
    variants = {"pipeline": str(root / "src"), "serial": str(root / "src")}
    if not args.no_probe:
        variants["probe"] = str(root / "src")
    if args.before:
        variants = {"before": str(Path(args.before).resolve()), **variants}
    results: dict[str, dict[str, list[float]]] = {}
    for busy in (False, True) if args.busy_core else (False,):
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            for model in args.models:
                procs = {}
                for name, src in variants.items():
                    env = {**os.environ, "PYTHONPATH": src}
                    cmd = [sys.executable, __file__, "--worker", name, model, str(stsb)] + [
                        "--fast-tokenizer"
                    ] * args.fast_tokenizer
                    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
                    procs[name] = proc
                offsets = {kind: 0 for kind in texts}
                for round_ in range(args.rounds + 1):  # round 0 warms up and is not counted
                    for kind, batch, size in WORKLOADS:
                        start = offsets[kind]
                        offsets[kind] = start + size
                        if offsets[kind] > len(texts[kind]):
                            raise SystemExit(f"not enough unseen {kind} for {args.rounds} rounds; use fewer")
                        order = list(procs)
                        random.shuffle(order)
                        for name in order:
                            proc = procs[name]
                            assert proc.stdin is not None and proc.stdout is not None
                            proc.stdin.write(f"{kind} {batch} {start} {start + size}\n")
                            proc.stdin.flush()
                            seconds, cpu = map(float, proc.stdout.readline().split())
                            if round_:
                                key = f"{Path(model).name} {kind} b{batch}{' busy' if busy else ''}"
                                results.setdefault(key, {}).setdefault(name, []).append(size / seconds)
                                results.setdefault(f"{key} [CPU]", {}).setdefault(name, []).append(size / cpu)
                for proc in procs.values():
                    proc.kill()
        finally:
            if spinner is not None:
                spinner.kill()
    names = list(variants)
    base = "before" if "before" in variants else "serial"
    others = [n for n in names if n != base]
    print(f"Texts/s: median of {args.rounds} rounds. Ratios: median (quartiles) of the per-round ratios, each")
    print(f"variant against `{base}` on the same fresh slice in the same round (pairing cancels the VM's drift).\n")
    print(
        "| workload | "
        + " | ".join(f"{n} texts/s" for n in names)
        + " | "
        + " | ".join(f"{n} / {base}" for n in others)
        + " |"
    )
    print("|---" * (len(names) + len(others) + 1) + "|")
    for key, rates in results.items():
        cells = []
        for n in others:
            paired = sorted(a / b for a, b in zip(rates[n], rates[base], strict=True))
            q1, q2, q3 = statistics.quantiles(paired, n=4) if len(paired) > 1 else paired * 3
            cells.append(f"{q2:.2f}x ({q1:.2f}-{q3:.2f})")
        print(
            f"| {key} | "
            + " | ".join(f"{statistics.median(rates[n]):,.0f}" for n in names)
            + " | "
            + " | ".join(cells)
            + " |"
        )
    print(json.dumps(results), file=sys.stderr)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:  # a variant's process (see worker)
        variant, model_path, stsb_dir = sys.argv[2:5]
        worker(variant, model_path, Path(stsb_dir), fast="--fast-tokenizer" in sys.argv[5:])
        sys.exit(0)
    sys.exit(main())
