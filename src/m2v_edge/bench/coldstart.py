"""Cold start and memory: a fresh process imports, loads and encodes one text; times and RSS from inside it."""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

# Runs as ``python -c``: the clock starts at its first line, so interpreter start-up is excluded.
_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()

def rss():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:
        return peak()

def peak():  # VmHWM belongs to this process image; ru_maxrss on Linux keeps the parent's peak across exec
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return value if sys.platform == "darwin" else value * 1024

import os
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
r0 = rss()
kind, path = sys.argv[1], sys.argv[2]
if kind == "model2vec":
    from model2vec import StaticModel as Model
elif kind == "laghu":
    import laghu
    class Model:
        from_pretrained = staticmethod(lambda p: laghu.load(p, fallback=False))
else:  # what loading will need, so "load" times the model, not imports
    import onnxruntime, tokenizers
    from m2v_edge import StaticOnnxModel as Model
t1 = time.perf_counter(); r1 = rss()
model = Model.from_pretrained(path, use_ort_format=True) if kind == "ours-ort" else Model.from_pretrained(path)
t2 = time.perf_counter()
vector = model.encode("The quick brown fox jumps over the lazy dog.")
t3 = time.perf_counter()
assert vector.shape == (model.dim,), vector.shape
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "first_vector_s": t3 - t2,
                  "rss_start": r0, "rss_after_import": r1, "peak_rss": peak()}))
"""


def probe(kind: str, path: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    """Import, load and encode one text in a fresh process; times and RSS measured inside it.

    ``kind`` is ``ours`` (an exported folder), ``ours-ort`` (its ``model.ort``), ``model2vec`` or ``laghu`` (a
    source folder).

    :raises RuntimeError: if the process fails (its last error line is given).
    """
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, kind, str(path)], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no output"]
        raise RuntimeError(f"cold-start probe for {kind} failed: {lines[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cold_start(int8: Path, float32: Path | None, source: Path, runs: int = 5) -> dict[str, Any]:
    """Median over ``runs`` fresh processes (interleaved) for our int8 and float32 exports and model2vec.

    Times are seconds from the probe's first line; ``load_growth`` is peak RSS minus RSS after imports
    (bytes): the memory the model itself costs. Files are read from the page cache after the first run.
    """
    env = dict(os.environ)
    targets = {"int8": ("ours", int8), "model2vec": ("model2vec", source)}
    if importlib.util.find_spec("laghu") is not None:
        targets["laghu_rs"] = ("laghu", source)  # laghu with laghu-rs when it is installed and applies
    if float32 is not None:
        targets["float32"] = ("ours", float32)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    for _ in range(runs):
        for name, (kind, path) in targets.items():
            samples[name].append(probe(kind, path, env))
    out: dict[str, Any] = {}
    for name, runs_ in samples.items():
        row = {key: statistics.median(r[key] for r in runs_) for key in runs_[0]}
        row["load_and_first_s"] = statistics.median(r["load_s"] + r["first_vector_s"] for r in runs_)
        row["total_s"] = statistics.median(r["import_s"] + r["load_s"] + r["first_vector_s"] for r in runs_)
        row["import_growth"] = statistics.median(r["rss_after_import"] - r["rss_start"] for r in runs_)
        row["load_growth"] = statistics.median(r["peak_rss"] - r["rss_after_import"] for r in runs_)
        out[name] = row
    return out
