"""The real Qwen-family Model2Vec model (../shared): parity with model2vec, the demo, a size budget."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from m2v_edge import StaticOnnxModel
from m2v_edge.contract import ExportFiles, read_config
from m2v_edge.demo.backend import DemoBackend
from m2v_edge.demo.cache import cache_folder, open_models
from m2v_edge.eval.runner import evaluate
from m2v_edge.export.exporter import export_model
from m2v_edge.runtime.reference import ReferenceModel
from m2v_edge.source.folder import load_source
from tests.checks import cosines
from tests.texts import parity_texts

pytestmark = pytest.mark.slow

QUERY = "How do I train a neural network?"
DOCS = "Neural network training tutorial and guide\nNeural networks in biology\nMachine learning frameworks"


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return parity_texts()


@pytest.fixture(scope="module")
def m2v_vectors(qwen_m2v: Path, texts: list[str]) -> np.ndarray:
    from model2vec import StaticModel

    return StaticModel.from_pretrained(qwen_m2v).encode(texts)


def test_reference_equals_model2vec(qwen_m2v: Path, texts: list[str], m2v_vectors: np.ndarray):
    """model2vec returns this float16 model's vectors in float16: equal to ours up to float16 rounding."""
    assert m2v_vectors.dtype == np.float16
    ours = ReferenceModel(load_source(qwen_m2v)).encode(texts)
    worst = np.abs(ours - m2v_vectors.astype(np.float32)).max()
    assert worst <= 2.0**-11  # half a float16 step below 1 (measured 2.5e-4)
    assert cosines(m2v_vectors.astype(np.float32), ours).min() >= 0.99999


def test_int8_export_close_to_model2vec(qwen_m2v_int8: Path, texts: list[str], m2v_vectors: np.ndarray):
    got = StaticOnnxModel.from_pretrained(qwen_m2v_int8).encode(texts)
    cos = cosines(m2v_vectors, got)
    assert cos.min() >= 0.99 and cos.mean() >= 0.999
    zero = np.linalg.norm(m2v_vectors, axis=1) == 0
    assert zero.any() and np.all(got[zero] == 0)
    config = read_config(qwen_m2v_int8)
    assert config["vocab_size"] == 151_934 and config["dim"] == 256
    assert config["isotropy"] == {"method": "none", "k": None, "requested": "none", "where": None,
                                  "model2vec_parity": True}  # fmt: skip


def test_isotropic_export_keeps_empty_texts_zero(qwen_m2v_isotropic: Path, texts: list[str], m2v_vectors: np.ndarray):
    got = StaticOnnxModel.from_pretrained(qwen_m2v_isotropic).encode(texts)
    zero = np.linalg.norm(m2v_vectors, axis=1) == 0
    assert np.all(got[zero] == 0) and np.allclose(np.linalg.norm(got[~zero], axis=1), 1, atol=1e-5)


def test_max_size_65mb_keeps_all_of_int8(qwen_m2v: Path, qwen_m2v_int8: Path, tmp_path: Path):
    """int8 (39.5 MB) already fits 65 MB, so the budget cuts nothing; 20 MB cuts, at no STS-B cost here."""
    assert ExportFiles(qwen_m2v_int8).model.stat().st_size < 65e6
    report = export_model(qwen_m2v, tmp_path / "q20", max_size="20MB", isotropy="none")  # vs the same, uncut
    assert report.model_bytes <= 20e6 and report.pruning is not None
    assert report.min_cosine >= 0.99  # against the source pruned the same way
    full = evaluate(qwen_m2v_int8, dimensions=[])["sts_benchmark"]["spearman"]
    cut = evaluate(report.output, dimensions=[])["sts_benchmark"]["spearman"]
    assert cut >= full - 1.0  # measured: 52.99 -> 53.14 (127 of 256 PCA-ordered dims kept)


def _seed_order(scores: dict[str, float]) -> list[str]:
    """The seed card's example: tutorial > biology > frameworks, with a margin of 0.05 between the first two."""
    order = sorted(scores, key=scores.__getitem__, reverse=True)
    assert order == DOCS.splitlines(), scores
    assert scores[order[0]] - scores[order[1]] >= 0.05, scores  # measured 0.7014 - 0.5846 = 0.117
    return order


def test_seed_example_through_the_default_export(qwen_m2v_isotropic: Path):
    """``export`` with no flags: the tutorial ranks first (as distilled, biology does: 0.9941 / 0.9926 / 0.9919)."""
    model = StaticOnnxModel.from_pretrained(qwen_m2v_isotropic)
    vectors = model.encode([QUERY, *DOCS.splitlines()])
    _seed_order(dict(zip(DOCS.splitlines(), (vectors[1:] @ vectors[0]).tolist(), strict=True)))


def test_demo_serves_the_seed_example_ranked(qwen_m2v: Path, qwen_m2v_int8: Path, tmp_path: Path):
    """``m2v-edge demo ../shared/models/...``: exported on the fly with the defaults; ``rank`` puts the tutorial
    first; Compare is like with like; as distilled (``--isotropy none``), the notice and the fix side by side."""
    log: list[str] = []
    models = open_models(qwen_m2v, cache_dir=tmp_path / "cache", log=log.append)
    assert models.export_dir == cache_folder(load_source(qwen_m2v), tmp_path / "cache") and "exporting" in log[0]
    backend = DemoBackend(models)
    _seed_order({hit.document: hit.score for hit in backend.rank(QUERY, DOCS).hits})
    gradio = pytest.importorskip("gradio")
    assert gradio is not None
    from m2v_edge.demo.app import DemoHandlers

    _seed_order(dict(DemoHandlers(backend).rank_api(QUERY, DOCS)))  # the demo's `rank` API
    assert backend.notice() == "" and backend.compare(QUERY, DOCS).min_cosine >= 0.99
    fix = backend.fix_compare(QUERY, DOCS)
    assert [row[2] for row in fix.rows] == [2, 1, 3] and fix.cones[0] > 0.9 > 0.1 > fix.cones[1]

    raw_cache = cache_folder(load_source(qwen_m2v), tmp_path / "cache", "none")
    shutil.copytree(qwen_m2v_int8, raw_cache)  # what `demo --isotropy none` would have cached
    raw = DemoBackend(open_models(qwen_m2v, cache_dir=tmp_path / "cache", log=log.append, isotropy="none"))
    assert "using the cached" in log[-1] and "cannot tell texts apart" in raw.notice()
    assert raw.models.cone > 0.9 and raw.compare(QUERY, DOCS).min_cosine >= 0.99
    side = raw.fix_compare(QUERY, DOCS)
    assert [row[2] for row in side.rows] == [2, 1, 3] and [row[4] for row in side.rows] == [1, 2, 3]
