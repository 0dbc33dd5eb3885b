"""Render a benchmark result: Markdown tables, goal verdicts, JSON file and a PNG plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LABELS = {"tokenizer": "tokenizer only", "model2vec": "model2vec", "int8": "ours int8", "float32": "ours float32"}
GOAL_THREADS = 2


def _rate(cell: dict[str, Any], name: str) -> float:
    return float(cell["results"][name]["texts_per_s"])


def throughput_table(result: dict[str, Any]) -> str:
    """Median texts/s per contender and the ratios, one row per (texts, threads, batch size)."""
    head = (
        "| texts | threads | batch | tokenizer only /s | model2vec /s | ours int8 /s | ours float32 /s "
        "| int8 ÷ model2vec | int8 ÷ tokenizer | float32 ÷ model2vec |"
    )
    lines = [head, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for run in result["runs"]:
        for cell in run["cells"]:
            tok, m2v, i8, f32 = (_rate(cell, n) for n in ("tokenizer", "model2vec", "int8", "float32"))
            lines.append(
                f"| {cell['texts']} | {run['threads']} | {cell['batch_size']} | {tok:,.0f} | {m2v:,.0f} | {i8:,.0f} "
                f"| {f32:,.0f} | {i8 / m2v:.2f}× | {i8 / tok:.2f}× | {f32 / m2v:.2f}× |"
            )
    return "\n".join(lines)


def latency_table(result: dict[str, Any]) -> str:
    """Median microseconds per ``encode`` call of one text."""
    lines = [
        "| texts | threads | tokenizer only µs | model2vec µs | ours int8 µs | ours float32 µs |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for run in result["runs"]:
        for cell in run["cells"]:
            if cell["batch_size"] == 1:
                r = cell["results"]
                values = " | ".join(
                    f"{r[n]['us_per_call']:,.0f}" for n in ("tokenizer", "model2vec", "int8", "float32")
                )
                lines.append(f"| {cell['texts']} | {run['threads']} | {values} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def _graph_bytes(files: dict[str, int]) -> int:
    """Size of an export's ONNX graph, from its ``{relative path: bytes}`` listing (either layout)."""
    return sum(size for name, size in files.items() if name.endswith(".onnx"))


