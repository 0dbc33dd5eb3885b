"""Ray Data on a local 2-CPU cluster gives the vectors of the single-process streaming encode."""

from __future__ import annotations

import numpy as np
import pytest

from m2v_edge.corpus.arrow import table_vectors
from m2v_edge.corpus.readers import InputSpec
from m2v_edge.corpus.stream import encode_corpus
from m2v_edge.runtime.model import StaticOnnxModel
from m2v_edge.source.datasets import load_stsb
from tests.conftest import STSB_TEST

ray = pytest.importorskip("ray", reason="needs m2v-edge[ray] (make setup installs it)")
pa = pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


@pytest.mark.slow
def test_ray_map_batches_equals_single_process(tmp_path, potion_int8, ray_cluster):
    import pyarrow.parquet as pq

    from m2v_edge.integrations.ray import encode_dataset

    pairs = load_stsb(STSB_TEST)
    texts = [t for pair in pairs[:600] for t in (pair.text1, pair.text2)]
    ids = [f"s{i:05d}" for i in range(len(texts))]
    folder = tmp_path / "corpus"
    folder.mkdir()
    half = len(texts) // 2  # two files, as a folder of Parquet parts
    pq.write_table(pa.table({"id": ids[:half], "text": texts[:half]}), folder / "a.parquet")
    pq.write_table(pa.table({"id": ids[half:], "text": texts[half:]}), folder / "b.parquet")

    ds = ray.data.read_parquet(str(folder))
    encode_dataset(ds, str(potion_int8), concurrency=2, num_cpus=0.5, rows_per_call=256).write_parquet(
        str(tmp_path / "vectors")
    )
    table = pq.read_table(tmp_path / "vectors").sort_by("id")  # Ray does not keep row order across blocks
    assert table.column("id").to_pylist() == ids
    assert table.column("text").to_pylist() == texts

    single = tmp_path / "single.parquet"
    pq.write_table(pa.table({"id": ids, "text": texts}), tmp_path / "all.parquet")
    source = InputSpec(str(tmp_path / "all.parquet"), id_field="id")
    encode_corpus(StaticOnnxModel.from_pretrained(potion_int8), source, str(single))
    expected = table_vectors(pq.read_table(single))
    got = table_vectors(table)
    # Same rows, bit for bit: a text's vector does not depend on how Ray or the stream cut the corpus.
    assert got.shape == expected.shape and np.array_equal(got, expected)
    model = StaticOnnxModel.from_pretrained(potion_int8, pipeline=False)
    assert np.array_equal(got[::97], np.stack([model.encode(text) for text in texts[::97]]))


def test_encode_batches_errors(potion_int8):
    from m2v_edge.integrations.ray import EncodeBatches

    with pytest.raises(ValueError, match="choose float32 or int8"):
        EncodeBatches(str(potion_int8), dtype="float16")
    encoder = EncodeBatches(str(potion_int8), dtype="int8")
    out = encoder(pa.table({"text": ["a", "b"]}))
    assert out.column_names == ["text", "vector", "scale"]
    with pytest.raises(ValueError, match="no column 'text'"):
        encoder(pa.table({"body": ["a"]}))
    with pytest.raises(ValueError, match="row 1 of 'text' is None"):
        encoder(pa.table({"text": ["a", None]}))


def test_encode_batches_refuses_duplicate_columns(potion_int8):
    from m2v_edge.integrations.ray import EncodeBatches

    with pytest.raises(ValueError, match="vector_column='text' clashes with 'text'"):
        EncodeBatches(str(potion_int8), vector_column="text")
    with pytest.raises(ValueError, match="vector_column='scale' clashes .* pass another vector_column"):
        EncodeBatches(str(potion_int8), vector_column="scale", dtype="int8")
    encoder = EncodeBatches(str(potion_int8), dtype="int8")
    for existing in ("scale", "vector"):
        with pytest.raises(ValueError, match=f"already has a column '{existing}'.*rename it"):
            encoder(pa.table({"text": ["a"], existing: [1.0]}))
    assert EncodeBatches(str(potion_int8))(pa.table({"text": ["a"], "scale": [1.0]})).column_names == [
        "text", "scale", "vector"
    ]  # float32 adds no scale column: an existing one is the user's and stays  # fmt: skip


def test_encode_batches_refuses_nan_vectors(potion_int8, monkeypatch):
    from m2v_edge.integrations.ray import EncodeBatches

    encoder = EncodeBatches(str(potion_int8))
    monkeypatch.setattr(encoder.model, "encode", lambda texts, **_: np.full((len(texts), 256), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"model's vectors contain NaN or infinity \(row 0\); the export is corrupt"):
        encoder(pa.table({"text": ["a", "b"]}))
