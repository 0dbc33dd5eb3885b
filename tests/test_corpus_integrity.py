"""Issue 24, streaming encode: one writer per output, no merged or lost CSV/TSV rows, capped lines, checked resume."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time

import numpy as np
import pytest

from m2v_edge.corpus import stream as stream_module
from m2v_edge.corpus.readers import InputSpec, read_chunks
from m2v_edge.corpus.stream import encode_corpus, work_paths
from m2v_edge.runtime.model import StaticOnnxModel
from tests.cli_checks import one_line_error

TEXTS = [f"text number {i} " + "word " * (i % 7) for i in range(60)]


@pytest.fixture(scope="module")
def model(potion_int8):
    return StaticOnnxModel.from_pretrained(potion_int8)


def _txt(tmp_path, texts=TEXTS, name="in.txt"):
    path = tmp_path / name
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return path


def _encode_cmd(model_dir, output, *extra):
    return [sys.executable, "-m", "m2v_edge", "encode", str(model_dir), "--output", str(output), "-q", *extra]


def test_a_second_encode_to_the_same_output_is_refused(tmp_path, potion_int8, model):
    """Two real processes: while A writes v.npy (held mid-run on its stdin), B to v.npy exits 2 and touches nothing."""
    out = tmp_path / "v.npy"
    first = subprocess.Popen(
        _encode_cmd(potion_int8, out, "--input", "-", "--chunk-size", "10"),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert first.stdin is not None
    first.stdin.write(("\n".join(TEXTS[:30]) + "\n").encode())
    first.stdin.flush()
    progress = work_paths(out)[1]
    while not progress.exists() and first.poll() is None:  # A has checkpointed a chunk and waits for more input
        time.sleep(0.05)
    assert first.poll() is None, first.communicate()
    other = _txt(tmp_path, [f"other {i}" for i in range(40)], "other.txt")
    for extra in ([], ["--resume"]):
        second = subprocess.run(
            _encode_cmd(potion_int8, out, "--input", str(other), *extra), capture_output=True, text=True, check=False
        )
        assert second.returncode == 2, second.stderr
        assert second.stderr.strip() == (
            f"m2v-edge encode: error: another encode is writing {out}; wait for it to finish or write elsewhere"
        )
    first.stdin.write(("\n".join(TEXTS[30:]) + "\n").encode())
    _, err = first.communicate()
    assert first.returncode == 0, err
    assert np.array_equal(np.load(out), np.stack([model.encode(t) for t in TEXTS]))  # A's rows only
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.txt", "v.npy"]  # no progress, lock or work file


def test_the_lock_is_released_and_retaken(tmp_path):
    out = tmp_path / "v.npy"
    with stream_module.output_lock(out):
        with pytest.raises(ValueError, match="another encode is writing"), stream_module.output_lock(out):
            pass
    with stream_module.output_lock(out):  # a finished run removes the lock file; the next run takes a new one
        assert (tmp_path / "v.npy.lock").exists()
    assert list(tmp_path.iterdir()) == []


def _stray_quote_csv(tmp_path):
    path = tmp_path / "q.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["text"], *([f"row {i}"] for i in range(1000))])
    lines = path.read_text().split("\n")
    lines[10] = '"row 9 with a stray quote'
    path.write_text("\n".join(lines))
    return path


def test_csv_malformed_quote_is_an_error_not_merged_rows(tmp_path, potion_int8, capsys):
    path = _stray_quote_csv(tmp_path)
    with pytest.raises(ValueError, match=r"q.csv:11: malformed CSV in the record starting here"):
        list(read_chunks(InputSpec(str(path)), 100))
    out = tmp_path / "v.npy"
    one_line_error(capsys, ["encode", str(potion_int8), "--input", str(path), "--output", str(out), "-q"], "q.csv:11")
    assert not out.exists()
    path.write_text('a,text\n1,"closed" then more\n')  # text after a closing quote
    with pytest.raises(ValueError, match=r"q.csv:2: malformed CSV .*expected after"):
        list(read_chunks(InputSpec(str(path)), 100))
    path.write_text('id,text\n1,"two\nlines, one field"\n2,"say ""hi"""\n')  # legal quoting still reads
    assert list(read_chunks(InputSpec(str(path)), 100)) == [(["two\nlines, one field", 'say "hi"'], None)]


