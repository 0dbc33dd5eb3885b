"""Issue 10: the CLI never prints a traceback; API arguments are checked; encode takes any iterable of str.

Includes the property test: ``encode`` on random Unicode equals model2vec's.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m2v_edge import StaticOnnxModel, export_model
from m2v_edge import cli as cli_module
from m2v_edge.cli import main
from m2v_edge.cli.common import cpu_count
from tests.cli_checks import one_line_error
from tests.fixtures import make_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("safety-cli")
    source = make_tiny_model("bpe", root / "src")
    return source, export_model(source, root / "export", dtype="float32", isotropy="none").output  # vs model2vec


def _input(tmp_path: Path, text: str = "hello\nworld\n") -> Path:
    file = tmp_path / "in.txt"
    file.write_text(text, encoding="utf-8")
    return file


def test_threads_bounded_by_the_machine(tiny, tmp_path: Path, capsys) -> None:
    inp = _input(tmp_path)
    argv = ["encode", str(tiny[1]), "--input", str(inp), "--output", str(tmp_path / "v.npy")]
    one_line_error(capsys, [*argv, "--threads", "9999"], "--threads 9999 is out of range", f"1-{cpu_count()}")
    one_line_error(capsys, [*argv, "--threads", "0"], "out of range")
    assert not (tmp_path / "v.npy").exists()
    assert main([*argv, "--threads", str(cpu_count())]) == 0


def test_encode_output_folder_is_refused_not_renamed(tiny, tmp_path: Path, capsys) -> None:
    out = tmp_path / "vectors"
    out.mkdir()
    inp = _input(tmp_path)
    one_line_error(capsys, ["encode", str(tiny[1]), "--input", str(inp), "--output", str(out)], "is a folder")
    assert not (tmp_path / "vectors.npy").exists()


def test_encode_writes_the_name_it_prints_atomically(tiny, tmp_path: Path, capsys) -> None:
    inp = _input(tmp_path)
    out = tmp_path / "vectors.bin"  # no .npy suffix: written as named (np.save would append .npy)
    assert main(["encode", str(tiny[1]), "--input", str(inp), "--output", str(out)]) == 0
    assert f"wrote {out} (2 x 16 float32)" in capsys.readouterr().out
    assert np.load(out).shape == (2, 16) and sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "vectors.bin"]
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def test_encode_output_dash_is_npy_on_stdout(tiny, tmp_path: Path) -> None:
    inp = _input(tmp_path)
    cmd = [sys.executable, "-m", "m2v_edge", "encode", str(tiny[1]), "--input", str(inp), "--output", "-"]
    done = subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    vectors = np.load(io.BytesIO(done.stdout), allow_pickle=False)
    assert np.array_equal(vectors, StaticOnnxModel.from_pretrained(tiny[1]).encode(["hello", "world"]))
    assert b"wrote <stdout>" in done.stderr and not (tmp_path / "-.npy").exists() and not Path("-.npy").exists()


def test_encode_output_equal_to_input_is_refused(tiny, tmp_path: Path, capsys) -> None:
    inp = _input(tmp_path)
    link = tmp_path / "same.txt"
    link.symlink_to(inp)
    for out in (inp, link):
        one_line_error(capsys, ["encode", str(tiny[1]), "--input", str(inp), "--output", str(out)], "is also the input")
    assert inp.read_text(encoding="utf-8") == "hello\nworld\n"


def test_undecodable_argument_is_a_clear_error(tiny) -> None:
    cmd = [sys.executable, "-m", "m2v_edge", "similarity", str(tiny[1]).encode(), b"\xff", b"doc"]
    done = subprocess.run(cmd, capture_output=True, timeout=120)
    err = done.stderr.decode()
    assert done.returncode == 2 and len(err.strip().splitlines()) == 1, err
    assert "argument QUERY is not valid UTF-8 (byte 0xFF at position 0)" in err


def test_demo_invalid_host(capsys) -> None:
    one_line_error(capsys, ["demo", "--host", "999.1.1.1"], "--host '999.1.1.1' is not a valid address")


def test_unexpected_error_is_one_line_naming_the_file(tiny, monkeypatch, capsys) -> None:
    def boom(args: object) -> int:
        raise TypeError("something nobody expected\nsecond line")

    monkeypatch.setattr(cli_module.COMMANDS["info"], "run", boom)
    err = one_line_error(capsys, ["info", str(tiny[1])], str(tiny[1]), "internal error", "TypeError", code=70)
    assert "second line" not in err


def test_search_top_k_must_be_positive_int_or_none(tiny) -> None:
    model = StaticOnnxModel.from_pretrained(tiny[1])
    for bad in (-1, 0, 1.5, "2", True):
        with pytest.raises(ValueError, match="top_k must be a positive integer or None"):
            model.search("q", ["a", "b"], top_k=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="top_k"):
        model.search("q", [], top_k=-1)
    assert len(model.search("q", ["a", "b"], top_k=1)) == 1 and len(model.search("q", ["a", "b"])) == 2


def test_wrong_argument_types_name_the_argument(tiny) -> None:
    model = StaticOnnxModel.from_pretrained(tiny[1])
    for bad in ("5", 0, -3, 1.5, True):
        with pytest.raises(ValueError, match="max_length must be a positive integer or None"):
            model.encode(["a"], max_length=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        model.encode(["a"], batch_size=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="texts must be a string or an iterable"):
        model.encode(b"bytes")  # type: ignore[arg-type]
    assert np.array_equal(model.encode(["a b"], max_length=np.int64(1)), model.encode(["a b"], max_length=1))


def test_lone_surrogate_is_a_clear_error(tiny) -> None:
    model = StaticOnnxModel.from_pretrained(tiny[1])
    with pytest.raises(ValueError, match=r"texts\[1\] holds a lone surrogate U\+D800 at position 2, not valid"):
        model.encode(["fine", "ab\ud800c"])
    with pytest.raises(ValueError, match=r"text holds a lone surrogate U\+DCFF at position 0"):
        model.encode("\udcff")
    with pytest.raises(ValueError, match="lone surrogate"):
        model.search("q\ud800", ["a"])


def test_encode_accepts_any_iterable_of_str(tiny) -> None:
    model = StaticOnnxModel.from_pretrained(tiny[1])
    texts = ["hello world", "", "neural networks", "café 🚀"]
    want = model.encode(texts)
    assert np.array_equal(model.encode(t for t in texts), want)
    assert np.array_equal(model.encode(np.array(texts)), want)
    assert np.array_equal(model.encode(tuple(texts)), want)
    assert model.encode(iter([])).shape == (0, 16)
    with pytest.raises(ValueError, match=r"texts\[1\] is int"):
        model.encode(x for x in ["a", 3])


@settings(
    max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(st.text(max_size=60), min_size=1, max_size=6))
def test_encode_random_unicode_equals_model2vec(texts: list[str], tiny) -> None:
    got = _model(tiny[1]).encode(texts)
    want = _reference(tiny[0]).encode(texts)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)  # float32 export: same tokens, same means


_CACHE: dict[Path, object] = {}


def _model(folder: Path) -> StaticOnnxModel:
    return _CACHE.setdefault(folder, StaticOnnxModel.from_pretrained(folder))  # type: ignore[return-value]


def _reference(folder: Path):  # noqa: ANN202
    from model2vec import StaticModel

    return _CACHE.setdefault(folder, StaticModel.from_pretrained(folder))
