"""Streaming encode: every input and output format equals an in-memory encode; resume; bounded chunks."""

from __future__ import annotations

import csv
import io
import json
import sys

import numpy as np
import pytest

from m2v_edge.cli import main
from m2v_edge.corpus import stream as stream_module
from m2v_edge.corpus.arrow import table_vectors
from m2v_edge.corpus.readers import InputSpec, read_chunks
from m2v_edge.corpus.stream import encode_corpus, work_paths
from m2v_edge.corpus.vectorfile import VectorFile
from m2v_edge.runtime.model import StaticOnnxModel

TEXTS = [f"document {i}: " + "word " * (i % 13) + ("über café" if i % 5 == 0 else "") for i in range(103)]
TEXTS[3] = ""
TEXTS[7] = "carriage return kept\r"


@pytest.fixture(scope="module")
def model(potion_int8):
    return StaticOnnxModel.from_pretrained(potion_int8)


@pytest.fixture(scope="module")
def expected(model):
    """The texts encoded one at a time: bit for bit what streaming gives (one text, one vector)."""
    return np.stack([model.encode(text) for text in TEXTS])


def test_chunked_equals_whole_encode(model, expected):
    chunked = np.concatenate([model.encode(TEXTS[i : i + 10]) for i in range(0, len(TEXTS), 10)])
    assert np.array_equal(model.encode(TEXTS), expected) and np.array_equal(chunked, expected)


def _txt(tmp_path, texts=TEXTS):
    path = tmp_path / "in.txt"
    path.write_bytes(("\n".join(texts) + "\n").encode("utf-8"))
    return path


def _read_output(path, fmt):
    if fmt == "npy":
        return np.load(path, allow_pickle=False)
    if fmt == "jsonl":
        return np.array([json.loads(line)["vector"] for line in path.read_text().splitlines()], dtype=np.float32)
    if fmt == "m2vec":
        return VectorFile(path).vectors()
    import pyarrow.parquet as pq

    return table_vectors(pq.read_table(path))


@pytest.mark.parametrize(
    ("fmt", "dtype", "tol"),
    [("npy", "float32", 0), ("jsonl", None, 0), ("parquet", "float32", 0), ("npy", "float16", 1e-3),
     ("parquet", "int8", 6e-3), ("m2vec", "int8", 6e-3), ("m2vec", "float16", 1e-3)],
)  # fmt: skip
def test_output_formats_equal_in_memory_encode(tmp_path, model, expected, fmt, dtype, tol):
    out = tmp_path / f"v.{fmt}"
    report = encode_corpus(model, InputSpec(str(_txt(tmp_path))), str(out), dtype=dtype, chunk_rows=10)
    got = _read_output(out, fmt)
    assert report.rows == len(TEXTS) and got.shape == expected.shape
    if tol == 0:
        assert np.array_equal(got, expected)  # row by row, bit for bit
    else:
        assert np.abs(got - expected).max() <= tol
    assert not work_paths(out)[0].exists() and not work_paths(out)[1].exists()


def test_input_formats_and_ids(tmp_path, model, expected):
    ids = [f"doc-{i}" for i in range(len(TEXTS))]
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps({"body": t, "key": k}) + "\n" for t, k in zip(TEXTS, ids, strict=True)) + "\n")
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)  # RFC 4180: the text with "\r" is quoted
        writer.writerow(["key", "body"])
        writer.writerows(zip(ids, TEXTS, strict=True))
    rows = ["body\tkey", *(f"{t}\t{k}" for t, k in zip(TEXTS, ids, strict=True))]  # TSV: no quoting
    (tmp_path / "in.tsv").write_bytes(("\n".join(rows) + "\n").encode("utf-8"))
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"key": ids, "body": TEXTS}), tmp_path / "in.parquet", row_group_size=17)
    for name in ("in.jsonl", "in.csv", "in.tsv", "in.parquet"):
        out = tmp_path / f"{name}.out.parquet"
        encode_corpus(model, InputSpec(str(tmp_path / name), field="body", id_field="key"), str(out), chunk_rows=10)
        table = pq.read_table(out)
        assert table.column("id").to_pylist() == ids, name
        assert np.array_equal(table_vectors(table), expected), name


def test_cli_stdin_stdout_and_progress_quiet(tmp_path, model, expected, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(("\n".join(TEXTS)).encode())))
    argv = ["encode", str(model.files.root), "--input", "-", "--output", "-", "-q", "--chunk-size", "10"]
    assert main([*argv, "--output-format", "jsonl"]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line)["vector"] for line in captured.out.splitlines()]
    assert np.array_equal(np.array(rows, dtype=np.float32), expected)
    assert "wrote <stdout> (103 x 256 float32) as jsonl" in captured.err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(("\n".join(TEXTS)).encode())))
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO()))
    assert main(argv) == 0  # the default for stdout is .npy, built in a temporary file and copied
    sys.stdout.buffer.seek(0)
    assert np.array_equal(np.load(sys.stdout.buffer, allow_pickle=False), expected)


