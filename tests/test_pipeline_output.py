"""``export_model(..., pipeline_output=True)`` / ``--pipeline-output``: the ``last_hidden_state`` output that
transformers.js's ``pipeline("feature-extraction")`` mean-pools, and the tokenizer that appends the unknown token.

The vectors (``embeddings``) must be the same bits as the default export's; runtimes request ``embeddings`` only;
validation and checksums hold. (The Node/Chromium side: web/test/transformersjs.test.js.)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from tokenizers import Tokenizer

from m2v_edge import StaticOnnxModel, export_model
from m2v_edge.cli import main
from m2v_edge.contract import (
    ATTENTION_MASK,
    HIDDEN_OUTPUT,
    INPUT_IDS,
    OUTPUT,
    POOLING_SPEC_KEY,
    ExportFiles,
    pooling_nodes,
)
from tests.fixtures import make_tiny_model
from tests.texts import tricky_texts

ZERO_TOKEN_TEXTS = ["", " ", "\n"]


@pytest.fixture(scope="module")
def potion_pipeline(tmp_path_factory: pytest.TempPathFactory, potion_source: Path) -> Path:
    out = tmp_path_factory.mktemp("pipeline") / "potion-pipeline"
    export_model(potion_source, out, pipeline_output=True)
    return out


def transformers_js_mean(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """transformers.js's ``mean_pooling`` (utils/tensor.js): sum over tokens of hidden × mask, / sum of mask."""
    with np.errstate(invalid="ignore"):
        return (hidden.astype(np.float64) * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)


def test_graph_declares_and_holds_the_hidden_output(potion_pipeline: Path) -> None:
    model = onnx.load(str(ExportFiles(potion_pipeline).model))
    assert [o.name for o in model.graph.output] == [OUTPUT, HIDDEN_OUTPUT]
    spec = json.loads({p.key: p.value for p in model.metadata_props}[POOLING_SPEC_KEY])
    assert spec["hidden"] is True
    got = [(n.op_type, list(n.input), n.output[0]) for n in model.graph.node]
    assert got == [(op, inputs, output) for op, inputs, output, _ in pooling_nodes(spec)]
    config = json.loads(ExportFiles(potion_pipeline).config.read_text(encoding="utf-8"))
    assert config["pipeline_output"] is True and config["architectures"] == ["PreTrainedModel"]
    card = ExportFiles(potion_pipeline).card.read_text(encoding="utf-8")
    assert 'pipeline("feature-extraction", "path/to/this/folder")' in card and "gives NaN" in card


def test_embeddings_are_the_default_exports_bits_and_the_pipeline_pools_to_them(
    potion_pipeline: Path, potion_int8: Path
) -> None:
    texts = tricky_texts()
    plain = StaticOnnxModel.from_pretrained(potion_int8)  # loading validates the folder and its checksums
    piped = StaticOnnxModel.from_pretrained(potion_pipeline)
    assert piped.session._outputs == [OUTPUT]  # the Python runtime asks for the vectors only
    assert piped.tokenizer.encode_ids(texts) == plain.tokenizer.encode_ids(texts)  # add_special_tokens=False
    assert np.array_equal(piped.encode(texts), plain.encode(texts))

    # What transformers.js does: the tokenizer's default call (special tokens added), padded, both outputs.
    tokenizer = Tokenizer.from_file(str(ExportFiles(potion_pipeline).tokenizer))
    short = [t for t in texts if len(tokenizer.encode(t).ids) <= 512] + ZERO_TOKEN_TEXTS
    encoded = tokenizer.encode_batch(short)
    width = max(len(e.ids) for e in encoded)
    ids = np.array([e.ids + [0] * (width - len(e.ids)) for e in encoded], dtype=np.int64)
    mask = np.array([[1] * len(e.ids) + [0] * (width - len(e.ids)) for e in encoded], dtype=np.int64)
    unk = plain.tokenizer.unk_token_id
    assert all(e.ids[-1] == unk for e in encoded), "the post-processor appends the unknown token"
    session = ort.InferenceSession(str(ExportFiles(potion_pipeline).model))
    vectors, hidden = session.run([OUTPUT, HIDDEN_OUTPUT], {INPUT_IDS: ids, ATTENTION_MASK: mask})
    assert hidden.shape == (len(short), width, plain.dim)
    assert np.array_equal(vectors, plain.encode(short)), "the appended unknown token changes nothing"
    pooled = transformers_js_mean(hidden, mask.astype(np.float64))
    assert np.abs(pooled - vectors).max() == 0.0
    assert not np.any(vectors[-3:]), "a text with no token is the zero vector"


def test_tokenizer_without_unknown_token_gets_no_post_processor(tmp_path: Path) -> None:
    source = make_tiny_model("bpe", tmp_path / "src")
    out = tmp_path / "out"
    export_model(source, out, pipeline_output=True)
    data = json.loads(ExportFiles(out).tokenizer.read_text(encoding="utf-8"))
    config = json.loads(ExportFiles(out).config.read_text(encoding="utf-8"))
    assert (data["post_processor"] is None) == (config["unk_token_id"] is None)
    model = StaticOnnxModel.from_pretrained(out)
    assert model.encode(ZERO_TOKEN_TEXTS).shape == (3, model.dim)


def test_cli_flag_and_default_off(tmp_path: Path, potion_int8: Path, potion_source: Path) -> None:
    assert json.loads(ExportFiles(potion_int8).config.read_text(encoding="utf-8"))["pipeline_output"] is False
    assert [o.name for o in onnx.load(str(ExportFiles(potion_int8).model)).graph.output] == [OUTPUT]
    assert json.loads(ExportFiles(potion_int8).tokenizer.read_text(encoding="utf-8"))["post_processor"] is None
    assert "Re-export with `m2v-edge export\n--pipeline-output`" in ExportFiles(potion_int8).card.read_text(
        encoding="utf-8"
    )
    out = tmp_path / "cli"
    assert main(["export", str(potion_source), "-o", str(out), "-q", "--pipeline-output"]) == 0
    assert json.loads(ExportFiles(out).config.read_text(encoding="utf-8"))["pipeline_output"] is True
