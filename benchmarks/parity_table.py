"""Print the README's size/parity table: each export of a model vs model2vec 0.10, measured here.

Usage: python benchmarks/parity_table.py [SOURCE] (default: models/potion-base-8M)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from model2vec import StaticModel
from scipy.stats import spearmanr

from m2v_edge import StaticOnnxModel, export_model

ROOT = Path(__file__).resolve().parents[1]
STSB = ROOT / "src" / "m2v_edge" / "eval" / "data" / "stsb" / "sts-test.csv"


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "models" / "potion-base-8M"
    rows = [line.split("\t") for line in STSB.read_text(encoding="utf-8").splitlines()]
    first, second, gold = [r[5] for r in rows], [r[6] for r in rows], [float(r[4]) for r in rows]
    texts = first + second

    def stsb(model: object) -> tuple[float, np.ndarray]:
        vectors = model.encode(texts)  # type: ignore[attr-defined]
        a, b = vectors[: len(first)], vectors[len(first) :]
        cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-32)
        return 100 * float(spearmanr(cos, gold).statistic), vectors

    ref_score, expected = stsb(StaticModel.from_pretrained(source))
    src_bytes = sum(p.stat().st_size for p in source.glob("*.safetensors"))
    print(f"source: {source.name}, model.safetensors {src_bytes / 1e6:.2f} MB, STS-B test Spearman {ref_score:.2f}")
    print(f"texts: {len(texts)} STS-B test sentences\n")
    print("| export | model.onnx | vs source file | max abs diff | min cosine | mean cosine | STS-B Spearman |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for dtype in ("int8", "float16", "float32"):
            out = export_model(source, Path(tmp) / dtype, dtype=dtype).output
            score, got = stsb(StaticOnnxModel.from_pretrained(out))
            cos = np.sum(expected * got, axis=1) / (
                np.linalg.norm(expected, axis=1) * np.linalg.norm(got, axis=1) + 1e-32
            )
            size = (out / "model.onnx").stat().st_size
            print(
                f"| {dtype} | {size / 1e6:.2f} MB | {size / src_bytes:.1%} | {np.abs(got - expected).max():.1e} "
                f"| {cos.min():.5f} | {cos.mean():.6f} | {score:.2f} ({score - ref_score:+.2f}) |"
            )


if __name__ == "__main__":
    main()
