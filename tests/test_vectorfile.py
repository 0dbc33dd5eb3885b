"""The ``.m2vec`` app vector file: int8/float16 search vs float32 brute force, fingerprints, the web golden."""

from __future__ import annotations

import json

import numpy as np
import pytest

from m2v_edge.cli import main
from m2v_edge.corpus.vectorfile import VectorFile, model_fingerprint, write_vector_file
from m2v_edge.runtime.model import StaticOnnxModel
from m2v_edge.runtime.similarity import cosine_matrix
from m2v_edge.source.datasets import load_stsb
from tests import vector_golden
from tests.conftest import STSB_TEST


@pytest.fixture(scope="module")
def stsb_vectors(potion_int8):
    sentences = list(dict.fromkeys(t for p in load_stsb(STSB_TEST) for t in (p.text1, p.text2)))
    return StaticOnnxModel.from_pretrained(potion_int8).encode(sentences)


@pytest.mark.parametrize("dtype", ["int8", "float16"])
def test_topk_equals_float32_brute_force_except_ties(tmp_path, potion_int8, stsb_vectors, dtype):
    """Every hit is in the float32 top-k, or scores (in float32) within the file's own quantization error of it."""
    docs, queries, k = stsb_vectors, stsb_vectors[::29][:100], 10
    path = write_vector_file(tmp_path / "v.m2vec", docs, model_fingerprint(potion_int8), dtype)
    vf = VectorFile.for_model(path, potion_int8)
    assert (vf.count, vf.dim, vf.dtype) == (len(docs), 256, dtype)
    exact = cosine_matrix(queries, docs)
    stored = cosine_matrix(queries, vf.vectors())
    same_set = 0
    for q, hits in enumerate(vf.search(queries, top_k=k)):
        got = [h.index for h in hits]
        want = np.argsort(-exact[q], kind="stable")[:k].tolist()
        error = float(np.abs(stored[q] - exact[q]).max())  # this query's largest quantization error
        assert error < (0.02 if dtype == "int8" else 1e-3)
        np.testing.assert_allclose([h.score for h in hits], stored[q, got], atol=1e-5)
        # rank by rank, the hit's float32 score is the true one's up to twice the quantization error (a tie)
        for rank, (mine, true) in enumerate(zip(got, want, strict=True)):
            assert exact[q, mine] >= exact[q, true] - 2 * error, (q, rank, mine, true)
        same_set += set(got) == set(want)
    print(f"{dtype}: {same_set}/100 top-{k} sets identical")
    assert same_set >= 80, same_set  # most sets are the same; the rest differ only at ties


def test_fingerprint_refuses_vectors_of_another_model(tmp_path, potion_int8, capsys):
    corpus = tmp_path / "docs.txt"
    corpus.write_text("first document\nsecond document\n\n")
    out = tmp_path / "docs.m2vec"
    assert main(["encode", str(potion_int8), "--input", str(corpus), "--output", str(out), "-q"]) == 0
    assert "wrote" in capsys.readouterr().out
    vf = VectorFile.for_model(out, potion_int8)
    model = StaticOnnxModel.from_pretrained(potion_int8)
    hits = vf.search(model.encode("second document"), top_k=2)[0]
    assert hits[0].index == 1 and hits[0].score > 0.99 and vf.vectors(2, 3).max() == 0  # empty text: zero row
    other = tmp_path / "other"
    other.mkdir()
    config = json.loads((potion_int8 / "config.json").read_text())
    config["normalize"] = not config["normalize"]
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="made by another model .* encode the corpus again"):
        VectorFile.for_model(out, other)


def test_bad_files(tmp_path):
    bad = tmp_path / "x.m2vec"
    bad.write_bytes(b"not a vector file at all" * 4)
    with pytest.raises(ValueError, match="not an m2v-edge vector file"):
        VectorFile(bad)
    good = write_vector_file(tmp_path / "g.m2vec", np.ones((4, 8), np.float32), b"\1" * 32)
    bad.write_bytes(good.read_bytes()[:-3])
    with pytest.raises(ValueError, match="truncated"):
        VectorFile(bad)
    with pytest.raises(ValueError, match="query vectors have 3 dims, the file 8"):
        VectorFile(good).search(np.ones(3))
    with pytest.raises(FileNotFoundError, match="no such vector file"):
        VectorFile(tmp_path / "missing.m2vec")


def test_web_golden_files_are_what_python_writes(tmp_path):
    vector_golden.write_golden(tmp_path)
    for name in ("golden-int8.m2vec", "golden-float16.m2vec", "golden.json"):
        assert (tmp_path / name).read_bytes() == (vector_golden.GOLDEN / name).read_bytes(), name
    _, queries = vector_golden.golden_vectors()
    for dtype in ("int8", "float16"):  # no near-ties down to rank k+1: Node's float64 sums give the same top-k
        vf = VectorFile(tmp_path / f"golden-{dtype}.m2vec")
        for row in vf.search(queries, top_k=vector_golden.TOP_K + 1):
            scores = [h.score for h in row]
            assert all(a - b > 1e-4 for a, b in zip(scores, scores[1:], strict=False)), scores


@pytest.mark.parametrize("dtype", ["int8", "float16"])
def test_header_count_must_match_the_data_exactly(tmp_path, dtype):
    """A count smaller than the data would search a prefix (scales read from the wrong place): refused, as is larger."""
    good = write_vector_file(tmp_path / "g.m2vec", np.eye(8, 16, dtype=np.float32), b"\1" * 32, dtype)
    for count, needle in ((7, "longer than its header says"), (9, "truncated"), (0, "longer than its header says")):
        bad = tmp_path / f"c{count}.m2vec"
        data = bytearray(good.read_bytes())
        data[16:24] = count.to_bytes(8, "little")
        bad.write_bytes(bytes(data))
        with pytest.raises(ValueError, match=f"{needle} .*{count} rows of 16 {dtype}.*write the file again"):
            VectorFile(bad)
    bad.write_bytes(good.read_bytes() + b"\0" * 4)
    with pytest.raises(ValueError, match="longer than its header says"):
        VectorFile(bad)
    assert VectorFile(good).count == 8


def test_non_finite_queries_vectors_and_bool_top_k_are_refused(tmp_path):
    vf = VectorFile(write_vector_file(tmp_path / "g.m2vec", np.eye(4, 8, dtype=np.float32), b"\1" * 32))
    for bad in (np.nan, np.inf, -np.inf):
        query = np.ones(8, np.float32)
        query[3] = bad
        with pytest.raises(ValueError, match=r"query vectors contain NaN or infinity .* encode the query"):
            vf.search(query)
    for top_k in (True, False, 0, -1, 2.0, None, "3"):
        with pytest.raises(ValueError, match="top_k must be a positive integer"):
            vf.search(np.ones(8), top_k=top_k)  # type: ignore[arg-type]
    assert [h.index for h in vf.search(np.eye(4, 8)[2], top_k=np.int64(1))[0]] == [2]
    vectors = np.ones((3, 8), np.float32)
    vectors[1, 2] = np.nan
    for dtype in ("int8", "float16"):
        with pytest.raises(ValueError, match=r"vectors contain NaN or infinity \(row 1\)"):
            write_vector_file(tmp_path / f"n.{dtype}.m2vec", vectors, b"\1" * 32, dtype)
        assert not (tmp_path / f"n.{dtype}.m2vec").exists()