def test_field_counts_must_match_the_header(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("id,text\n1,fine\n2,an unquoted, comma\n")
    with pytest.raises(ValueError, match=r"f.csv:3: 3 fields, the header has 2; quote fields"):
        list(read_chunks(InputSpec(str(path)), 100))
    tsv = tmp_path / "f.tsv"
    tsv.write_text("id\ttext\n1\tfine\n2\ta\ttab\n")
    with pytest.raises(ValueError, match=r"f.tsv:3: 3 fields, the header has 2; TSV has no quoting"):
        list(read_chunks(InputSpec(str(tsv)), 100))


def test_tsv_has_no_quoting(tmp_path, model):
    """A TSV text starting with a quote is that text, and 4 rows stay 4 rows (CRLF endings are line endings)."""
    texts = ['"quoted start', "second", 'a "middle" quote', 'trailing"']
    path = tmp_path / "q.tsv"
    path.write_bytes(("id\ttext\r\n" + "".join(f"{i}\t{t}\r\n" for i, t in enumerate(texts))).encode())
    assert list(read_chunks(InputSpec(str(path), id_field="id"), 10)) == [(texts, ["0", "1", "2", "3"])]
    out = tmp_path / "v.npy"
    assert encode_corpus(model, InputSpec(str(path)), str(out)).rows == 4
    assert np.array_equal(np.load(out), np.stack([model.encode(t) for t in texts]))


class _Endless(io.RawIOBase):
    """``head``, then ``size`` zero bytes and no newline, counting the bytes pulled from it."""

    def __init__(self, head, size):
        self.head, self.left, self.pulled = head, size, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.head[: len(buffer)] or b"\0" * min(len(buffer), self.left)
        if self.head:
            self.head = self.head[len(data) :]
        else:
            self.left -= len(data)
        buffer[: len(data)] = data
        self.pulled += len(data)
        return len(data)


@pytest.mark.parametrize("fmt", ["txt", "jsonl", "csv", "tsv"])
def test_a_line_without_end_is_refused_after_the_cap(monkeypatch, fmt):
    """/dev/zero-like input: the reader stops after the cap (4 bytes a character), never reading the whole stream."""
    header = b"" if fmt in ("txt", "jsonl") else b"text\n"
    raw = _Endless(header, 50_000_000)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(raw)))
    where = "<stdin>:2" if header else "<stdin>:1"
    with pytest.raises(ValueError, match=f"{where}: longer than 1,000 characters .--max-line-chars."):
        list(read_chunks(InputSpec("-", fmt, max_line_chars=1000), 10))
    assert raw.pulled <= 4 * 1000 + 1 + 2 * io.DEFAULT_BUFFER_SIZE + len(header), raw.pulled


def test_the_line_cap_counts_characters(tmp_path, potion_int8, capsys):
    path = _txt(tmp_path, ["é" * 1000, "short"])  # 2,000 bytes, 1,000 characters: within a cap of 1,000
    assert list(read_chunks(InputSpec(str(path), max_line_chars=1000), 10)) == [(["é" * 1000, "short"], None)]
    path.write_text("short\n" + "x" * 1001 + "\n")
    argv = ["encode", str(potion_int8), "--input", str(path), "--output", str(tmp_path / "v.npy")]
    one_line_error(capsys, [*argv, "--max-line-chars", "1000"], "in.txt:2: longer than 1,000 characters")
    one_line_error(capsys, [*argv, "--max-line-chars", "0"], "--max-line-chars must be a positive integer")
    csv_path = tmp_path / "c.csv"
    csv_path.write_text('text\n"opened\n' + "more\n" * 400)  # an unclosed quote runs on: capped per record
    with pytest.raises(ValueError, match=r"c.csv:2: longer than 1,000 characters"):
        list(read_chunks(InputSpec(str(csv_path), max_line_chars=1000), 10))


def _interrupted(tmp_path, model, monkeypatch, fmt, dtype=None):
    """A run killed after its 2nd checkpoint: ``(source, output, progress)``; the progress file says 20 rows."""
    source = InputSpec(str(_txt(tmp_path)))
    out = tmp_path / f"v.{fmt}"
    real, seen = stream_module._write_progress, []

    def crash(path, state):
        seen.append(1)
        if len(seen) == 3:
            raise KeyboardInterrupt
        real(path, state)

    monkeypatch.setattr(stream_module, "_write_progress", crash)
    with pytest.raises(KeyboardInterrupt):
        encode_corpus(model, source, str(out), dtype=dtype, chunk_rows=10)
    monkeypatch.setattr(stream_module, "_write_progress", real)
    return source, out, work_paths(out)[1]


def _work_bytes(tmp_path):
    return {p.name: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}


def _bump(state, key, by):
    """``state`` with its writer's ``key`` moved by ``by`` (unchanged if the writer has no such key)."""
    if key not in state["writer"]:
        return state
    return {**state, "writer": {**state["writer"], key: state["writer"][key] + by}}


