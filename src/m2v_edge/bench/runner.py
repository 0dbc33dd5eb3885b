"""Orchestrates a benchmark run: exports, one worker process per thread count, cold start, machine facts."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

# Set on some machines for old OpenBLAS builds; they make a current numpy pick a slower kernel.
BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
PACKAGES = ("m2v-edge", "numpy", "onnxruntime", "tokenizers", "model2vec", "threadpoolctl")


@dataclass
class BenchConfig:
    """What to measure.

    :param source: a Model2Vec folder; it is exported to int8 and float32 in ``workdir``.
    :param threads: thread counts; each runs in its own process (tokenizers fixes its pool at start).
    :param batch_sizes: texts per ``encode`` call.
    :param repeats: interleaved repeats per cell, each on a slice of texts the process has not seen; medians.
    :param limit: use only the first ``limit`` unseen sentences (``None``: all 10,425; passages in proportion).
    :param latency_texts: at most this many texts per fresh slice at batch size 1 (one call each).
    :param cold_runs: fresh processes per contender for cold start and memory (0 skips it).
    :param keep_blas_env: keep ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` in the worker processes.
    :param workdir: where the exports go (default: a temporary folder, removed afterwards).
    :param dtypes: exports to measure (``int8`` always; ``float32`` optional: 600 MB for a Qwen-sized table).
    :param busy_core: also run each thread count with a helper process spinning on one core.
    :param fast: add ``int8_fast`` (the onnxruntime-extensions tokenizer) when installed and exact.
    """

    source: Path
    threads: tuple[int, ...] = (1, 2)
    batch_sizes: tuple[int, ...] = (1, 32, 1024)
    repeats: int = 5
    limit: int | None = None
    latency_texts: int = 50
    cold_runs: int = 5
    keep_blas_env: bool = False
    workdir: Path | None = None
    dtypes: tuple[str, ...] = ("int8", "float32")
    busy_core: bool = False
    fast: bool = True

    def check(self) -> None:
        """Validate values and the optional dependencies.

        :raises FileNotFoundError: if ``source`` is not a folder.
        :raises ValueError: for a bad number or a missing bench dependency.
        """
        if not Path(self.source).is_dir():
            raise FileNotFoundError(f"{self.source}: no such Model2Vec folder; pass the model folder to benchmark")
        for name in ("threads", "batch_sizes"):
            values = getattr(self, name)
            if not values or any(not isinstance(v, int) or v < 1 for v in values):
                raise ValueError(f"{name} must be positive integers, got {values!r}")
        if self.repeats < 1 or self.latency_texts < 1 or self.cold_runs < 0:
            raise ValueError("repeats and latency texts must be >= 1, cold runs >= 0")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1, got {self.limit}")
        if "int8" not in self.dtypes or not set(self.dtypes) <= {"int8", "float32"}:
            raise ValueError(f"dtypes must be int8 and optionally float32, got {self.dtypes!r}")
        if importlib.util.find_spec("model2vec") is None:
            raise ValueError("model2vec is not installed; install the bench extra: pip install 'm2v-edge[bench]'")


def worker_env(threads: int, keep_blas_env: bool) -> tuple[dict[str, str], dict[str, str]]:
    """Environment for a worker at ``threads`` threads, and the BLAS overrides it removed."""
    env = dict(os.environ)
    for name in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    env["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
    removed = {} if keep_blas_env else {k: env.pop(k) for k in BLAS_OVERRIDES if k in env}
    return env, removed


SPIN = "import time\nwhile True:\n    time.perf_counter()"


def run_worker(spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """Run :mod:`m2v_edge.bench.worker` in a fresh process; its progress lines go to our stderr.

    With ``spec["busy_core"]``, a helper process spins on one core for the whole run (a phone or a Pi is
    rarely idle); it is stopped when the worker ends.

    :raises RuntimeError: if the worker fails (with its last error line).
    """
    spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if spec.get("busy_core") else None
    try:
        done = subprocess.run(
            [sys.executable, "-m", "m2v_edge.bench.worker", json.dumps(spec)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no output"]
        raise RuntimeError(f"benchmark worker (threads={spec['threads']}) failed: {lines[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    """CPU model, core counts, load average and package versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "usable_cpus": affinity,
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def run_bench(config: BenchConfig, show_progress_bar: bool = True) -> dict[str, Any]:
    """Export, measure at every thread count, probe cold start; returns the JSON-able result.

    :raises FileNotFoundError: if the source folder is missing.
    :raises ValueError: for a bad setting or a missing bench dependency.
    """
    from tqdm.auto import tqdm

    from m2v_edge.bench.coldstart import cold_start
    from m2v_edge.contract import ExportFiles
    from m2v_edge.export.exporter import export_model

    config.check()
    with tempfile.TemporaryDirectory(prefix="m2v-edge-bench-") as tmp:
        work = Path(config.workdir) if config.workdir else Path(tmp)
        scenarios = [(t, busy) for busy in ((False, True) if config.busy_core else (False,)) for t in config.threads]
        steps = len(scenarios) + len(config.dtypes) + (1 if config.cold_runs else 0)
        bar = tqdm(total=steps, desc="bench", unit="step", disable=not show_progress_bar)
        exports = {}
        for dtype in config.dtypes:
            bar.set_postfix_str(f"export {dtype}")
            exports[dtype] = work / f"export-{dtype}"
            # isotropy none: model2vec's own vectors, so the parity rows compare like with like (same speed)
            export_model(config.source, exports[dtype], dtype=dtype, force=True, isotropy="none")
            bar.update()
        result: dict[str, Any] = {"machine": machine(), "config": _config_json(config), "runs": []}
        tokenizer_spec = json.loads(ExportFiles(exports["int8"]).tokenizer.read_text(encoding="utf-8"))
        result["tokenizer_model"] = (tokenizer_spec.get("model") or {}).get("type")
        for threads, busy in scenarios:
            bar.set_postfix_str(f"threads={threads}" + (" busy core" if busy else ""))
            env, removed = worker_env(threads, config.keep_blas_env)
            spec = {
                "threads": threads,
                "source": str(config.source),
                "int8": str(exports["int8"]),
                "float32": str(exports["float32"]) if "float32" in exports else None,
                "busy_core": busy,
                "fast": config.fast,
                "batch_sizes": list(config.batch_sizes),
                "repeats": config.repeats,
                "limit": config.limit,
                "latency_texts": config.latency_texts,
            }
            # One process per text kind: a kind's texts never warm the caches the other kind is timed with.
            parts = [run_worker({**spec, "kinds": [kind]}, env) for kind in ("sentences", "passages")]
            run = parts[0]
            run["cells"] = [cell for part in parts for cell in part["cells"]]
            run["skipped"] = {k: v for part in parts for k, v in part["skipped"].items()}
            run["max_abs_diff_vs_model2vec"] = {
                k: v for part in parts for k, v in part["max_abs_diff_vs_model2vec"].items()
            }
            run["removed_env"] = removed
            result["runs"].append(run)
            bar.update()
        result["files"] = {name: ExportFiles(folder).sizes() for name, folder in exports.items()}
        result["files"]["source"] = {
            p.name: p.stat().st_size for p in sorted(Path(config.source).iterdir()) if p.is_file()
        }
        if config.cold_runs:
            bar.set_postfix_str("cold start")
            result["cold_start"] = cold_start(exports["int8"], exports.get("float32"), config.source, config.cold_runs)
            bar.update()
        bar.close()
    result["machine"]["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    return result


def _config_json(config: BenchConfig) -> dict[str, Any]:
    return {
        "source": str(config.source),
        "threads": list(config.threads),
        "batch_sizes": list(config.batch_sizes),
        "repeats": config.repeats,
        "limit": config.limit,
        "latency_texts": config.latency_texts,
        "cold_runs": config.cold_runs,
        "keep_blas_env": config.keep_blas_env,
        "dtypes": list(config.dtypes),
        "busy_core": config.busy_core,
        "fast": config.fast,
    }
