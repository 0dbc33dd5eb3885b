"""Render a benchmark result: Markdown tables, goal verdicts, JSON file and a PNG plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LABELS = {
    "tokenizer": "tokenizers only",
    "tokenizer_laghu_rs": "laghu-rs WordPiece only",
    "model2vec": "model2vec",
    "laghu": "laghu",
    "laghu_rs": "laghu + laghu-rs",
    "fastembed": "fastembed on our int8",
    "int8": "ours int8",
    "float32": "ours float32",
    "int8_fast": "ours int8 [fast]",
}
GOAL_THREADS = 2
# Goals of issue 13 (int8, 2 threads): vs model2vec at batch > 1; byte-level BPE models (Qwen) have their own.
GOAL_VS_M2V = 1.2
GOAL_BUSY = 1.0
GOAL_BPE = 1.1
GOAL_BPE_FAST = 1.5


def _rate(cell: dict[str, Any], name: str) -> float:
    return float(cell["results"][name]["texts_per_s"])


def _threads(run: dict[str, Any]) -> str:
    return f"{run['threads']} + busy core" if run.get("busy_core") else str(run["threads"])


def throughput_table(result: dict[str, Any]) -> str:
    """Median texts/s per contender and the ratios, one row per (texts, threads, batch size)."""
    present = [n for n in LABELS if all(n in c["results"] for run in result["runs"] for c in run["cells"])]
    ratios = [(a, b) for a in ("int8", "int8_fast") for b in ("model2vec", "laghu_rs")]
    ratios = [(a, b) for a, b in ratios if a in present and b in present]
    short = {"int8_fast": "int8 [fast]", "laghu_rs": "laghu-rs"}
    head = "| texts | cache | threads | batch | texts/repeat | " + " | ".join(f"{LABELS[n]} /s" for n in present)
    head += " | " + " | ".join(f"{short.get(a, a)} ÷ {short.get(b, b)}" for a, b in ratios) + " |"
    lines = [head, "|---|---|--:|--:|--:|" + "--:|" * (len(present) + len(ratios))]
    for run in result["runs"]:
        for cell in run["cells"]:
            rates = " | ".join(f"{_rate(cell, n):,.0f}" for n in present)
            shown = " | ".join(f"{_rate(cell, a) / _rate(cell, b):.2f}×" for a, b in ratios)
            cache = "**warm** (seen)" if cell.get("warm") else "unseen"
            lines.append(
                f"| {cell['texts']} | {cache} | {_threads(run)} | {cell['batch_size']} | {cell.get('n_texts', '')} "
                f"| {rates} | {shown} |"
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
                    f"{r[n]['us_per_call']:,.0f}" if n in r else "–"
                    for n in ("tokenizer", "model2vec", "int8", "float32")
                )
                lines.append(f"| {cell['texts']} | {_threads(run)} | {values} |")
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
        "float32": _graph_bytes(result["files"].get("float32", {})),
        "model2vec": result["files"]["source"].get("model.safetensors", 0),
    }
    sizes["laghu_rs"] = sizes["model2vec"]
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


def _vs_model2vec(cells: list[dict[str, Any]], name: str, peer: str = "model2vec") -> dict[int, float]:
    return {c["batch_size"]: _rate(c, name) / _rate(c, peer) for c in cells if {name, peer} <= set(c["results"])}


def peer_goals(result: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """Issue 25's speed goals on unseen text (int8, default install, 2 threads or the largest count run).

    WordPiece and other models: ours ≥ laghu (with laghu-rs where it runs) at every batch > 1; byte-level BPE
    (the Qwen family): ≥ 3× model2vec and ≥ 3× laghu.
    """
    quiet = {run["threads"]: run for run in result["runs"] if not run.get("busy_core")}
    if not quiet:
        return []
    run = quiet.get(GOAL_THREADS) or quiet[max(quiet)]
    bpe = result.get("tokenizer_model") == "BPE"
    targets = [("model2vec", 3.0), ("laghu", 3.0)] if bpe else [("laghu_rs", 1.0), ("laghu", 1.0)]
    out: list[tuple[str, bool, str]] = []
    for kind in ("sentences", "passages"):
        cells = [c for c in run["cells"] if c["texts"] == kind and c["batch_size"] > 1 and not c.get("warm")]
        for peer, target in targets:
            ratios = _vs_model2vec(cells, "int8", peer)
            if ratios:
                shown = ", ".join(f"batch {b}: {v:.2f}×" for b, v in ratios.items())
                name = f"int8 ≥ {target:g}× {LABELS[peer]} on unseen {kind}"
                out.append((name, min(ratios.values()) >= target, shown))
    return out


def goals(result: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """Issue 13's goals, judged on the int8 export at 2 threads (or the largest count run), batch > 1 for ratios.

    Byte-level BPE models (``result["tokenizer_model"] == "BPE"``, the Qwen family) are judged against
    ``GOAL_BPE`` without and ``GOAL_BPE_FAST`` with the fast tokenizer; others against ``GOAL_VS_M2V``, with and
    (WordPiece, printable-ASCII texts) without it.
    """
    quiet = {run["threads"]: run for run in result["runs"] if not run.get("busy_core")}
    busy = {run["threads"]: run for run in result["runs"] if run.get("busy_core")}
    bpe = result.get("tokenizer_model") == "BPE"
    out: list[tuple[str, bool, str]] = []
    fast = " with the fast tokenizer"
    checks = [(quiet, "int8", GOAL_BPE if bpe else GOAL_VS_M2V, "")]
    checks += [(quiet, "int8_fast", GOAL_BPE_FAST if bpe else GOAL_VS_M2V, fast)]  # when that contender ran
    checks += [
        (busy, "int8", GOAL_BUSY, " with one core busy"),
        (busy, "int8_fast", GOAL_BUSY, f" with one core busy,{fast}"),
    ]
    for runs, name, target, label in checks:
        if not runs:
            continue
        run = runs.get(GOAL_THREADS) or runs[max(runs)]
        for kind in ("sentences", "passages"):
            cells = [c for c in run["cells"] if c["texts"] == kind and c["batch_size"] > 1 and not c.get("warm")]
            ratios = _vs_model2vec(cells, name)
            if ratios:
                shown = ", ".join(f"batch {b}: {v:.2f}×" for b, v in ratios.items())
                out.append((f"{name} ≥ {target}× model2vec on {kind}{label}", min(ratios.values()) >= target, shown))
    run = quiet.get(GOAL_THREADS) or (quiet[max(quiet)] if quiet else None)
    for cell in run["cells"] if run else []:
        if cell["batch_size"] == 1:
            ours, theirs = (cell["results"][n]["us_per_call"] for n in ("int8", "model2vec"))
            out.append(
                (f"batch-1 latency ≤ model2vec on {cell['texts']}", ours <= theirs, f"{ours:.0f} µs vs {theirs:.0f} µs")
            )
    cold = result.get("cold_start", {})
    if "int8" in cold:
        seconds = cold["int8"]["load_and_first_s"]
        detail = f"{seconds:.3f} s (+ import {cold['int8']['import_s']:.3f} s)"
        out.append(("cold start ≤ 0.3 s (load + first vector)", seconds <= 0.3, detail))
        ours, theirs = cold["int8"]["load_growth"], cold["model2vec"]["load_growth"]
        detail = f"{ours / 1e6:.1f} MB vs model2vec {theirs / 1e6:.1f} MB"
        out.append(("peak RSS growth ≤ 0.5× model2vec's", ours <= 0.5 * theirs, detail))
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
    skipped = {name: why for run in result["runs"] for name, why in run.get("skipped", {}).items()}
    if skipped:
        parts += ["", "Not run:", ""] + [f"- {LABELS.get(n, n)}: {why}" for n, why in skipped.items()]
    agree: dict[str, dict[str, float]] = next(
        (r["max_abs_diff_vs_model2vec"] for r in result["runs"] if r.get("max_abs_diff_vs_model2vec")), {}
    )
    if agree:
        parts += ["", "Largest |difference| from model2vec's vectors (warm-up slice):", ""]
        parts += [
            f"- {kind}: " + ", ".join(f"{LABELS.get(n, n)} {v:.2g}" for n, v in diffs.items())
            for kind, diffs in agree.items()
        ]
    parts += ["", "Goals (int8, 2 threads, unseen text):", ""]
    every = peer_goals(result) + goals(result)
    parts += [f"- {'met' if ok else 'NOT met'}: {name} — {detail}" for name, ok, detail in every]
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
        cells = [c for c in run["cells"] if c["texts"] == kind and not c.get("warm")]
        x = np.arange(len(cells))
        names = [n for n in LABELS if cells and all(n in c["results"] for c in cells)]
        for i, name in enumerate(names):
            width = 0.8 / len(names)
            ax.bar(x + (i - (len(names) - 1) / 2) * width, [_rate(c, name) for c in cells], width, label=LABELS[name])
        ax.set_xticks(x, [f"batch {c['batch_size']}" for c in cells])
        ax.set_yscale("log")
        ax.set_ylabel("texts / s (median)")
        ax.set_title(f"{kind}, {_threads(run)} thread{'s' if run['threads'] > 1 else ''}")
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