TAMPERED = {
    "negative rows": lambda s: {**s, "rows": -8192, "writer": {**s["writer"], "rows": -8192}},
    "rows x5": lambda s: {**s, "rows": s["rows"] * 5, "writer": {**s["writer"], "rows": s["rows"] * 5}},
    "huge float": lambda s: {**s, "rows": 1e300},
    "rows disagree": lambda s: {**s, "rows": s["rows"] + 10},
    "writer list": lambda s: {**s, "writer": [1, 2]},
    "writer null": lambda s: {**s, "writer": None},
    "not an object": lambda s: [s],
    "bytes +1": lambda s: _bump(s, "bytes", 1),
    "bytes -1": lambda s: _bump(s, "bytes", -1),
    "parts +1": lambda s: _bump(s, "parts", 1),
    "bool rows": lambda s: {**s, "rows": True, "writer": {**s["writer"], "rows": True}},
}


@pytest.mark.parametrize(("fmt", "dtype"), [("npy", None), ("jsonl", None), ("m2vec", "int8"), ("parquet", "int8")])
def test_resume_checks_every_number_of_its_checkpoint(tmp_path, model, monkeypatch, capsys, fmt, dtype):
    source, out, progress = _interrupted(tmp_path, model, monkeypatch, fmt, dtype)
    good = json.loads(progress.read_text())
    argv = ["encode", str(model.files.root), "--input", source.path, "--output", str(out), "-q", "--resume"]
    argv += ["--chunk-size", "10"] + (["--dtype", dtype] if dtype else [])
    for name, tamper in TAMPERED.items():
        state = tamper(good)
        if state == good:  # e.g. no "bytes" in this writer's state: nothing to tamper
            continue
        progress.write_text(json.dumps(state))
        before = _work_bytes(tmp_path)
        one_line_error(capsys, argv, str(progress), "start again")
        assert _work_bytes(tmp_path) == before, name  # refused before anything was cut or removed
    progress.write_text(json.dumps(good))
    assert encode_corpus(model, source, str(out), dtype=dtype, chunk_rows=10, resume=True).resumed_from == 20
    whole = tmp_path / f"whole.{fmt}"
    encode_corpus(model, source, str(whole), dtype=dtype, chunk_rows=10)
    assert out.read_bytes() == whole.read_bytes()


def test_resume_refuses_rows_beyond_the_input(tmp_path, model, monkeypatch):
    source, out, progress = _interrupted(tmp_path, model, monkeypatch, "jsonl")
    state = json.loads(progress.read_text())
    lines = out.with_name(out.name + ".partial").read_bytes()[: state["writer"]["bytes"]]  # 20 rows
    (tmp_path / "v.jsonl.partial").write_bytes(lines * 4)  # 80 whole rows on disk, the input has 60
    state["rows"] = state["writer"]["rows"] = 80
    state["writer"]["bytes"] = len(lines) * 4
    progress.write_text(json.dumps(state))
    with pytest.raises(ValueError, match="has 60 records, fewer than the 80"):
        encode_corpus(model, source, str(out), chunk_rows=10, resume=True)
    assert progress.exists() and not out.exists()


def test_resume_refuses_a_tampered_model_with_the_same_config(tmp_path, model, monkeypatch, potion_int8):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(potion_int8, folder)
    copy = StaticOnnxModel.from_pretrained(folder)
    source, out, progress = _interrupted(tmp_path, copy, monkeypatch, "npy")
    graph = copy.files.model
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0x40  # one byte of the int8 table; config.json is unchanged
    graph.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"the model's {graph.name} changed since the interrupted run"):
        encode_corpus(copy, source, str(out), chunk_rows=10, resume=True)
    assert progress.exists()


@pytest.mark.parametrize(("fmt", "dtype"), [("m2vec", "int8"), ("npy", None), ("parquet", "int8")])
def test_nan_vectors_are_never_written(tmp_path, model, monkeypatch, fmt, dtype):
    """A corrupt export giving NaN (int8 garbage once quantized) stops the run: nothing is written under the name."""
    real = model.encode

    def broken(texts, **kwargs):
        vectors = real(texts, **kwargs)
        if any("number 23 " in t for t in texts):
            vectors[[t.startswith("text number 23 ") for t in texts].index(True), 5] = np.nan
        return vectors

    monkeypatch.setattr(model, "encode", broken)
    out = tmp_path / f"v.{fmt}"
    with pytest.raises(ValueError, match=r"model.s vectors contain NaN or infinity \(row 23\); the export is corrupt"):
        encode_corpus(model, InputSpec(str(_txt(tmp_path))), str(out), dtype=dtype, chunk_rows=10)
    assert not out.exists() and json.loads(work_paths(out)[1].read_text())["rows"] == 20  # resumable after a fix
