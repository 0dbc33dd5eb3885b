"""Issue 10: export never deletes or replaces what it did not write; races, permissions, stale folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from m2v_edge import export_model
from m2v_edge.cli import main
from m2v_edge.contract import ExportFiles
from m2v_edge.export import exporter, publish
from m2v_edge.export.publish import MARKER, OutputError
from tests.cli_checks import one_line_error
from tests.fixtures import make_tiny_model

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model("wordpiece", tmp_path_factory.mktemp("safety") / "src")


@pytest.fixture(params=["renameat2", "portable"])
def primitive(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with Linux renameat2 and with the portable fallback (mkdir claim + rename; move aside)."""
    if request.param == "portable":
        monkeypatch.setattr(publish, "_libc", lambda: None)
    elif publish._libc() is None:
        pytest.skip("renameat2 is not available here")
    return str(request.param)


def _user_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "thesis.docx").write_bytes(b"years of work")
    return path


def _hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_force_refuses_a_user_folder(src: Path, tmp_path: Path, capsys) -> None:
    docs = _user_folder(tmp_path / "Documents")
    one_line_error(capsys, ["export", str(src), "-o", str(docs), "--force"], str(docs), "not an m2v-edge export")
    assert (docs / "thesis.docx").read_bytes() == b"years of work"


@pytest.mark.parametrize("where", ["same", "inside", "parent"])
def test_output_equal_inside_or_parent_of_source_is_refused(where: str, tmp_path: Path, capsys) -> None:
    source = make_tiny_model("wordpiece", tmp_path / "models" / "src")
    (tmp_path / "models" / "sibling.txt").write_text("keep me")
    out = {"same": source, "inside": source / "onnx", "parent": tmp_path / "models"}[where]
    link = tmp_path / "link"
    link.symlink_to(out if out.exists() else source)  # via a symlink too: resolved before comparing
    for target in (out, link):
        if where == "inside" and target == link:
            continue
        err = one_line_error(capsys, ["export", str(source), "-o", str(target), "--force", "-q"])
        assert "source folder" in err
    assert (source / "model.safetensors").is_file() and (tmp_path / "models" / "sibling.txt").is_file()


