"""Issue 24, the Python side: checksums in the format, one path rule set, the largest tokenizer id, --force that
keeps foreign files, garbage staging markers, onnxruntime's log lines, and tables near float32's range.

Includes the property test: random bytes of any file of an export changed give a clear error or the same vectors.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m2v_edge import StaticOnnxModel, export_model
from m2v_edge import validate as validate_module
from m2v_edge.cli import main
from m2v_edge.contract import CHECKSUMS_KEY, METADATA_KEY, ExportFiles, check_folder_path
from m2v_edge.export.publish import MARKER
from m2v_edge.validate import file_sha256
from tests.cli_checks import one_line_error
from tests.corrupt import PROBES, copy_export, edit_config, edit_graph, flip_byte, rehash
from tests.fixtures import make_tiny_model

ROOT = Path(__file__).resolve().parents[1]
PATHS = json.loads((ROOT / "tests" / "data" / "folder_paths.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two tiny models of the same tokenizer and width, different tables."""
    root = tmp_path_factory.mktemp("integrity-src")
    return make_tiny_model("wordpiece", root / "a", seed=0), make_tiny_model("wordpiece", root / "b", seed=1)


@pytest.fixture(scope="module")
def export(sources: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An int8 export with the mobile .ort graph (every file kind the exporter writes)."""
    out = tmp_path_factory.mktemp("integrity") / "export"
    return export_model(sources[0], out, target="mobile", isotropy="none").output


@pytest.fixture(scope="module")
def reference(export: Path) -> np.ndarray:
    return StaticOnnxModel.from_pretrained(export).encode(PROBES)


def _config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text(encoding="utf-8"))


def _drop_checksums(folder: Path) -> None:
    """Make the folder look like an export from before checksums."""
    edit_config(folder, lambda c: c.__delitem__(CHECKSUMS_KEY))


def test_export_records_the_sha256_of_every_other_file(export: Path) -> None:
    listed = _config(export)[CHECKSUMS_KEY]
    on_disk = set(ExportFiles(export).sizes()) - {"config.json"}
    assert set(listed) == on_disk and "onnx/model_quantized.ort" in listed
    assert all(file_sha256(export / name) == sha for name, sha in listed.items())


@pytest.mark.parametrize("use_ort", [False, True])
def test_a_flipped_graph_byte_is_refused_naming_the_file(use_ort: bool, export: Path, tmp_path: Path) -> None:
    folder = copy_export(export, tmp_path / "f")
    name = "onnx/model_quantized." + ("ort" if use_ort else "onnx")
    flip_byte(folder, name, 0.6)
    with pytest.raises(ValueError, match=f"{name}: sha256 .* differs from config.json") as info:
        StaticOnnxModel.from_pretrained(folder, use_ort_format=use_ort)
    assert len(str(info.value).splitlines()) == 1 and "re-export" in str(info.value)


@pytest.mark.parametrize("with_checksums", [True, False])
def test_another_models_graph_of_the_same_width_is_refused(
    with_checksums: bool, sources: tuple[Path, Path], export: Path, tmp_path: Path
) -> None:
    other = export_model(sources[1], tmp_path / "other", isotropy="none").output
    folder = copy_export(export, tmp_path / "mixed")
    shutil.copy(ExportFiles(other).model, ExportFiles(folder).model)
    if not with_checksums:  # an export made before checksums: the graph's own config still tells
        _drop_checksums(folder)
    expected = "differs from config.json" if with_checksums else "the graph was exported for source.sha256"
    with pytest.raises(ValueError, match=expected):
        StaticOnnxModel.from_pretrained(folder)


def test_an_export_without_checksums_loads_with_one_notice(
    export: Path, reference: np.ndarray, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    monkeypatch.setattr(validate_module, "_noticed", [])
    folder = copy_export(export, tmp_path / "old")
    _drop_checksums(folder)
    with caplog.at_level("WARNING", logger="m2v_edge.validate"):
        for _ in range(2):
            assert np.array_equal(StaticOnnxModel.from_pretrained(folder).encode(PROBES), reference)
    notices = [r.getMessage() for r in caplog.records if "no checksums" in r.getMessage()]
    assert len(notices) == 1 and "re-export" in notices[0]


# --- property: random bytes of any file ----------------------------------------------------------------------

_FILES = ["config.json", "tokenizer.json", "onnx/model_quantized.onnx", "onnx/model_quantized.ort",
          "tokenizer_config.json", "special_tokens_map.json", "README.md"]  # fmt: skip


@settings(max_examples=50, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(_FILES),
    changes=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=4),
)
def test_random_bytes_of_any_file_give_a_clear_error_or_the_same_vectors(
    name: str, changes: list[tuple[float, int]], export: Path, reference: np.ndarray, tmp_path: Path
) -> None:
    folder = tmp_path / "c"
    shutil.rmtree(folder, ignore_errors=True)
    copy_export(export, folder)
    data = bytearray((folder / name).read_bytes())
    for where, xor in changes:
        data[int(where * len(data))] ^= xor
    (folder / name).write_bytes(bytes(data))
    use_ort = name.endswith(".ort")
    try:
        got = StaticOnnxModel.from_pretrained(folder, use_ort_format=use_ort).encode(PROBES)
    except (ValueError, FileNotFoundError) as err:
        assert str(err) and len(str(err).splitlines()) == 1 and "Traceback" not in str(err)
        return
    assert np.array_equal(got, reference), f"silent wrong vectors: {name} {changes}"


# --- #6 paths, #14 the largest id ----------------------------------------------------------------------------


def test_config_paths_follow_the_shared_rules() -> None:
    for path in PATHS["refused"]:
        with pytest.raises(ValueError, match="must be a plain relative path inside the folder"):
            check_folder_path(path, "model_file", "config.json")
    for path in PATHS["accepted"]:
        assert check_folder_path(path, "model_file", "config.json") == path


@pytest.mark.parametrize("key", ["model_file", "files"])
def test_a_percent_encoded_escape_is_refused_at_load(key: str, export: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    copy_export(export, root / "other")
    folder = copy_export(export, root / "model")
    escape = "%2e%2e/other/onnx/model_quantized.onnx"
    if key == "model_file":
        edit_config(folder, lambda c: c.__setitem__("model_file", escape))
    else:
        edit_config(folder, lambda c: c[CHECKSUMS_KEY].__setitem__(escape, "0" * 64))
    with pytest.raises(ValueError, match=f"{key} .* has an empty, . or .. segment"):
        StaticOnnxModel.from_pretrained(folder)


def test_a_token_id_past_the_table_is_refused_at_load(export: Path, tmp_path: Path, capsys) -> None:
    folder = copy_export(export, tmp_path / "dog")
    tok = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    tok["model"]["vocab"]["dog"] = 50000  # one id past the table among 300: the count of ids stays the same
    (folder / "tokenizer.json").write_text(json.dumps(tok), encoding="utf-8")
    rehash(folder)
    with pytest.raises(ValueError, match="tokenizer.json can produce ids up to 50000 but the table has"):
        StaticOnnxModel.from_pretrained(folder)
    one_line_error(capsys, ["similarity", str(folder), "dog", "cat"], "ids up to 50000")


# --- #3 --force, #15 staging markers ----------------------------------------------------------------------------


def test_force_never_deletes_files_the_export_did_not_write(sources: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    argv = ["export", str(sources[0]), "-o", str(out), "--isotropy", "none", "-q"]
    assert export_model(sources[0], out, isotropy="none").output == out
    (out / "notes.npy").write_bytes(b"mine")
    (out / ".git" / "objects").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    before = ExportFiles(out).sizes()
    one_line_error(capsys, [*argv, "--force"], "notes.npy", ".git/", "did not write")
    assert ExportFiles(out).sizes() == before and (out / ".git" / "objects").is_dir()
    _drop_checksums(out)  # an export from before the files list: the known names
    one_line_error(capsys, [*argv, "--force"], "notes.npy", ".git/")
    shutil.rmtree(out / ".git")
    (out / "notes.npy").unlink()
    capsys.readouterr()
    assert main([*argv, "--force"]) == 0 and _config(out)[CHECKSUMS_KEY]


@pytest.mark.parametrize("pid", [2**63, -5, 0, 1e300, "12", [1], None, True])
def test_a_garbage_staging_marker_does_not_stop_an_export(
    pid: object, sources: tuple[Path, Path], tmp_path: Path
) -> None:
    stale = tmp_path / ".out.partial-0badf00d"
    stale.mkdir()
    (stale / MARKER).write_text(json.dumps({"pid": pid, "host": os.uname().nodename}), encoding="utf-8")
    assert main(["export", str(sources[0]), "-o", str(tmp_path / "out"), "--isotropy", "none", "-q"]) == 0
    assert (tmp_path / "out" / "config.json").is_file()


# --- #18 onnxruntime's log, #19 huge tables ---------------------------------------------------------------------


def _drop_metadata(model: object) -> None:
    keep = [p for p in model.metadata_props if p.key != METADATA_KEY]  # type: ignore[attr-defined]
    del model.metadata_props[:]  # type: ignore[attr-defined]
    model.metadata_props.extend(keep)  # type: ignore[attr-defined]


def test_onnxruntime_log_lines_never_reach_stderr(export: Path, tmp_path: Path) -> None:
    folder = copy_export(export, tmp_path / "gather")
    edit_graph(folder, _drop_metadata)
    edit_config(folder, lambda c: c.__setitem__("vocab_size", c["vocab_size"] + 1000))  # the probe's Gather fails
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.run(
        [sys.executable, "-m", "m2v_edge", "similarity", str(folder), "a", "b"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "the graph fails on ids" in proc.stderr and "[E:onnxruntime" not in proc.stderr


@pytest.mark.parametrize("rows", ["one", "all"])
def test_a_table_near_float32s_range_is_one_clear_line_without_warnings(rows: str, tmp_path: Path, capsys) -> None:
    from safetensors.numpy import load_file, save_file

    source = make_tiny_model("wordpiece", tmp_path / "src")
    table = load_file(str(source / "model.safetensors"))["embeddings"].astype(np.float32)
    table[5 if rows == "one" else slice(None)] = 3e38  # finite in float32; sums and norms overflow
    save_file({"embeddings": table}, str(source / "model.safetensors"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        err = one_line_error(capsys, ["export", str(source), "-o", str(tmp_path / "out"), "-q"], "float32's range")
    assert ".partial" not in err and "staging" not in err and not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["src"]
