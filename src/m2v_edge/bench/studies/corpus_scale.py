"""Corpus scale: texts/s and peak RSS of `m2v-edge encode` streaming N generated texts from a file, the
output checked row by row against in-memory encodes, a killed run resumed, and a local Ray cluster's overhead.

    python -m m2v_edge.bench.studies.corpus_scale                 # 1M texts (a few minutes on 2 cores)
    python -m m2v_edge.bench.studies.corpus_scale --texts 100000 --no-ray

Every measured process is a fresh child that reports its own peak RSS (VmHWM of /proc/self/status, which
starts again at exec, so the benchmark's own memory does not count). "Growth" is the streaming run's peak
minus the peak of the same command on a one-line input (model loaded, nothing streamed).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from m2v_edge.bench.studies import repo_root, study_parser

ROOT = repo_root()
CLI = [
    sys.executable,
    "-c",
    "import sys; from m2v_edge.cli import main; code = main(sys.argv[1:]); "
    "print(*[x for x in open('/proc/self/status') if x.startswith('VmHWM')], file=sys.stderr, end=''); "
    "sys.exit(code)",
]


def make_corpus(path: Path, count: int, seed: int = 0) -> list[str]:
    """``count`` sentences of 3-60 words drawn from STS-B's vocabulary (varied lengths, like real corpora)."""
    from m2v_edge.source.datasets import load_stsb

    words = sorted({w for p in load_stsb() for t in (p.text1, p.text2) for w in t.split()})
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 61, size=count)
    picks = rng.integers(0, len(words), size=int(lengths.sum()))
    texts, at = [], 0
    for n in lengths.tolist():
        texts.append(" ".join(words[i] for i in picks[at : at + n].tolist()))
        at += n
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return texts


def run_child(argv: list[str], kill_when=None) -> tuple[float, float, int]:
    """Run a command; returns (seconds, peak RSS MB, return code). ``kill_when()`` true: SIGKILL it."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    while kill_when is not None and proc.poll() is None:
        if kill_when():
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.wait()
    if proc.returncode not in (0, -signal.SIGKILL):
        raise SystemExit(f"{' '.join(argv)} failed: {err.strip()[-500:]}")
    peak = [line.split()[1] for line in err.splitlines() if line.startswith("VmHWM:")]
    return time.perf_counter() - start, int(peak[0]) / 1024 if peak else float("nan"), proc.returncode


def ray_run(model: Path, folder: Path, out: Path) -> dict[str, float]:
    """Ray Data on a local 2-CPU cluster in a child process: startup and pipeline seconds."""
    code = f"""
