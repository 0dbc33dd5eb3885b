"""Print the README's size/parity table: each export of a model vs model2vec 0.10, measured here.

Usage: python -m m2v_edge.bench.studies.parity_table [SOURCE] (default: models/potion-base-8M)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from m2v_edge.bench.studies import repo_root, study_parser
from m2v_edge.contract import ExportFiles
from m2v_edge.eval.metrics import sts_benchmark
from m2v_edge.runtime.similarity import row_cosine
from m2v_edge.source.datasets import load_stsb

ROOT = repo_root()


def main(argv: list[str] | None = None) -> int:
    parser = study_parser(__file__, __doc__)
    default = ROOT / "models" / "potion-base-8M"
    parser.add_argument("source", type=Path, nargs="?", default=default, help="Model2Vec source folder")
    source = parser.parse_args(argv).source
    from model2vec import StaticModel

    from m2v_edge.export.exporter import export_model
    from m2v_edge.runtime.model import StaticOnnxModel

    pairs = load_stsb()
    texts = [p.text1 for p in pairs] + [p.text2 for p in pairs]

    def stsb(model: object) -> tuple[float, np.ndarray]:
        """The eval harness's STS-B Spearman, and the model's vectors of every STS-B sentence."""
        encode = model.encode  # type: ignore[attr-defined]
        return sts_benchmark(encode, pairs)["spearman"], encode(texts)

    ref_score, expected = stsb(StaticModel.from_pretrained(source))
    src_bytes = sum(p.stat().st_size for p in source.glob("*.safetensors"))
    print(f"source: {source.name}, model.safetensors {src_bytes / 1e6:.2f} MB, STS-B test Spearman {ref_score:.2f}")
    print(f"texts: {len(texts)} STS-B test sentences\n")
    print("| export | model.onnx | vs source file | max abs diff | min cosine | mean cosine | STS-B Spearman |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for dtype in ("int8", "float16", "float32"):
            out = export_model(source, Path(tmp) / dtype, dtype=dtype, isotropy="none").output  # model2vec's vectors
            score, got = stsb(StaticOnnxModel.from_pretrained(out))
            cos = row_cosine(expected, got)
            size = ExportFiles(out).model.stat().st_size
            print(
                f"| {dtype} | {size / 1e6:.2f} MB | {size / src_bytes:.1%} | {np.abs(got - expected).max():.1e} "
                f"| {cos.min():.5f} | {cos.mean():.6f} | {score:.2f} ({score - ref_score:+.2f}) |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