def test_force_replaces_an_empty_folder_and_an_earlier_export(src: Path, tmp_path: Path, primitive: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", str(src), "-o", str(out), "--force", "-q"]) == 0
    assert main(["export", str(src), "-o", str(out), "--force", "-q", "--dtype", "float32"]) == 0
    assert json.loads((out / "config.json").read_text())["dtype"] == "float32"
    assert not (out / MARKER).exists() and _hidden(tmp_path) == []


def test_four_concurrent_exports_one_wins(src: Path, tmp_path: Path, monkeypatch, primitive: str) -> None:
    out = tmp_path / "out"
    barrier = threading.Barrier(4, timeout=60)
    real = exporter.publish

    def racing_publish(staging: Path, output: Path, force: bool) -> None:
        barrier.wait()  # all four reach the final move together: the check at the start saw no folder
        real(staging, output, force)

    monkeypatch.setattr(exporter, "publish", racing_publish)
    results: list[object] = []

    def run() -> None:
        try:
            results.append(export_model(src, out))
        except OutputError as err:
            results.append(err)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [r for r in results if isinstance(r, OutputError)]
    assert len(results) == 4 and len(errors) == 3, results
    assert all("appeared while exporting" in str(e) and "nothing was replaced" in str(e) for e in errors)
    assert ExportFiles(out).model.is_file() and _hidden(tmp_path) == []


def test_four_concurrent_cli_exports_exit_0_once_and_2_otherwise(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "m2v_edge", "export", str(src), "-o", str(out), "-q"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    done = [(p.wait(timeout=120), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    assert sorted(code for code, _ in done) == [0, 2, 2, 2], done
    for code, err in done:
        if code == 2:
            assert len(err.strip().splitlines()) == 1 and str(out) in err
    assert (out / "config.json").is_file() and _hidden(tmp_path) == []


@pytest.mark.parametrize("force", [False, True])
def test_user_folder_appearing_mid_export_survives(
    force: bool, src: Path, tmp_path: Path, monkeypatch, primitive: str
) -> None:
    out = tmp_path / "out"
    if force:
        export_model(src, out)  # an earlier export: --force may replace it...
    real = exporter.publish

    def user_acts(staging: Path, output: Path, force: bool) -> None:
        if output.exists():  # ...but the user moves it away and puts their own folder there meanwhile
            output.rename(tmp_path / "moved-export")
        _user_folder(output)
        real(staging, output, force)

    monkeypatch.setattr(exporter, "publish", user_acts)
    with pytest.raises(OutputError, match="appeared while exporting|no longer an earlier export"):
        export_model(src, out, force=force)
    assert (out / "thesis.docx").read_bytes() == b"years of work"
    assert sorted(p.name for p in out.iterdir()) == ["thesis.docx"]
    assert _hidden(tmp_path) == []


def test_exported_files_get_normal_permissions(src: Path, tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        export_model(src, tmp_path / "out")
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o750
    entries = list((tmp_path / "out").rglob("*"))
    assert {f.stat().st_mode & 0o777 for f in entries if f.is_file()} == {0o640}
    assert {f.stat().st_mode & 0o777 for f in entries if f.is_dir()} <= {0o750}  # onnx/ in the hf layout


def test_missing_parent_folders_are_created(src: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(src), "-o", "out/x", "-q"]) == 0
    assert ExportFiles(tmp_path / "out" / "x").model.is_file()


def test_dot_as_output_is_a_sane_error(src: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    _user_folder(tmp_path / "cwd")
    monkeypatch.chdir(tmp_path / "cwd")
    err = one_line_error(capsys, ["export", str(src), "-o", "."], "already exists")
    assert "empty name" not in err and str(tmp_path / "cwd") in err
    one_line_error(capsys, ["export", str(src), "-o", ".", "--force"], "not an m2v-edge export")
    assert (tmp_path / "cwd" / "thesis.docx").is_file()
    (tmp_path / "file").write_text("x")
    one_line_error(capsys, ["export", str(src), "-o", str(tmp_path / "file"), "--force"], "is a file")


def test_force_on_a_symlink_replaces_the_link_not_its_target(src: Path, tmp_path: Path, capsys, primitive: str) -> None:
    target = tmp_path / "v1"
    export_model(src, target)
    link = tmp_path / "current"
    link.symlink_to(target)
    assert main(["export", str(src), "-o", str(link), "--force", "-q", "--dtype", "float32"]) == 0
    assert not link.is_symlink() and json.loads((link / "config.json").read_text())["dtype"] == "float32"
    assert json.loads((target / "config.json").read_text())["dtype"] == "int8", "the link's target is kept"
    assert _hidden(tmp_path) == [], "no stale .old-* link"
    user_link = tmp_path / "docs-link"
    user_link.symlink_to(_user_folder(tmp_path / "docs"))
    one_line_error(capsys, ["export", str(src), "-o", str(user_link), "--force"], "not an m2v-edge export")


def test_stale_partial_folders_of_ours_are_cleaned(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    script = (
        "import sys, time\nfrom m2v_edge.export import exporter\n"
        "exporter.publish = lambda *a: time.sleep(120)\n"
        f"exporter.export_model({str(src)!r}, {str(out)!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 90
    while not any((p / "README.md").exists() for p in tmp_path.glob(".out.partial-*")):
        assert time.monotonic() < deadline and proc.poll() is None, "the export never reached its final move"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (killed,) = tmp_path.glob(".out.partial-*")
    user = _user_folder(tmp_path / ".out.partial-mine")  # same pattern, no marker: not ours
    live = tmp_path / ".out.partial-live"  # ours but its process still runs: not stale
    live.mkdir()
    (live / MARKER).write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename}))
    export_model(src, out)
    assert not killed.exists() and user.is_dir() and live.is_dir()


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_tables_that_overflow_when_stored_are_refused(dtype: str, tmp_path: Path, capsys) -> None:
    source = make_tiny_model("wordpiece", tmp_path / "src")
    tensors = load_file(str(source / "model.safetensors"))
    table = tensors["embeddings"].astype(np.float64)
    table[250] = 1e300  # finite in float64, inf in float32; a token no probe text uses
    save_file({"embeddings": table}, str(source / "model.safetensors"))
    one_line_error(
        capsys, ["export", str(source), "-o", str(tmp_path / "out"), "--dtype", dtype, "-q"], "float32's range"
    )
    assert not (tmp_path / "out").exists() and _hidden(tmp_path) == []


def test_self_check_refuses_non_finite_graph_output(src: Path, tmp_path: Path, monkeypatch) -> None:
    from m2v_edge.runtime.model import StaticOnnxModel

    real = StaticOnnxModel.encode
    monkeypatch.setattr(StaticOnnxModel, "encode", lambda self, texts, **kw: real(self, texts, **kw) * np.nan)
    with pytest.raises(ValueError, match="the exported graph gives NaN or inf for probe text 0"):
        export_model(src, tmp_path / "out")
    assert not (tmp_path / "out").exists() and _hidden(tmp_path) == []
