"""Interop: the graph drops unknown tokens, the Hugging Face layout, old (format 1) exports, the model card."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from model2vec import StaticModel
from tokenizers import Tokenizer

from m2v_edge import StaticOnnxModel, export_model
from m2v_edge.cli import main
from m2v_edge.contract import FORMAT_VERSION, ExportFiles, read_config
from tests.checks import assert_parity
from tests.conftest import ROOT
from tests.fixtures import make_tiny_model

V1_FIXTURE = ROOT / "tests" / "data" / "v1-wordpiece"
# Characters the tiny WordPiece vocabulary (and potion's) lacks: they become [UNK].
UNK_TEXTS = [
    "Neural networks 🚀 learn ☃ fast",
    "日本語のテキスト and English words",
    "plain text without surprises",
    "🚀🔥",
    "",
]


@pytest.fixture(scope="module")
def wordpiece_source(tmp_path_factory: pytest.TempPathFactory):
    return make_tiny_model("wordpiece", tmp_path_factory.mktemp("wp") / "tiny-wordpiece")


@pytest.fixture(scope="module")
def wordpiece_fp32(wordpiece_source, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("wp-export") / "wp-fp32"
    export_model(wordpiece_source, out, dtype="float32", isotropy="none")  # compared with model2vec
    return out


def _raw_run(folder, texts: list[str]) -> np.ndarray:
    """What a raw caller does: the exported tokenizer's default encode (no options), padded, straight into ORT."""
    files = ExportFiles(folder)
    tokenizer = Tokenizer.from_file(str(files.tokenizer))
    ids = [enc.ids for enc in tokenizer.encode_batch(texts)]
    width = max(1, *map(len, ids))
    input_ids = np.zeros((len(ids), width), dtype=np.int64)
    mask = np.zeros_like(input_ids)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    session = ort.InferenceSession(str(files.model), providers=["CPUExecutionProvider"])
    return session.run(["embeddings"], {"input_ids": input_ids, "attention_mask": mask})[0]


def test_raw_tokenizer_ids_give_model2vec_vectors(wordpiece_source, wordpiece_fp32):
    config = read_config(wordpiece_fp32)
    raw = Tokenizer.from_file(str(ExportFiles(wordpiece_fp32).tokenizer)).encode_batch(UNK_TEXTS)
    assert sum(enc.ids.count(config["unk_token_id"]) for enc in raw) >= 3, "the texts must contain unknown tokens"
    assert all("[CLS]" not in enc.tokens for enc in raw), "no post-processor: no special tokens by default"
    expected = StaticModel.from_pretrained(wordpiece_source).encode(UNK_TEXTS)
    assert_parity(_raw_run(wordpiece_fp32, UNK_TEXTS), expected)
    # a source without tokenizer_config.json gets one transformers.js can load
    tok_config = json.loads(ExportFiles(wordpiece_fp32).tokenizer_config.read_text(encoding="utf-8"))
    assert not (wordpiece_source / "tokenizer_config.json").exists()
    assert tok_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert (tok_config["unk_token"], tok_config["pad_token"]) == ("[UNK]", "[PAD]")
    assert_parity(StaticOnnxModel.from_pretrained(wordpiece_fp32).encode(UNK_TEXTS), expected)


def test_hf_layout_files(potion_int8):
    files = ExportFiles(potion_int8)
    config = read_config(potion_int8)
    assert config["format_version"] == FORMAT_VERSION == 2
    assert files.model_name == config["model_file"] == "onnx/model_quantized.onnx" and files.model.is_file()
    assert config["transformers.js_config"] == {"dtype": "q8"}
    assert not (potion_int8 / "model.onnx").exists()
    tok_config = json.loads(files.tokenizer_config.read_text(encoding="utf-8"))
    assert tok_config["tokenizer_class"] == "BertTokenizer" and tok_config["model_max_length"] == 512
    assert tok_config["unk_token"] == "[UNK]" and tok_config["pad_token"] == "[PAD]"
    special = json.loads(files.special_tokens_map.read_text(encoding="utf-8"))
    assert special["unk_token"] == "[UNK]" and special["pad_token"] == "[PAD]"
    ops = {node.op_type for node in onnx.load(str(files.model)).graph.node}
    assert {"Equal", "Not"} <= ops  # the unknown token is dropped inside the graph


