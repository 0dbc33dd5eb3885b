"""Issue 10: a broken or hostile exported folder is a clear error at load (API and CLI), never a vector.

Includes the property test: random corruptions of an export give a clear error or the original vectors.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m2v_edge import StaticOnnxModel, export_model
from m2v_edge.cli import main
from m2v_edge.contract import ExportFiles
from tests.corrupt import PROBES, catalogue, copy_export, edit_config, poison_tokens
from tests.fixtures import make_tiny_model


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("safety-load")
    return export_model(make_tiny_model("wordpiece", root / "src"), root / "export").output


@pytest.fixture(scope="module")
def reference(tiny_export: Path) -> np.ndarray:
    return StaticOnnxModel.from_pretrained(tiny_export).encode(PROBES)


def _config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text(encoding="utf-8"))


CASES = catalogue({"vocab_size": 300, "dim": 16})  # names only; rebuilt per export below


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_export_is_a_clear_error(case: str, tiny_export: Path, reference: np.ndarray, tmp_path: Path) -> None:
    change, expected = catalogue(_config(tiny_export))[case]
    folder = copy_export(tiny_export, tmp_path / case)
    change(folder)
    if expected is None:
        assert np.array_equal(StaticOnnxModel.from_pretrained(folder).encode(PROBES), reference)
        return
    with pytest.raises(ValueError, match=expected) as info:
        StaticOnnxModel.from_pretrained(folder)
    assert len(str(info.value).splitlines()) == 1


@pytest.mark.parametrize("case", ["config_null", "format_version_string", "output_renamed", "inputs_int32",
                                  "pad_out_of_range", "tokenizer_more_tokens", "dim_wrong"])  # fmt: skip
def test_cli_on_broken_export_is_one_line_exit_2(case: str, tiny_export: Path, tmp_path: Path, capsys) -> None:
    change, expected = catalogue(_config(tiny_export))[case]
    folder = copy_export(tiny_export, tmp_path / case)
    change(folder)
    inp = tmp_path / "in.txt"
    inp.write_text("hello\n", encoding="utf-8")
    for argv in (["similarity", str(folder), "q", "doc"], ["info", str(folder)],
                 ["encode", str(folder), "--input", str(inp), "--output", str(tmp_path / "v.npy")]):  # fmt: skip
        code = main(argv)
        err = capsys.readouterr().err.strip()
        if argv[0] == "info" and case in ("output_renamed", "inputs_int32", "tokenizer_more_tokens", "dim_wrong"):
            assert code == 0  # info reads config.json only, and that one is fine
            continue
        assert code == 2, (argv, err)
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert str(folder) in err


def test_eval_and_demo_on_broken_export_are_one_line(tiny_export: Path, tmp_path: Path, capsys) -> None:
    folder = copy_export(tiny_export, tmp_path / "broken")
    edit_config(folder, lambda c: c.__setitem__("pad_token_id", 10**6))
    for argv in (["eval", str(folder)], ["demo", str(folder), "--port", "7999"]):
        code = main(argv)
        err = capsys.readouterr().err.strip()
        assert code == 2, (argv, err)
        assert "pad_token_id must be an integer in" in err and len(err.splitlines()) == 1


def test_source_config_max_length_negative_is_refused(tmp_path: Path, capsys) -> None:
    src = make_tiny_model("wordpiece", tmp_path / "src")
    edit_config(src, lambda c: c.__setitem__("max_length", -1))
    assert main(["export", str(src), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "max_length must be a positive integer or null" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_graph_nan_output_is_refused_at_encode(tiny_export: Path, tmp_path: Path) -> None:
    folder = copy_export(tiny_export, tmp_path / "nan")
    poison_tokens(folder, StaticOnnxModel.from_pretrained(tiny_export).tokenizer.encode_ids(["quick"])[0])
    model_nan = StaticOnnxModel.from_pretrained(folder)  # the load probe does not use these tokens
    assert np.isfinite(model_nan.encode(["fox"])).all()
    with pytest.raises(ValueError, match="NaN or inf"):
        model_nan.encode(["the quick fox"])


# --- property: random corruptions ------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
_KEYS = ["format_version", "dim", "vocab_size", "dtype", "normalize", "max_length", "median_token_length",
         "unk_token_id", "pad_token_id", "output", "model_type"]  # fmt: skip


@st.composite
def corruptions(draw: st.DrawFn) -> tuple[str, object]:
    kind = draw(st.sampled_from(["set", "delete", "replace_config", "truncate", "flip_byte", "catalogue"]))
    if kind == "set":
        return kind, (draw(st.sampled_from(_KEYS)), draw(_JSON))
    if kind == "delete":
        return kind, draw(st.sampled_from(_KEYS))
    if kind == "replace_config":
        return kind, draw(_JSON)
    if kind == "truncate":
        return kind, (draw(st.sampled_from(["model.onnx", "tokenizer.json", "config.json"])), draw(st.floats(0, 1)))
    if kind == "flip_byte":  # not model.onnx / tokenizer.json: a flipped weight or token string is not detectable
        return kind, ("config.json", draw(st.floats(0, 1)))  # without a checksum (docs/format.md, "Safety")
    return kind, draw(st.sampled_from(sorted(CASES)))


def _apply(folder: Path, kind: str, arg: object) -> None:
    if kind == "set":
        key, value = arg  # type: ignore[misc]
        edit_config(folder, lambda c: c.__setitem__(key, value))
    elif kind == "delete":
        edit_config(folder, lambda c: c.pop(arg, None))
    elif kind == "replace_config":
        (folder / "config.json").write_text(json.dumps(arg), encoding="utf-8")
    elif kind in ("truncate", "flip_byte"):
        name, where = arg  # type: ignore[misc]
        name = ExportFiles(folder).model_name if name == "model.onnx" else name  # the graph, in either layout
        data = bytearray((folder / name).read_bytes())
        at = min(int(where * len(data)), len(data) - 1)
        if kind == "truncate":
            del data[at:]
        else:
            data[at] ^= 0xFF
        (folder / name).write_bytes(bytes(data))
    else:
        catalogue(_config(folder))[str(arg)][0](folder)


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corruption=corruptions())
def test_random_corruption_gives_clear_error_or_same_vectors(
    corruption: tuple[str, object], tiny_export: Path, reference: np.ndarray, tmp_path: Path
) -> None:
    folder = tmp_path / "c"
    shutil.rmtree(folder, ignore_errors=True)
    copy_export(tiny_export, folder)
    _apply(folder, *corruption)
    try:
        model = StaticOnnxModel.from_pretrained(folder)
        got = model.encode(PROBES)
    except (ValueError, FileNotFoundError) as err:
        assert str(err) and len(str(err).splitlines()) == 1 and "Traceback" not in str(err)
        return
    np.testing.assert_allclose(got, reference, rtol=0, atol=1e-6, err_msg=f"silent wrong vectors: {corruption}")
