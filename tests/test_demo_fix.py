"""The demo and the isotropy fix (no gradio needed): the can't-discriminate notice, like-with-like Compare, and
the ranking without and with the fix, on potion-base-8M made anisotropic (every row shifted along one direction).

Potion, not a tiny trained model: a tiny model's vocabulary (so its STS-B dev score, so ``auto``'s choice)
changes from process to process, which made these tests pass alone and fail in a full run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from m2v_edge.contract import read_config
from m2v_edge.demo.backend import DemoBackend, DemoInputError
from m2v_edge.demo.cache import DemoModels, cache_folder, is_valid_export, open_models
from m2v_edge.demo.fix import served_cone
from m2v_edge.eval.anisotropy import CONE
from m2v_edge.runtime.reference import ReferenceModel
from m2v_edge.runtime.similarity import cosine_matrix
from m2v_edge.source.folder import load_source
from tests.conftest import POTION

QUERY = "How do I train a neural network?"
DOCS = "Neural network training tutorial and guide\nNeural networks in biology\nMachine learning frameworks"


@pytest.fixture(scope="module")
def cone_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """potion-base-8M with one large component added to every row: unrelated texts score ~0.99."""
    folder = tmp_path_factory.mktemp("cone") / "src"
    shutil.copytree(POTION, folder)
    tensors = load_file(str(folder / "model.safetensors"))
    table = tensors["embeddings"].astype(np.float32)
    shared = np.random.default_rng(7).normal(size=table.shape[1]).astype(np.float32)
    tensors["embeddings"] = table + 8 * np.abs(table).mean() * shared
    save_file(tensors, str(folder / "model.safetensors"))
    return folder


@pytest.fixture(scope="module")
def served_raw(cone_source: Path, tmp_path_factory: pytest.TempPathFactory) -> DemoModels:
    return open_models(cone_source, cache_dir=tmp_path_factory.mktemp("cache"), log=lambda _: None, isotropy="none")


@pytest.fixture(scope="module")
def served_default(cone_source: Path, tmp_path_factory: pytest.TempPathFactory) -> DemoModels:
    return open_models(cone_source, cache_dir=tmp_path_factory.mktemp("cache"), log=lambda _: None)


def test_notice_on_a_model_that_cannot_discriminate(served_raw: DemoModels) -> None:
    backend = DemoBackend(served_raw)
    assert served_raw.cone >= CONE and served_raw.cone == pytest.approx(served_cone(served_raw.onnx))
    text = backend.notice()
    assert "cannot tell texts apart" in text and f"{served_raw.cone:.3f}" in text
    assert "m2v-edge export SOURCE -o DIR" in text and "--isotropy none" in text and "Compare" in text
    assert ("unrelated texts' mean cosine (served model)", f"{served_raw.cone:.3f}") in backend.model_facts()


def test_served_raw_compares_without_and_with_the_fix(served_raw: DemoModels) -> None:
    """Served as distilled: Compare is raw float vs int8; the fix column is the float source under auto's map."""
    assert served_raw.reference is not None and served_raw.reference.isotropy is None
    assert served_raw.fix is not None and "this export" in served_raw.fix.without_label
    result = DemoBackend(served_raw).fix_compare(QUERY, DOCS)
    without, fixed = served_raw.fix.without, served_raw.fix.with_fix
    for encoder, column in ((without, 1), (fixed, 3)):
        vectors = encoder.encode([QUERY, *DOCS.splitlines()])
        expected = cosine_matrix(vectors[0], vectors[1:])[0]
        for row in result.rows:
            assert row[column] == pytest.approx(expected[DOCS.splitlines().index(row[0])], abs=1e-6)
    assert [row[4] for row in result.rows] == [1, 2, 3]  # rows follow the fixed ranking
    assert sorted(row[2] for row in result.rows) == [1, 2, 3]
    assert result.cones[0] >= CONE > result.cones[1]


def test_default_export_is_fixed_and_compared_like_with_like(served_default: DemoModels) -> None:
    backend = DemoBackend(served_default)
    entry = read_config(served_default.export_dir)["isotropy"]
    assert entry["requested"] == "auto" and entry["method"] == "abtt"
    assert served_default.cone < CONE and backend.notice() == ""
    reference = served_default.reference
    assert reference is not None and reference.isotropy is not None and reference.isotropy.k == entry["k"]
    comparison = backend.compare(QUERY, DOCS)
    assert comparison.min_cosine >= 0.99  # the float source under the same map vs the int8 export
    assert served_default.fix is not None and served_default.fix.with_fix is served_default.onnx
    result = backend.fix_compare(QUERY, DOCS)
    raw = ReferenceModel(load_source(served_default.source_dir)).encode([QUERY, *DOCS.splitlines()])
    scores = cosine_matrix(raw[0], raw[1:])[0]
    for row in result.rows:
        assert row[1] == pytest.approx(scores[DOCS.splitlines().index(row[0])], abs=1e-5)


def test_cache_keeps_isotropy_apart(cone_source: Path, served_raw: DemoModels, served_default: DemoModels) -> None:
    source = load_source(cone_source)
    assert served_raw.export_dir.name.endswith("-iso-none") and served_default.export_dir.name.endswith("-int8")
    assert served_raw.export_dir == cache_folder(source, served_raw.export_dir.parent, "none")
    assert is_valid_export(served_raw.export_dir, source.sha256, "none")
    assert not is_valid_export(served_raw.export_dir, source.sha256)  # an old (pre-auto) cache is made again


def test_potion_needs_no_fix(potion_int8: Path, tmp_path: Path) -> None:
    models = open_models(potion_int8, cache_dir=tmp_path)
    backend = DemoBackend(models)
    assert models.cone < 0.1 and backend.notice() == "" and models.fix is None  # measured 0.056
    assert models.reference is not None and models.reference.isotropy is None
    with pytest.raises(DemoInputError, match="needs no isotropy fix"):
        backend.fix_compare(QUERY, DOCS)


def test_app_shows_the_notice(served_raw: DemoModels) -> None:
    pytest.importorskip("gradio")
    from m2v_edge.demo.app import DemoHandlers, build_app

    app = build_app(DemoBackend(served_raw))
    ids = {getattr(block, "elem_id", None): block for block in app.blocks.values()}
    assert "cannot tell texts apart" in ids["discrimination-notice"].value and "fix-results" in ids
    app.close()
    summary, table = DemoHandlers(DemoBackend(served_raw)).fix(QUERY, DOCS)
    assert "**Without** = without (this export)" in summary and list(table["rank with"]) == [1, 2, 3]