@pytest.mark.parametrize(
    ("dtype", "layout", "name", "js_dtype"),
    [("float16", "hf", "onnx/model_fp16.onnx", "fp16"), ("float32", "flat", "model.onnx", None)],
)
def test_layouts_and_dtypes(wordpiece_source, tmp_path, dtype, layout, name, js_dtype):
    out = tmp_path / "out"
    report = export_model(wordpiece_source, out, dtype=dtype, layout=layout, isotropy="none")
    config = read_config(out)
    assert report.model_file == config["model_file"] == name and (out / name).is_file()
    assert report.model_bytes == (out / name).stat().st_size
    assert config.get("transformers.js_config", {}).get("dtype") == js_dtype
    expected = StaticModel.from_pretrained(wordpiece_source).encode(UNK_TEXTS)
    got = StaticOnnxModel.from_pretrained(out).encode(UNK_TEXTS)
    assert np.abs(got - expected).max() <= (2e-3 if dtype == "float16" else 1e-5)


def test_unknown_layout_is_refused(wordpiece_source, tmp_path):
    with pytest.raises(ValueError, match="layout 'tree' is not supported; choose one of: hf, flat"):
        export_model(wordpiece_source, tmp_path / "out", layout="tree")
    assert not (tmp_path / "out").exists()


def test_format_1_export_still_loads():
    """The frozen export of the format-1 code (flat layout, unknown tokens kept in the graph)."""
    export = V1_FIXTURE / "export"
    config = read_config(export)
    assert config["format_version"] == 1 and "model_file" not in config
    assert ExportFiles(export).model == export / "model.onnx"
    ops = {node.op_type for node in onnx.load(str(export / "model.onnx")).graph.node}
    assert "Equal" not in ops  # format 1: the runtime, not the graph, drops unknown tokens
    expected = StaticModel.from_pretrained(V1_FIXTURE / "source").encode(UNK_TEXTS)
    got = StaticOnnxModel.from_pretrained(export).encode(UNK_TEXTS)
    assert np.abs(got - expected).max() <= 0.02  # int8 table
    assert (got * expected).sum(axis=1)[:-1].min() >= 0.999 and not got[-1].any()


def test_model_file_outside_the_folder_is_refused(wordpiece_fp32, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(wordpiece_fp32, broken)
    config = json.loads((broken / "config.json").read_text(encoding="utf-8"))
    config["model_file"] = "../elsewhere.onnx"
    (broken / "config.json").write_text(json.dumps(config), encoding="utf-8")
    expected = r'model_file "\.\./elsewhere\.onnx" has an empty, \. or \.\. segment; it must be a plain relative path'
    with pytest.raises(ValueError, match=expected):
        StaticOnnxModel.from_pretrained(broken)


def test_model_card_metadata(potion_int8, wordpiece_fp32):
    card = (potion_int8 / "README.md").read_text(encoding="utf-8")
    front = card.split("---\n")[1].splitlines()
    # base_model is a Hub id: the vendored folder's own card loads "minishlab/potion-base-8M"; a local folder whose
    # card names no id gets no base_model (a folder name would be a broken Hub link)
    assert not any(line.startswith("base_model:") for line in (wordpiece_fp32 / "README.md").read_text().splitlines())
    for line in ("license: mit", "base_model: minishlab/potion-base-8M", "pipeline_tag: feature-extraction"):
        assert line in front
    assert "library_name: m2v-edge" in front and "- transformers.js" in front and "- int8" in front
    for snippet in ("from m2v_edge import StaticOnnxModel", 'from "m2v-edge"', "@huggingface/transformers", "Ort"):
        assert snippet in card


def test_cli_layout_flag_and_info(wordpiece_source, tmp_path, capsys):
    out = tmp_path / "flat"
    assert main(["export", str(wordpiece_source), "-o", str(out), "--layout", "flat", "-q"]) == 0
    assert (out / "model.onnx").is_file() and not (out / "onnx").exists()
    assert main(["info", str(out)]) == 0
    assert "file model.onnx" in capsys.readouterr().out