def test_resume_after_crash_gives_the_same_file(tmp_path, model, monkeypatch):
    """Crash after chunk 3's data is on disk but before its progress file: resume redoes exactly chunk 3."""
    source = InputSpec(str(_txt(tmp_path)))
    for fmt, dtype in (("npy", None), ("parquet", "int8"), ("m2vec", "int8"), ("jsonl", None)):
        whole = tmp_path / f"whole.{fmt}"
        encode_corpus(model, source, str(whole), dtype=dtype, chunk_rows=10)
        out = tmp_path / f"cut.{fmt}"
        calls = []
        real = stream_module._write_progress

        def crash(path, state, calls=calls, real=real):
            calls.append(state["rows"])
            if len(calls) == 3:
                raise KeyboardInterrupt  # like a kill between the data fsync and the progress rename
            real(path, state)

        monkeypatch.setattr(stream_module, "_write_progress", crash)
        with pytest.raises(KeyboardInterrupt):
            encode_corpus(model, source, str(out), dtype=dtype, chunk_rows=10)
        monkeypatch.setattr(stream_module, "_write_progress", real)
        progress = work_paths(out)[1]
        assert json.loads(progress.read_text())["rows"] == 20 and not out.exists()
        with pytest.raises(ValueError, match="add --resume"):
            encode_corpus(model, source, str(out), dtype=dtype, chunk_rows=10)
        report = encode_corpus(model, source, str(out), dtype=dtype, chunk_rows=10, resume=True)
        assert report.resumed_from == 20 and report.rows == len(TEXTS)
        assert out.read_bytes() == whole.read_bytes(), fmt


def test_resume_refuses_other_settings(tmp_path, model, monkeypatch):
    source = InputSpec(str(_txt(tmp_path)))
    out = tmp_path / "v.npy"
    monkeypatch.setattr(stream_module, "_write_progress", _crash_on_second(stream_module._write_progress))
    with pytest.raises(KeyboardInterrupt):
        encode_corpus(model, source, str(out), chunk_rows=10)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="different dtype"):
        encode_corpus(model, source, str(out), dtype="float16", chunk_rows=10, resume=True)
    _txt(tmp_path, TEXTS[:50])  # the input changed
    with pytest.raises(ValueError, match="different input"):
        encode_corpus(model, source, str(out), chunk_rows=10, resume=True)


def _crash_on_second(real):
    seen = []

    def crash(path, state):
        seen.append(1)
        if len(seen) == 2:
            raise KeyboardInterrupt
        real(path, state)

    return crash


def test_memory_is_bounded_by_the_chunk(tmp_path, model, monkeypatch):
    """The reader runs at most one chunk ahead of the writer, and encode never sees more than a chunk."""
    path = _txt(tmp_path, [f"line {i}" for i in range(5000)])
    pulled, written, sizes, lead = [0], [0], [], []
    real_read = stream_module.read_chunks

    def counting_read(*args, **kwargs):
        for texts, ids in real_read(*args, **kwargs):
            pulled[0] += len(texts)
            lead.append(pulled[0] - written[0])
            yield texts, ids

    real_encode = model.encode

    def counting_encode(texts, **kwargs):
        sizes.append(len(texts))
        return real_encode(texts, **kwargs)

    monkeypatch.setattr(stream_module, "read_chunks", counting_read)
    monkeypatch.setattr(model, "encode", counting_encode)
    on_chunk = lambda n: written.__setitem__(0, written[0] + n)  # noqa: E731
    encode_corpus(model, InputSpec(str(path)), str(tmp_path / "v.npy"), chunk_rows=256, on_chunk=on_chunk)
    assert written[0] == 5000 and max(sizes) == 256 and max(lead) == 256


def test_readers_skip_and_errors(tmp_path):
    path = _txt(tmp_path, ["a", "b", "c", "d", "e"])
    assert list(read_chunks(InputSpec(str(path)), 2, skip=3)) == [(["d", "e"], None)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"txt": "no"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: no 'text' field .* --field"):
        list(read_chunks(InputSpec(str(bad)), 10))
    bad.write_text('{"text": "ok"}\nnot json\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not valid JSON"):
        list(read_chunks(InputSpec(str(bad)), 10))
    bad.write_bytes(b"fine\n\xff\xfe\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not UTF-8"):
        list(read_chunks(InputSpec(str(bad), "txt"), 10))


def test_failed_run_leaves_no_files(tmp_path, model):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xff\xfe\n")
    for name in ("v.npy", "v.parquet", "v.m2vec"):
        with pytest.raises(ValueError, match="not UTF-8"):
            encode_corpus(model, InputSpec(str(bad)), str(tmp_path / name))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt"]


def test_cli_errors_are_one_line(tmp_path, model, capsys):
    inp = _txt(tmp_path)
    cases = [
        (["--output", str(inp.with_suffix(".npy")), "--dtype", "int8"], "--dtype int8 is not available for .npy"),
        (["--output", str(tmp_path / "v.m2vec"), "--input-format", "csv", "--column", "body"], "no 'body' field"),
        (["--output", str(tmp_path / "no" / "v.npy")], "output folder does not exist"),
    ]
    for extra, needle in cases:
        assert main(["encode", str(model.files.root), "--input", str(inp), "-q", *extra]) == 2
        err = capsys.readouterr().err
        assert needle in err and len(err.strip().splitlines()) == 1, err
    same = tmp_path / "same.jsonl"
    same.write_text('{"text": "x"}\n')
    assert main(["encode", str(model.files.root), "--input", str(same), "--output", str(same)]) == 2
    assert "is also the input" in capsys.readouterr().err and same.read_text() == '{"text": "x"}\n'
