"""Write an evaluation report: JSON, a Markdown table, and a PNG bar chart (model vs reference)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from m2v_edge.eval.metrics import HEADLINE, metric_kind


def _rows(report: dict[str, Any]) -> list[tuple[str, str, float, float | None]]:
    """(dimension, metric, model value, reference value or None), STS-B last."""
    reference = report.get("reference")
    rows = []
    for dim, values in report["dimensions"].items():
        for metric, value in values.items():
            ref = reference["dimensions"].get(dim, {}).get(metric) if reference else None
            rows.append((dim, metric, value, ref))
    ref_sts = reference["sts_benchmark"]["spearman"] if reference else None
    rows.append(("sts_benchmark", "spearman (x100)", report["sts_benchmark"]["spearman"], ref_sts))
    for metric, value in report.get("anisotropy", {}).items():
        ref = reference.get("anisotropy", {}).get(metric) if reference else None
        rows.append(("anisotropy", metric, value, ref))
    return rows


def to_markdown(report: dict[str, Any]) -> str:
    """Render a GitHub Markdown table: one row per metric, with its kind (see :func:`metric_kind`)."""
    reference = report.get("reference")
    if reference:
        lines = [
            f"model: `{report['model']}` · reference: `{reference['model']}` · delta = model - reference",
            "",
            "| dimension | metric | kind | model | reference | delta |",
            "|---|---|---|---:|---:|---:|",
        ]
    else:
        lines = [f"model: `{report['model']}`", "", "| dimension | metric | kind | value |", "|---|---|---|---:|"]
    for dim, metric, value, ref in _rows(report):
        kind = metric_kind(metric)
        if reference:
            delta = "" if ref is None else f"{value - ref:+.4f}"
            shown = "" if ref is None else f"{ref:.4f}"
            lines.append(f"| {dim} | {metric} | {kind} | {value:.4f} | {shown} | {delta} |")
        else:
            lines.append(f"| {dim} | {metric} | {kind} | {value:.4f} |")
    for run in (report, reference or {}):
        lines += [f"\nwarning ({run['model']}): {text}" for text in run.get("warnings", [])]
    return "\n".join(lines)


def _clean(value: Any) -> Any:
    """NaN/inf (never expected, but not valid JSON) become null."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(report: dict[str, Any], path: str | Path) -> Path:
    """Write the report as indented UTF-8 JSON.

    :raises FileNotFoundError: if the folder of ``path`` does not exist.
    """
    out = Path(path)
    check_output(out)
    out.write_text(json.dumps(_clean(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def check_output(path: str | Path) -> None:
    """Fail early on an output path that cannot be written.

    :raises FileNotFoundError: if its folder does not exist.
    :raises ValueError: if it is a folder.
    """
    out = Path(path)
    if out.is_dir():
        raise ValueError(f"{out}: is a folder; give a file name such as {out / 'report.json'}")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"{out.parent}: output folder does not exist; create it or pick another path")


def plot(report: dict[str, Any], path: str | Path) -> Path:
    """Draw a bar chart per dimension, model next to reference.

    Left panel: the card's mean cosine; right panel: the discriminative headline metric (STS-B Spearman / 100).

    :raises FileNotFoundError: if the folder of ``path`` does not exist.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out = Path(path)
    check_output(out)
    runs = [report] + ([report["reference"]] if report.get("reference") else [])
    dims = [d for d in HEADLINE if d in report["dimensions"]]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), constrained_layout=True)
    panels = [
        ("card metric: mean cosine of positive pairs", [(d, HEADLINE[d][0]) for d in dims], False),
        ("discriminative metric (dashed: chance level)", [(d, HEADLINE[d][1]) for d in dims], True),
    ]
    width = 0.8 / len(runs)
    for ax, (title, cells, with_sts) in zip(axes, panels, strict=True):
        labels = [f"{d}\n{m}" for d, m in cells] + (["sts_benchmark\nspearman/100"] if with_sts else [])
        x = np.arange(len(labels))
        for i, run in enumerate(runs):
            values = [run["dimensions"][d][m] for d, m in cells]
            if with_sts:
                values.append(run["sts_benchmark"]["spearman"] / 100)
            bars = ax.bar(
                x + (i - (len(runs) - 1) / 2) * width, values, width, label=Path(run["model"]).name or run["model"]
            )
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
        chance = [run["dimensions"][d].get(f"chance_{m}") for d, m in cells]
        marked = [(i, c) for i, c in enumerate(chance) if c is not None]
        if marked:
            spots, levels = zip(*marked, strict=True)
            ax.hlines(levels, np.array(spots) - 0.45, np.array(spots) + 0.45, colors="black", linestyles="dashed")
            ax.plot([], [], "k--", label="chance")
        ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=8)
        ax.set_ylim(min(0.0, ax.get_ylim()[0]), 1.05)
        ax.set_title(title, fontsize=10)
        ax.axhline(0, color="black", linewidth=0.5)
    axes[0].legend(fontsize=8, loc="lower left")
    axes[1].legend(fontsize=8, loc="upper left")
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