import json, time
t0 = time.perf_counter()
import ray
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
ray.data.DataContext.get_current().enable_progress_bars = False
t1 = time.perf_counter()
from m2v_edge.integrations.ray import encode_dataset
ds = ray.data.read_parquet({str(folder)!r})
encode_dataset(ds, {str(model)!r}, concurrency=2, num_cpus=0.5).write_parquet({str(out)!r})
t2 = time.perf_counter()
ray.shutdown()
print(json.dumps({{"startup_s": t1 - t0, "pipeline_s": t2 - t1}}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = study_parser(__file__, __doc__)
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--model", default=None, help="exported folder (default: export potion-base-8M int8)")
    parser.add_argument("--workdir", default=None, help="keep files here (default: a temporary folder)")
    parser.add_argument("--chunk-size", type=int, default=8192)
    parser.add_argument("--check-chunks", type=int, default=16, help="chunks re-encoded in memory, bit for bit")
    parser.add_argument("--ray-texts", type=int, default=200_000, help="texts in the Ray vs single-process file")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--stream-only", action="store_true", help="only texts/s and peak RSS")
    args = parser.parse_args(argv)

    from m2v_edge.corpus.stream import work_paths
    from m2v_edge.export.exporter import export_model
    from m2v_edge.runtime.model import StaticOnnxModel

    work = Path(args.workdir or tempfile.mkdtemp(prefix="m2v-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    model_dir = Path(args.model) if args.model else work / "potion-int8"
    if not args.model and not model_dir.exists():
        export_model(ROOT / "models" / "potion-base-8M", model_dir, dtype="int8")
    corpus = work / "corpus.txt"
    texts = make_corpus(corpus, args.texts)
    one = work / "one.txt"
    one.write_text(texts[0] + "\n")
    chunk = ["--chunk-size", str(args.chunk_size)]

    def encode(output: Path, *extra: str) -> list[str]:
        return [*CLI, "encode", str(model_dir), "--input", str(corpus), "--output", str(output), *chunk, *extra]

    results: dict[str, object] = {"texts": args.texts, "chunk_size": args.chunk_size, "cpus": os.cpu_count()}

    _, base_mb, _ = run_child([*CLI, "encode", str(model_dir), "--input", str(one), "--output", str(work / "1.npy")])
    out = work / "stream.npy"
    seconds, peak_mb, _ = run_child(encode(out))
    results.update(stream_s=seconds, texts_per_s=args.texts / seconds, baseline_rss_mb=base_mb, peak_rss_mb=peak_mb)
    results["rss_growth_mb"] = peak_mb - base_mb
    if args.stream_only:
        print(json.dumps(results, indent=1))
        return 0

    streamed = np.load(out, mmap_mode="r")
    model = StaticOnnxModel.from_pretrained(model_dir)
    starts = list(range(0, len(texts), args.chunk_size))
    picked = sorted(np.random.default_rng(1).choice(len(starts), min(args.check_chunks, len(starts)), replace=False))
    same = sum(
        int((streamed[i : i + args.chunk_size] == model.encode(texts[i : i + args.chunk_size])).all(axis=1).sum())
        for i in (starts[p] for p in picked)
    )
    results["sampled_chunks_checked"] = len(picked)
    results["rows_identical_in_sampled_chunks"] = (
        f"{same}/{sum(len(texts[starts[p] : starts[p] + args.chunk_size]) for p in picked)}"
    )
    whole = model.encode(texts)
    results["rows_identical_to_one_in_memory_encode"] = int((streamed == whole).all(axis=1).sum())
    results["max_abs_diff_vs_one_in_memory_encode"] = float(np.abs(streamed - whole).max())
    del whole

    resumed = work / "resumed.npy"
    progress = work_paths(resumed)[1]

    def far_enough() -> bool:
        try:
            return json.loads(progress.read_text())["rows"] >= args.texts // 3
        except (OSError, ValueError, KeyError):
            return False

    _, _, code = run_child(encode(resumed), far_enough)
    killed_at = json.loads(progress.read_text())["rows"] if progress.exists() else None
    run_child(encode(resumed, "--resume"))
    results.update(killed=code == -signal.SIGKILL, killed_after_rows=killed_at)
    results["resumed_file_identical"] = resumed.read_bytes() == out.read_bytes()

    if not args.no_ray:
        import pyarrow as pa
        import pyarrow.parquet as pq

        folder = work / "corpus-parquet"
        folder.mkdir(exist_ok=True)
        subset = texts[: args.ray_texts]
        step = -(-len(subset) // 4)
        for part in range(4):
            rows = subset[part * step : (part + 1) * step]
            ids = [str(i) for i in range(part * step, part * step + len(rows))]
            pq.write_table(pa.table({"id": ids, "text": rows}), folder / f"part-{part}.parquet")
        all_ids = [str(i) for i in range(len(subset))]
        pq.write_table(pa.table({"id": all_ids, "text": subset}), work / "corpus.parquet")
        results["ray_texts"] = len(subset)
        argv = [*CLI, "encode", str(model_dir), "--input", str(work / "corpus.parquet"), "--id-column", "id"]
        single_s, _, _ = run_child([*argv, "--output", str(work / "single.parquet"), *chunk])
        ray = ray_run(model_dir, folder, work / "ray-out")
        results.update(single_parquet_s=single_s, ray_startup_s=ray["startup_s"], ray_pipeline_s=ray["pipeline_s"])
        results["ray_total_over_single"] = (ray["startup_s"] + ray["pipeline_s"]) / single_s

    print(json.dumps(results, indent=1))
    (work / "corpus_scale.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"files in {work}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
