"""The exported model answers like model2vec 0.10 ``StaticModel.encode``."""

from __future__ import annotations

import numpy as np
import pytest
from model2vec import StaticModel

from m2v_edge import StaticOnnxModel, export_model
from m2v_edge.eval.metrics import sts_benchmark
from m2v_edge.runtime.reference import ReferenceModel
from m2v_edge.source.datasets import load_stsb
from m2v_edge.source.folder import load_source
from tests.checks import assert_parity, cosines
from tests.texts import parity_texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return parity_texts()


@pytest.fixture(scope="module")
def potion_expected(potion_source, texts) -> np.ndarray:
    return StaticModel.from_pretrained(potion_source).encode(texts)


def test_potion_fp32_equals_model2vec(potion_fp32, potion_expected, texts):
    got = StaticOnnxModel.from_pretrained(potion_fp32).encode(texts)
    assert got.dtype == np.float32 and got.shape == potion_expected.shape
    assert np.abs(got - potion_expected).max() <= 1e-5


def test_potion_int8_cosine(potion_int8, potion_expected, texts):
    got = StaticOnnxModel.from_pretrained(potion_int8).encode(texts)
    cos = cosines(potion_expected, got)
    assert cos.min() >= 0.99 and cos.mean() >= 0.999
    zero = np.linalg.norm(potion_expected, axis=1) == 0
    assert zero.any(), "the corpus has empty/whitespace texts"
    assert np.all(got[zero] == 0) and np.isfinite(got).all()


def test_potion_int8_stsb_spearman(potion_source, potion_int8):
    pairs = load_stsb()
    ref = sts_benchmark(StaticModel.from_pretrained(potion_source).encode, pairs)["spearman"]
    ours = sts_benchmark(StaticOnnxModel.from_pretrained(potion_int8).encode, pairs)["spearman"]
    assert 74.5 < ref < 76.5
    assert abs(ours - ref) <= 0.3


def test_tiny_fp32_and_int8_equal_model2vec(tiny_source, tmp_path, texts):
    """``--isotropy none``: model2vec's vectors on purpose (the default ``auto`` maps most tiny random tables)."""
    expected = StaticModel.from_pretrained(tiny_source).encode(texts)
    fp32 = export_model(tiny_source, tmp_path / "fp32", dtype="float32", isotropy="none").output
    assert_parity(StaticOnnxModel.from_pretrained(fp32).encode(texts), expected)
    int8 = export_model(tiny_source, tmp_path / "int8", dtype="int8", isotropy="none").output
    cos = cosines(expected, StaticOnnxModel.from_pretrained(int8).encode(texts))
    assert cos.min() >= 0.99 and cos.mean() >= 0.999


def test_tiny_reference_equals_model2vec(tiny_source, texts):
    expected = StaticModel.from_pretrained(tiny_source).encode(texts)
    assert_parity(ReferenceModel(load_source(tiny_source)).encode(texts), expected)


def test_token_ids_equal_model2vec(tiny_source, texts):
    m2v = StaticModel.from_pretrained(tiny_source)
    ours = ReferenceModel(load_source(tiny_source)).tokenizer
    limit = m2v.max_length * m2v.median_token_length
    expected = m2v.tokenize([t[:limit] for t in texts])
    assert ours.encode_ids(texts) == expected
    assert ours.median_token_length == m2v.median_token_length and ours.unk_token_id == m2v.unk_token_id


def test_float16_export_close(potion_source, potion_expected, texts, tmp_path):
    out = export_model(potion_source, tmp_path / "fp16", dtype="float16").output
    got = StaticOnnxModel.from_pretrained(out).encode(texts)
    assert np.abs(got - potion_expected).max() <= 2e-3
    assert cosines(potion_expected, got).min() >= 0.9999


def test_single_string_batching_and_max_length(potion_fp32, potion_source, texts):
    model = StaticOnnxModel.from_pretrained(potion_fp32, threads=1)
    one = model.encode("How do I train a neural network?")
    assert one.shape == (model.dim,)
    assert np.allclose(model.encode(texts, batch_size=1), model.encode(texts, batch_size=1000), atol=1e-6)
    long = [" ".join(["neural network"] * 600)]
    m2v = StaticModel.from_pretrained(potion_source)
    for limit in (None, 8):
        assert np.abs(model.encode(long, max_length=limit) - m2v.encode(long, max_length=limit)).max() <= 1e-5
    assert model.encode([]).shape == (0, model.dim)


def test_search_and_similarity(potion_int8):
    model = StaticOnnxModel.from_pretrained(potion_int8)
    docs = ["Neural network training tutorial and guide", "Neural networks in biology", "Machine learning frameworks"]
    hits = model.search("How do I train a neural network?", docs, top_k=2)
    assert [h.document for h in hits] == [docs[0], docs[1]]
    assert hits[0].score > hits[1].score
    assert model.similarity("cat", "cat") == pytest.approx(1.0, abs=1e-5)
    assert model.similarity(["a cat", "a dog"], docs).shape == (2, 3)
