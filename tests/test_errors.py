"""Bad input: a clear one-line error naming the thing and the remedy; nothing half-written."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from m2v_edge import StaticOnnxModel, export_model
from m2v_edge.cli import main
from m2v_edge.contract import ExportFiles
from m2v_edge.export import selfcheck
from tests.corrupt import rehash


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err.strip()
    return code, err


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _cli_error(capsys, argv: list[str], *needles: str) -> None:
    code, err = _run(capsys, *argv)
    assert code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for needle in needles:
        assert needle in err


def test_nonexistent_path(capsys, tmp_path):
    _cli_error(capsys, ["export", str(tmp_path / "nope"), "-o", str(tmp_path / "out")], "no such folder")
    assert not (tmp_path / "out").exists()


def test_folder_without_tokenizer(capsys, tmp_path, tiny_source):
    src = _copy(tiny_source, tmp_path / "src")
    (src / "tokenizer.json").unlink()
    _cli_error(capsys, ["export", str(src), "-o", str(tmp_path / "out")], "no tokenizer.json")


def test_rows_do_not_match_vocab(capsys, tmp_path, potion_source):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(potion_source / name, src / name)
    table = load_file(str(potion_source / "model.safetensors"))["embeddings"][:1000]
    save_file({"embeddings": table}, str(src / "model.safetensors"))
    _cli_error(capsys, ["export", str(src), "-o", str(tmp_path / "out")], "1000 rows", "29528 tokens", "mapping")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_table(capsys, tmp_path, bad):
    from tests.fixtures import make_tiny_model

    src = make_tiny_model("wordpiece", tmp_path / "src")
    tensors = load_file(str(src / "model.safetensors"))
    tensors["embeddings"][3, 2] = bad
    save_file(tensors, str(src / "model.safetensors"))
    _cli_error(capsys, ["export", str(src), "-o", str(tmp_path / "out")], "NaN or inf")


def test_unreadable_files(capsys, tmp_path, tiny_source):
    src = _copy(tiny_source, tmp_path / "src")
    (src / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    _cli_error(capsys, ["export", str(src), "-o", str(tmp_path / "o1")], "unreadable safetensors")
    src2 = _copy(tiny_source, tmp_path / "src2")
    (src2 / "tokenizer.json").write_text("{not json", encoding="utf-8")
    _cli_error(capsys, ["export", str(src2), "-o", str(tmp_path / "o2")], "unreadable tokenizer")
    src3 = _copy(tiny_source, tmp_path / "src3")
    (src3 / "config.json").write_text("[", encoding="utf-8")
    _cli_error(capsys, ["export", str(src3), "-o", str(tmp_path / "o3")], "not valid JSON")


def test_pickle_refused(capsys, tmp_path, tiny_source):
    src = _copy(tiny_source, tmp_path / "src")
    (src / "model.safetensors").unlink()
    (src / "pytorch_model.bin").write_bytes(b"pickle")
    _cli_error(capsys, ["export", str(src), "-o", str(tmp_path / "out")], "pickle files are refused")


def test_overwrite_needs_force_and_failure_keeps_old(capsys, tmp_path, tiny_source, monkeypatch):
    out = tmp_path / "out"
    assert main(["export", str(tiny_source), "-o", str(out), "-q"]) == 0
    before = ExportFiles(out).model.read_bytes()
    _cli_error(capsys, ["export", str(tiny_source), "-o", str(out)], "already exists", "--force")
    monkeypatch.setattr(selfcheck, "MIN_COSINE", 1.5)
    _cli_error(capsys, ["export", str(tiny_source), "-o", str(out), "--force", "-q"], "self-check failed")
    assert ExportFiles(out).model.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no temp folder left behind"
    monkeypatch.undo()
    assert main(["export", str(tiny_source), "-o", str(out), "--force", "--dtype", "float32", "-q"]) == 0
    assert json.loads((out / "config.json").read_text())["dtype"] == "float32"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_missing_output_parent_is_created(capsys, tmp_path, tiny_source):
    assert main(["export", str(tiny_source), "-o", str(tmp_path / "a" / "b"), "-q"]) == 0
    assert (tmp_path / "a" / "b" / "config.json").is_file()


def test_runtime_errors(tmp_path, potion_int8):
    model = StaticOnnxModel.from_pretrained(potion_int8)
    with pytest.raises(ValueError, match=r"texts\[1\] is int"):
        model.encode(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="string or an iterable of strings"):
        model.encode(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        model.encode(["a"], batch_size=0)
    with pytest.raises(ValueError, match="not available"):
        StaticOnnxModel.from_pretrained(potion_int8, providers=["NoSuchExecutionProvider"])
    with pytest.raises(FileNotFoundError, match="no such folder"):
        StaticOnnxModel.from_pretrained(tmp_path / "missing")
    broken = _copy(potion_int8, tmp_path / "broken")
    ExportFiles(broken).model.write_bytes(b"not an onnx file")
    with pytest.raises(ValueError, match="sha256 .* differs from config.json"):
        StaticOnnxModel.from_pretrained(broken)
    rehash(broken)  # consistent checksums: onnxruntime's own refusal
    with pytest.raises(ValueError, match="onnxruntime cannot load it"):
        StaticOnnxModel.from_pretrained(broken)
    (broken / "config.json").write_text(json.dumps({"format_version": 99}), encoding="utf-8")
    with pytest.raises(ValueError, match="format_version 99 is newer .*upgrade m2v-edge"):
        StaticOnnxModel.from_pretrained(broken)  # the version is checked before the keys it may have renamed
    (broken / "config.json").write_text(json.dumps({"format_version": 1}), encoding="utf-8")
    with pytest.raises(ValueError, match="missing keys"):
        StaticOnnxModel.from_pretrained(broken)


def test_bad_dtype(tmp_path, tiny_source):
    with pytest.raises(ValueError, match="choose one of: int8, float16, float32"):
        export_model(tiny_source, tmp_path / "o", dtype="int4")


def test_encode_cli(capsys, tmp_path, potion_int8, monkeypatch):
    import io
    import sys

    inp = tmp_path / "in.txt"
    inp.write_bytes(b"first line\r\n\nthird with\ttab\n")
    out = tmp_path / "v.npy"
    assert main(["encode", str(potion_int8), "--input", str(inp), "--output", str(out)]) == 0
    vectors = np.load(out, allow_pickle=False)
    model = StaticOnnxModel.from_pretrained(potion_int8)
    expected = model.encode(["first line\r", "", "third with\ttab"])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 256)
    assert np.array_equal(vectors, expected)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"only one")))
    assert main(["encode", str(potion_int8), "--input", "-", "--output", str(out)]) == 0
    assert np.array_equal(np.load(out), model.encode(["only one"]))
    inp.write_bytes(b"\xff\xfe bad")
    _cli_error(capsys, ["encode", str(potion_int8), "--input", str(inp), "--output", str(out)], "not UTF-8")
    _cli_error(capsys, ["encode", str(potion_int8), "--input", str(tmp_path / "x"), "--output", str(out)], "no such")
    _cli_error(capsys, ["encode", str(tmp_path), "--input", str(inp), "--output", str(out)], "no config.json")


def test_info_and_similarity_cli(capsys, potion_int8, potion_source, tmp_path, monkeypatch):
    assert main(["info", str(potion_int8)]) == 0
    out = capsys.readouterr().out
    facts = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in out.splitlines())
    assert (facts["dims"], facts["vocab"], facts["dtype"], facts["normalize"]) == ("256", "29,528", "int8", "True")
    assert facts["source"] == "potion-base-8M" and facts["format_version"] == "2"
    assert main(["info", str(potion_source)]) == 0
    out = capsys.readouterr().out
    assert "float32 (Model2Vec source" in out and "file model.safetensors" in out
    docs = ["Machine learning frameworks", "Neural network training tutorial and guide"]
    assert main(["similarity", str(potion_int8), "How do I train a neural network?", *docs]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(None, 2)[2] == docs[1] and len(lines) == 2
    # a source folder is exported once into the cache (as from_pretrained does); a file: say what to do
    monkeypatch.setenv("M2V_EDGE_CACHE", str(tmp_path))
    assert main(["similarity", str(potion_source), "How do I train a neural network?", *docs]) == 0
    assert capsys.readouterr().out.splitlines()[0].split(None, 2)[2] == docs[1]
    assert [p.name.endswith("-int8") for p in tmp_path.iterdir()] == [True]
    _cli_error(capsys, ["encode", str(potion_int8 / "config.json"), "--input", "-", "--output", "-"], "is a file")


def test_usage_errors_are_one_line(capsys):
    _cli_error(capsys, ["export", "src", "-o", "out", "--dtype", "int4"], "invalid choice: 'int4'", "--help")
    _cli_error(capsys, [], "required: COMMAND")
    _cli_error(capsys, ["encode", "model"], "--input", "--output")


def test_closed_pipe_is_quiet(tmp_path, potion_int8):
    """``m2v-edge encode ... --output - | head -c 100``: the reader goes away; no error line, exit 141 as a shell
    reports for a tool a closed pipe stopped (was: "error: [Errno 32] Broken pipe", exit 2)."""
    import subprocess
    import sys

    inp = tmp_path / "in.txt"
    inp.write_text("\n".join(f"sentence number {i}" for i in range(2000)), encoding="utf-8")  # 2 MB of vectors
    argv = [sys.executable, "-m", "m2v_edge", "encode", str(potion_int8), "--input", str(inp), "--output", "-"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert len(proc.stdout.read(100)) == 100
        proc.stdout.close()
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    assert code == 141, err
    assert err == ""
