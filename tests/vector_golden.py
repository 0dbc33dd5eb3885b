"""The golden ``.m2vec`` files that ``web/test/vectorfile.test.js`` reads: Python writes, Node reads.

Regenerate with ``.venv/bin/python -m tests.vector_golden`` (``tests/test_vectorfile.py`` checks the committed
files are byte for byte what this writes). Vectors come from a formula, so they are the same on every machine.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from m2v_edge.corpus.vectorfile import VectorFile, write_vector_file

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "web" / "test" / "data"
CONFIG = '{"dim": 24, "format_version": 1, "note": "golden vector file test config"}\n'
COUNT, DIM, TOP_K = 50, 24, 5


def golden_vectors() -> tuple[np.ndarray, np.ndarray]:
    """``(documents [50, 24], queries [3, 24])``: smooth formulas, a few zero and near-duplicate rows."""
    i = np.arange(COUNT + 3, dtype=np.float64)[:, None]
    j = np.arange(DIM, dtype=np.float64)[None, :]
    x = np.sin(0.7 * i * (j + 1) + 0.3 * j) + 0.5 * np.cos(1.3 * i + 0.11 * j * j)
    x[7] = 0.0  # an empty text's vector
    x = x.astype(np.float32)
    return x[:COUNT], x[COUNT:]


def write_golden(folder: Path = GOLDEN) -> dict[str, object]:
    """Write ``golden-int8.m2vec``, ``golden-float16.m2vec`` and ``golden.json`` (queries and Python's hits)."""
    folder.mkdir(parents=True, exist_ok=True)
    docs, queries = golden_vectors()
    fingerprint = hashlib.sha256(CONFIG.encode("utf-8")).digest()
    expected: dict[str, object] = {
        "config": CONFIG,
        "fingerprint": fingerprint.hex(),
        "count": COUNT,
        "dim": DIM,
        "top_k": TOP_K,
        "queries": queries.tolist(),
    }
    for dtype in ("int8", "float16"):
        path = write_vector_file(folder / f"golden-{dtype}.m2vec", docs, fingerprint, dtype)
        vf = VectorFile(path, expect_fingerprint=fingerprint)
        hits = vf.search(queries, top_k=TOP_K)
        expected[dtype] = {
            "hits": [[{"index": h.index, "score": round(h.score, 6)} for h in row] for row in hits],
            "row3": [round(v, 7) for v in vf.vectors(3, 4)[0].tolist()],
        }
    (folder / "golden.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")
    return expected


if __name__ == "__main__":
    write_golden()
    print(f"wrote {GOLDEN}")