def coldstart_table(result: dict[str, Any]) -> str:
    """Import, load + first vector, and RSS growth per contender, beside its file size."""
    cold = result.get("cold_start")
    if not cold:
        return ""
    sizes = {
        "int8": _graph_bytes(result["files"]["int8"]),
        "float32": _graph_bytes(result["files"]["float32"]),
        "model2vec": result["files"]["source"].get("model.safetensors", 0),
    }
    lines = [
        "| contender | import s | load + first vector s | total s | RSS growth: import MB | RSS growth: load + "
        "first vector (peak) MB | model file MB |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for name, row in cold.items():
        lines.append(
            f"| {LABELS.get(name, name)} | {row['import_s']:.3f} | {row['load_and_first_s']:.3f} "
            f"| {row['total_s']:.3f} "
            f"| {row['import_growth'] / 1e6:.1f} | {row['load_growth'] / 1e6:.1f} | {sizes.get(name, 0) / 1e6:.2f} |"
        )
    return "\n".join(lines)


def goals(result: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """The issue's goals, judged on the int8 export at 2 threads (or the largest count run)."""
    runs = {run["threads"]: run for run in result["runs"]}
    run = runs.get(GOAL_THREADS) or runs[max(runs)]
    out: list[tuple[str, bool, str]] = []
    for kind in ("sentences", "passages"):
        cells = [c for c in run["cells"] if c["texts"] == kind]
        if not cells:
            continue
        vs_m2v = {c["batch_size"]: _rate(c, "int8") / _rate(c, "model2vec") for c in cells}
        vs_tok = {c["batch_size"]: _rate(c, "int8") / _rate(c, "tokenizer") for c in cells}
        shown = ", ".join(f"batch {b}: {v:.2f}×" for b, v in vs_m2v.items())
        out.append((f"int8 ≥ 1.0× model2vec on {kind}", min(vs_m2v.values()) >= 1.0, shown))
        shown = ", ".join(f"batch {b}: {v:.2f}×" for b, v in vs_tok.items())
        out.append((f"int8 ≥ 0.85× tokenizer only on {kind}", min(vs_tok.values()) >= 0.85, shown))
        single = [c for c in cells if c["batch_size"] == 1]
        if single:
            ours, theirs = (single[0]["results"][n]["us_per_call"] for n in ("int8", "model2vec"))
            out.append((f"batch-1 latency ≤ model2vec on {kind}", ours <= theirs, f"{ours:.0f} µs vs {theirs:.0f} µs"))
    cold = result.get("cold_start", {}).get("int8")
    if cold:
        seconds = cold["load_and_first_s"]
        out.append(
            (
                "cold start ≤ 0.3 s (load + first vector)",
                seconds <= 0.3,
                f"{seconds:.3f} s (+ import {cold['import_s']:.3f} s)",
            )
        )
        size = _graph_bytes(result["files"]["int8"])
        growth = cold["load_growth"]
        out.append(
            ("peak RSS growth ≤ 2× int8 file", growth <= 2 * size, f"{growth / 1e6:.1f} MB vs 2 × {size / 1e6:.2f} MB")
        )
    return out


def markdown(result: dict[str, Any]) -> str:
    """The whole report as Markdown."""
    m = result["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    blas = "; ".join(
        f"threads={run['threads']}: "
        + ", ".join(f"{b['internal_api']} {b['version']} {b['architecture']}" for b in run["blas"])
        + (f" (removed {', '.join(run['removed_env'])})" if run.get("removed_env") else "")
        for run in result["runs"]
    )
    parts = [
        f"Machine: {m['cpu']}, {m['usable_cpus']} usable CPUs, load average {m['loadavg'][0]:.2f} at start"
        f" and {m['loadavg_end'][0]:.2f} at end; Python {m['python']}; {versions}."
        if m.get("loadavg")
        else "",
        f"BLAS: {blas or 'not reported (threadpoolctl missing)'}.",
        "",
        "Throughput (median texts/s over interleaved repeats; each call encodes `batch` texts):",
        "",
        throughput_table(result),
    ]
    latency = latency_table(result)
    if latency:
        parts += ["", "Batch size 1 (one `encode` call per text), median µs per call:", "", latency]
    cold = coldstart_table(result)
    if cold:
        parts += ["", "Cold start in a fresh process (interpreter start excluded) and memory:", "", cold]
    parts += ["", "Goals (int8, 2 threads):", ""]
    parts += [f"- {'met' if ok else 'NOT met'}: {name} — {detail}" for name, ok, detail in goals(result)]
    return "\n".join(parts) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    """Bar chart of texts/s: one panel per (texts, threads), bars per contender, grouped by batch size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = [(run, kind) for kind in ("sentences", "passages") for run in result["runs"]]
    fig, axes = plt.subplots(2, len(result["runs"]), figsize=(5.5 * len(result["runs"]), 8), squeeze=False)
    for ax, (run, kind) in zip(axes.flat, panels, strict=False):
        cells = [c for c in run["cells"] if c["texts"] == kind]
        x = np.arange(len(cells))
        for i, name in enumerate(LABELS):
            ax.bar(x + (i - 1.5) * 0.2, [_rate(c, name) for c in cells], 0.2, label=LABELS[name])
        ax.set_xticks(x, [f"batch {c['batch_size']}" for c in cells])
        ax.set_yscale("log")
        ax.set_ylabel("texts / s (median)")
        ax.set_title(f"{kind}, {run['threads']} thread{'s' if run['threads'] > 1 else ''}")
        ax.grid(axis="y", alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"m2v-edge vs model2vec: {Path(result['config']['source']).name}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(result: dict[str, Any], folder: Path, with_plot: bool = True) -> dict[str, Path]:
    """Write ``bench.md``, ``bench.json`` and (if asked) ``bench.png`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": folder / "bench.md", "json": folder / "bench.json"}
    paths["markdown"].write_text(markdown(result), encoding="utf-8")
    paths["json"].write_text(json.dumps(result, indent=2), encoding="utf-8")
    if with_plot:
        paths["plot"] = folder / "bench.png"
        plot(result, paths["plot"])
    return paths
