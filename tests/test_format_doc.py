"""docs/format.md's pooling formula, evaluated line by line in numpy, against the exported graph.

Each documented line (comments in parentheses dropped) must equal a key of ``FORMULA``, in order; its value is
the same line in numpy. So the doc cannot drift from the graph without this test failing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from m2v_edge import export_model
from m2v_edge.contract import ATTENTION_MASK, INPUT_IDS, OUTPUT, ExportFiles
from tests.fixtures import make_tiny_model

DOC = Path(__file__).resolve().parents[1] / "docs" / "format.md"
Env = dict[str, Any]

FORMULA: dict[str, Callable[[Env], np.ndarray]] = {
    "mask = float(attention_mask) * token_keep[input_ids]": lambda e: (
        e["attention_mask"].astype(np.float32) * e["token_keep"][e["input_ids"]]
    ),
    "count = max(sum_t mask, 1)": lambda e: np.maximum(e["mask"].sum(axis=1, keepdims=True), 1.0),
    "weight = mask * token_scale[input_ids]": lambda e: e["mask"] * e["token_scale"][e["input_ids"]],
    "rows = row_map[input_ids]": lambda e: e["row_map"][e["input_ids"]],
    "summed = MatMul(weight[:, None, :], float(table[rows]))[:, 0, :]": lambda e: np.matmul(
        e["weight"][:, None, :], e["table"][e["rows"]].astype(np.float32)
    )[:, 0, :],
    "mean = summed / count": lambda e: e["summed"] / e["count"],
    "output = mean / (||mean||_2 + 1e-32)": lambda e: (
        e["mean"] / (np.linalg.norm(e["mean"], axis=1, keepdims=True) + np.float32(1e-32))
    ),
}


def _documented_lines() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"## Graph\n.*?```\n(.*?)```", text, flags=re.S)
    assert block, "docs/format.md has no code block under '## Graph'"
    lines = []
    for raw in block.group(1).splitlines():
        line = re.sub(r"\s{2,}\(.*\)\s*$", "", raw)  # the right-hand comment in parentheses
        lines.append(re.sub(r"\s+", " ", line).strip())
    return [line for line in lines if line]


def test_doc_lists_exactly_the_tested_formula() -> None:
    assert _documented_lines() == list(FORMULA)


@pytest.mark.parametrize("normalize", [True, False])
def test_documented_formula_equals_the_graph(tmp_path: Path, normalize: bool) -> None:
    # weights and mapping (token_scale, row_map), vocabulary-pruned (token_keep), int8: every term is used
    source = make_tiny_model("quantized", tmp_path / "src", normalize=normalize)
    export_model(source, tmp_path / "out", dtype="int8", vocab_size=150)
    model_file = ExportFiles(tmp_path / "out").model
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(model_file)).graph.initializer}
    assert {"table", "token_scale", "row_map", "token_keep"} <= set(inits), "the fixture must use every term"
    vocab = len(inits["token_scale"])
    rng = np.random.default_rng(0)
    ids = rng.integers(0, vocab, size=(5, 9), dtype=np.int64)
    mask = np.ones_like(ids)
    mask[1, 4:] = 0  # padding
    mask[2, :] = 0  # all padding: zero vector
    ids[3, :] = np.flatnonzero(inits["token_keep"] == 0)[:9]  # all pruned: zero vector
    env: Env = {**inits, INPUT_IDS: ids, ATTENTION_MASK: mask}
    for line, evaluate in FORMULA.items():
        env[line.split(" = ")[0]] = evaluate(env)
    session = ort.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
    (got,) = session.run([OUTPUT], {INPUT_IDS: ids, ATTENTION_MASK: mask})
    np.testing.assert_allclose(got, env["output"] if normalize else env["mean"], rtol=1e-5, atol=1e-6)
    assert not got[2].any() and not got[3].any()
    assert np.abs(got).sum() > 0
