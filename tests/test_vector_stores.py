"""sqlite-vec and usearch over an encoded corpus: recall@10 against float32 brute force on STS-B, ids, files.

Corpus: the 2,552 distinct sentences of STS-B test; queries: 1,000 distinct STS-B dev sentences; truth: the top 10
by cosine of the float32 vectors (docs/scale.md states the numbers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from m2v_edge import StaticOnnxModel
from m2v_edge.corpus.vectorfile import model_fingerprint, quantize_rows, write_vector_file
from m2v_edge.extras import MissingExtraError
from m2v_edge.integrations import sqlite_store, usearch_store
from m2v_edge.integrations.stores import read_corpus
from m2v_edge.source.datasets import DATA_DIR, load_stsb

GOAL = 0.97


@pytest.fixture(scope="module", params=["potion_int8", pytest.param("qwen_m2v_isotropic", marks=pytest.mark.slow)])
def stsb(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The corpus of one export: potion-base-8M, and the Qwen family exported with --isotropy auto.

    (Exported without it, the Qwen family's anisotropic vectors give recall@10 0.70 even by brute force over its
    int8 rows: docs/integrations.md.)
    """
    folder: Path = request.getfixturevalue(request.param)
    model = StaticOnnxModel.from_pretrained(folder)
    docs = list(dict.fromkeys(t for p in load_stsb() for t in (p.text1, p.text2)))
    queries = list(dict.fromkeys(p.text1 for p in load_stsb(DATA_DIR / "stsb" / "sts-dev.csv")))[:1000]
    vectors, q = model.encode(docs), model.encode(queries)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    truth = np.argsort(-(q @ unit.T), axis=1, kind="stable")[:, :10]
    path = tmp_path_factory.mktemp("stores") / "docs.m2vec"
    write_vector_file(path, vectors, model_fingerprint(folder))
    return {"m2vec": path, "vectors": vectors, "queries": q, "truth": truth, "docs": docs}


def recall(hits: list, truth: np.ndarray) -> float:
    return float(
        np.mean([len({h.row for h in found} & set(want)) / 10 for found, want in zip(hits, truth, strict=True)])
    )


def test_m2vec_rows_are_the_int8_rows_streaming_encode_wrote(stsb):
    corpus = read_corpus(stsb["m2vec"])
    q, scale = quantize_rows(stsb["vectors"])
    assert corpus.vectors.dtype == np.int8 and np.array_equal(corpus.vectors, q) and np.array_equal(corpus.scale, scale)


def test_sqlite_vec_recall_and_reopen(stsb, tmp_path):
    pytest.importorskip("sqlite_vec")
    db = tmp_path / "docs.db"
    ids = [f"doc-{i}" for i in range(len(stsb["docs"]))]
    store = sqlite_store.index_corpus(stsb["m2vec"], db, ids=ids)
    score = recall(store.search(stsb["queries"], top_k=10), stsb["truth"])
    assert score >= GOAL, score
    hit = sqlite_store.SqliteVecStore.open(db).search(stsb["vectors"][7], top_k=3)[0]
    assert (hit.row, hit.id) == (7, "doc-7") and hit.score == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="exists"):
        sqlite_store.index_corpus(stsb["m2vec"], db)
    with pytest.raises(ValueError, match=f"{store.dim} dims"):
        store.search(np.zeros(8, np.float32))


def test_usearch_recall_and_reopen(stsb, tmp_path):
    pytest.importorskip("usearch")
    store = usearch_store.index_corpus(stsb["m2vec"], ids=[f"doc-{i}" for i in range(len(stsb["docs"]))])
    score = recall(store.search(stsb["queries"], top_k=10), stsb["truth"])
    assert score >= GOAL, score
    store.save(tmp_path / "docs.usearch")
    hit = usearch_store.UsearchStore.open(tmp_path / "docs.usearch").search(stsb["vectors"][7], top_k=3)[0]
    assert (hit.row, hit.id) == (7, "doc-7") and hit.score == pytest.approx(1.0, abs=1e-3)


def test_int8_parquet_with_ids_goes_in_as_written(stsb, tmp_path):
    pytest.importorskip("pyarrow")
    pytest.importorskip("sqlite_vec")
    import pyarrow.parquet as pq

    from m2v_edge.corpus.arrow import vectors_table

    path = tmp_path / "docs.parquet"
    pq.write_table(vectors_table(stsb["vectors"][:50], "int8", ids=[f"d{i}" for i in range(50)]), path)
    corpus = read_corpus(path)
    assert corpus.ids == [f"d{i}" for i in range(50)] and np.array_equal(
        corpus.vectors, quantize_rows(stsb["vectors"][:50])[0]
    )
    assert sqlite_store.index_corpus(path).search(stsb["vectors"][3], top_k=1)[0].id == "d3"


def test_bad_input_names_the_remedy(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="m2v-edge encode"):
        read_corpus(tmp_path / "none.m2vec")
    with pytest.raises(ValueError, match="one id per row"):
        read_corpus(np.ones((3, 4), np.float32), ids=["a"])
    with pytest.raises(ValueError, match="int8"):
        read_corpus((np.ones((3, 4), np.float32), np.ones(3)))
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "usearch" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r"m2v-edge\[usearch\]"):
        usearch_store.index_corpus(np.ones((3, 4), np.float32))


def test_sqlite_vec_zero_rows_and_zero_queries():
    """An empty text's zero row is not stored (its NULL distance would rank it first); a zero query scores 0."""
    pytest.importorskip("sqlite_vec")
    vectors = np.random.default_rng(0).normal(size=(6, 8)).astype(np.float32)
    vectors[2] = 0
    store = sqlite_store.index_corpus(vectors)
    hits = store.search(vectors[0], top_k=6)
    assert [h.row for h in hits][:1] == [0] and 2 not in {h.row for h in hits} and len(hits) == 5
    assert [h.score for h in store.search(np.zeros(8, np.float32), top_k=3)] == [0.0, 0.0, 0.0]
