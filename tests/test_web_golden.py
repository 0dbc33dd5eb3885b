"""The golden JSON files the JavaScript tests compare against (written by scripts/make_web_fixtures.py).

Checks their provenance: they must equal a fresh Python encode of the shared tricky corpus, and for
potion-base-8M the vectors must agree with model2vec itself. Skipped when the fixtures were not generated.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from m2v_edge import StaticOnnxModel
from m2v_edge.contract import ExportFiles
from tests.conftest import POTION, ROOT

FIXTURES = Path(os.environ.get("M2V_WEB_FIXTURES", ROOT / "web" / ".fixtures"))
TRICKY = ROOT / "tests" / "data" / "tricky_texts.json"
MODELS = (
    "potion-int8", "qwen-1024-int8", "unigram-int8", "unigram-dim20-int8", "potion-hf", "wordpiece-hf",
    "wordpiece-fp16-hf", "qwen-m2v-iso-int8",  # the last needs ../shared
)  # fmt: skip


def _golden(name: str) -> tuple[Path, dict]:
    folder, file = FIXTURES / name, FIXTURES / "golden" / f"{name}.json"
    if not ExportFiles(folder).is_export() or not file.is_file():
        pytest.skip(
            f"{file} not generated; run `.venv/bin/python scripts/make_web_fixtures.py` (scripts/test-web.sh does)"
        )
    return folder, json.loads(file.read_text(encoding="utf-8"))


def test_tricky_corpus_covers_the_hard_cases() -> None:
    texts = json.loads(TRICKY.read_text(encoding="utf-8"))
    assert all(isinstance(t, str) for t in texts)
    assert "" in texts and any(t and not t.strip() for t in texts)
    assert any("\u200d" in t for t in texts), "ZWJ emoji sequence"
    assert any("<|im_start|>" in t for t in texts) and any("[CLS]" in t for t in texts)
    assert any(len(t) > 512 * 6 for t in texts), "a text longer than the pre-cut"
    assert any(len(t) != len(t.encode("utf-16-le")) // 2 for t in texts), "astral code points"


@pytest.mark.parametrize("name", MODELS)
def test_golden_matches_a_fresh_python_encode(name: str) -> None:
    folder, golden = _golden(name)
    texts = json.loads(TRICKY.read_text(encoding="utf-8"))
    assert golden["texts_sha256"] == hashlib.sha256(TRICKY.read_bytes()).hexdigest(), (
        "tricky_texts.json changed since the golden files were written; rerun scripts/make_web_fixtures.py"
    )
    model = StaticOnnxModel.from_pretrained(folder)
    assert golden["dim"] == model.dim
    assert golden["ids"] == model.tokenizer.encode_ids(texts)
    expected = np.asarray(golden["vectors"], dtype=np.float32)
    assert expected.shape == (len(texts), model.dim)
    np.testing.assert_allclose(model.encode(texts), expected, rtol=0, atol=1e-6)


def test_potion_golden_agrees_with_model2vec() -> None:
    from model2vec import StaticModel

    _, golden = _golden("potion-int8")
    texts = json.loads(TRICKY.read_text(encoding="utf-8"))
    reference = StaticModel.from_pretrained(str(POTION)).encode(texts)
    vectors = np.asarray(golden["vectors"], dtype=np.float32)
    norms = np.linalg.norm(reference, axis=1)
    assert np.array_equal(norms > 0, np.linalg.norm(vectors, axis=1) > 0), "zero vectors for the same texts"
    nonzero = norms > 0
    cosine = np.sum(reference[nonzero] * vectors[nonzero], axis=1) / (
        norms[nonzero] * np.linalg.norm(vectors[nonzero], axis=1)
    )
    assert cosine.min() > 0.99, f"int8 golden vectors drift from model2vec (min cosine {cosine.min():.4f})"


def test_potion_model_ort_matches_the_golden_vectors() -> None:
    # The potion fixture is exported with target="mobile"; the JS tests load its model.ort in onnxruntime-web
    # and compare with these golden vectors (from model.onnx), so Python ORT must agree on model.ort too.
    folder, golden = _golden("potion-int8")
    assert (folder / "model.ort").is_file(), f"{folder}/model.ort missing; rerun scripts/make_web_fixtures.py"
    texts = json.loads(TRICKY.read_text(encoding="utf-8"))
    vectors = StaticOnnxModel.from_pretrained(folder, use_ort_format=True).encode(texts)
    assert np.abs(vectors).max() > 0
    np.testing.assert_allclose(vectors, np.asarray(golden["vectors"], dtype=np.float32), rtol=0, atol=1e-6)
