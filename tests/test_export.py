"""The exported folder: true int8 table, opset, metadata mirror, size, source layouts and dtypes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest
from model2vec import StaticModel
from onnx import numpy_helper
from safetensors.numpy import load_file, save_file

from m2v_edge import StaticOnnxModel, export_model
from m2v_edge.contract import CHECKSUMS_KEY, METADATA_KEY, OPSET, ExportFiles, read_config
from tests.checks import assert_parity, cosines
from tests.conftest import POTION
from tests.texts import parity_texts


def test_int8_table_and_graph(potion_int8, potion_source):
    model = onnx.load(str(ExportFiles(potion_int8).model))
    onnx.checker.check_model(model, full_check=True)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    table, scales = inits["table"], inits["token_scale"]
    assert table.dtype == np.int8 and table.shape == (29528, 256)
    assert scales.dtype == np.float32 and scales.shape == (29528,)
    source = load_file(str(potion_source / "model.safetensors"))["embeddings"]
    row_max = np.abs(source).max(axis=1)
    assert np.allclose(scales, row_max / 127, rtol=1e-6)
    assert np.abs(table).max() == 127
    assert np.abs(table.astype(np.float32) * scales[:, None] - source).max() <= scales.max() / 2 + 1e-6
    assert model.opset_import[0].version == OPSET
    assert [i.name for i in model.graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in model.graph.output] == ["embeddings"]


def test_size_budget(potion_int8, potion_source):
    ratio = ExportFiles(potion_int8).model.stat().st_size / (potion_source / "model.safetensors").stat().st_size
    assert ratio <= 0.26


def test_config_mirrored_in_metadata(potion_int8):
    config = read_config(potion_int8)
    checksums = config.pop(CHECKSUMS_KEY)  # of the files, the graph included: written after it, not in it
    assert ExportFiles(potion_int8).model_name in checksums
    props = {p.key: p.value for p in onnx.load(str(ExportFiles(potion_int8).model)).metadata_props}
    assert json.loads(props[METADATA_KEY]) == config
    for key, value in config.items():
        assert json.loads(props[key]) == value
    assert config["median_token_length"] == StaticModel.from_pretrained(POTION).median_token_length
    tok = json.loads((potion_int8 / "tokenizer.json").read_text(encoding="utf-8"))
    assert tok["padding"] is None and tok["truncation"] is None
    assert "potion-base-8M" in (potion_int8 / "README.md").read_text(encoding="utf-8")


def _sentence_transformers_layout(src, dst, nested: bool):
    inner = dst / "0_StaticEmbedding" if nested else dst
    inner.mkdir(parents=True)
    tensors = load_file(str(src / "model.safetensors"))
    save_file({"embedding.weight": tensors["embeddings"]}, str(inner / "model.safetensors"))
    shutil.copy(src / "tokenizer.json", inner / "tokenizer.json")
    (dst / "config_sentence_transformers.json").write_text("{}", encoding="utf-8")


@pytest.mark.parametrize("nested", [False, True])
def test_sentence_transformers_layouts(tmp_path, nested):
    from tests.fixtures import make_tiny_model

    src = make_tiny_model("wordpiece", tmp_path / "src", normalize=False)
    st = tmp_path / "st"
    _sentence_transformers_layout(src, st, nested)
    texts = parity_texts(200)
    expected = StaticModel.from_pretrained(st).encode(texts)
    out = export_model(st, tmp_path / "out", dtype="float32", isotropy="none").output  # model2vec's vectors
    got = StaticOnnxModel.from_pretrained(out).encode(texts)
    assert_parity(got, expected)


@pytest.mark.parametrize("dtype", ["float16", "float64", "int8"])
def test_source_table_dtypes(tmp_path, dtype):
    from tests.fixtures import make_tiny_model

    src = make_tiny_model("bpe", tmp_path / "src")
    tensors = load_file(str(src / "model.safetensors"))
    table = tensors["embeddings"]
    if dtype == "int8":
        table = np.clip(np.rint(table / np.abs(table).max() * 127), -127, 127)
    tensors["embeddings"] = table.astype(dtype)
    save_file(tensors, str(src / "model.safetensors"))
    texts = parity_texts(200)
    expected = StaticModel.from_pretrained(src).encode(texts).astype(np.float32)
    for kind in ("float32", "int8"):
        out = export_model(src, tmp_path / kind, dtype=kind, isotropy="none").output  # model2vec's vectors
        got = StaticOnnxModel.from_pretrained(out).encode(texts)
        if kind == "int8" and dtype != "int8":
            assert cosines(expected, got).min() >= 0.999, dtype
        elif dtype == "float16":  # model2vec returns float16 vectors for a float16 table
            assert np.abs(got - expected).max() <= 2e-3
        else:
            assert_parity(got, expected)


def test_python_dash_m(tmp_path, potion_int8):
    result = subprocess.run(
        [sys.executable, "-m", "m2v_edge", "info", str(potion_int8)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.splitlines()[0].split() == ["dims", "256"]
    result = subprocess.run(
        [sys.executable, "-m", "m2v_edge", "info", str(tmp_path / "none")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
