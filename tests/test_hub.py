"""Hub ids for export, eval and demo, from a Hugging Face cache made here (HF_HUB_OFFLINE=1: no network)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from m2v_edge import StaticOnnxModel, export_model
from m2v_edge.cli import main
from m2v_edge.contract import read_config
from m2v_edge.extras import MissingExtraError
from m2v_edge.source.folder import load_source
from m2v_edge.source.hub import repo_id_from_path, resolve_model
from tests.conftest import ROOT

FROZEN_SOURCE = ROOT / "tests" / "data" / "v1-wordpiece" / "source"
MAIN_COMMIT = "a" * 40
V2_COMMIT = "b" * 40


def add_to_cache(home: Path, repo_id: str, folder: Path, commit: str, ref: str | None = "main") -> Path:
    """Put ``folder`` into ``$HF_HOME/hub`` the way huggingface_hub lays out a snapshot (``refs/<ref>`` -> commit)."""
    repo = home / "hub" / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    shutil.copytree(folder, snapshot)
    if ref is not None:
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / ref).write_text(commit, encoding="utf-8")
    return snapshot


@pytest.fixture
def hf_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    add_to_cache(home, "org/tiny-wordpiece", FROZEN_SOURCE, MAIN_COMMIT)
    return home


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_export_hub_id_from_the_offline_cache(hf_home, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["export", "org/tiny-wordpiece", "-o", str(out), "-q"]) == 0
    config = read_config(out)
    assert config["source"]["name"] == "org/tiny-wordpiece"
    assert config["source"]["sha256"] == load_source(FROZEN_SOURCE).sha256
    assert "base_model: org/tiny-wordpiece" in (out / "README.md").read_text(encoding="utf-8")
    assert "exported org/tiny-wordpiece" in capsys.readouterr().out


def test_export_hub_revision(hf_home, tmp_path):
    from tests.fixtures import make_tiny_model

    other = make_tiny_model("unigram", tmp_path / "unigram")
    add_to_cache(hf_home, "org/tiny-wordpiece", other, V2_COMMIT, ref="v2")
    for revision in ("v2", V2_COMMIT):
        out = tmp_path / f"out-{revision[:4]}"
        assert main(["export", "org/tiny-wordpiece", "--revision", revision, "-o", str(out), "-q"]) == 0
        assert read_config(out)["source"]["sha256"] == load_source(other).sha256


def test_offline_and_not_cached_is_one_line(hf_home, tmp_path, capsys):
    assert main(["export", "org/not-cached", "-o", str(tmp_path / "out")]) == 2
    err = _one_error_line(capsys)
    assert "org/not-cached: no such folder, and not in the Hugging Face cache" in err and "HF_HUB_OFFLINE" in err
    assert main(["export", "org/tiny-wordpiece", "--revision", "v9", "-o", str(tmp_path / "out")]) == 2
    assert "org/tiny-wordpiece@v9" in _one_error_line(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["eval"], ["demo", "--port", "7999"]])
def test_eval_and_demo_resolve_hub_ids(hf_home, capsys, command):
    assert main([command[0], "org/not-cached", *command[1:]]) == 2
    assert "org/not-cached: no such folder, and not in the Hugging Face cache" in _one_error_line(capsys)


def test_exported_model_on_the_hub(hf_home, tmp_path):
    export = tmp_path / "export"
    export_model(FROZEN_SOURCE, export, dtype="int8")
    add_to_cache(hf_home, "org/tiny-onnx", export, MAIN_COMMIT)
    folder = resolve_model("org/tiny-onnx", exported=True)
    assert repo_id_from_path(folder) == "org/tiny-onnx"
    model = StaticOnnxModel.from_pretrained(folder)
    assert model.encode("hello").shape == (16,)


def test_local_folders_and_bad_names(tmp_path):
    assert resolve_model(FROZEN_SOURCE) == FROZEN_SOURCE
    with pytest.raises(ValueError, match="--revision applies to Hub ids, not to a local folder"):
        resolve_model(FROZEN_SOURCE, revision="main")
    with pytest.raises(FileNotFoundError, match="no such folder"):
        resolve_model(tmp_path / "missing" / "deeper" / "folder")


def test_missing_extras_are_one_line(monkeypatch, tmp_path, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in ("onnx", "huggingface_hub") else real(name, *a)
    )
    assert main(["export", str(FROZEN_SOURCE), "-o", str(tmp_path / "out")]) == 2
    assert "needs onnx: install m2v-edge[export]" in _one_error_line(capsys)
    with pytest.raises(MissingExtraError, match=r"org/anything: no such folder; loading it as a Hub id needs"):
        resolve_model("org/anything")


def test_from_pretrained_of_a_hub_id_exports_once_into_the_cache(hf_home, tmp_path, monkeypatch):
    # model2vec's StaticModel.from_pretrained("org/name") works here too: the snapshot is exported into the cache
    monkeypatch.setenv("M2V_EDGE_CACHE", str(tmp_path / "cache"))
    model = StaticOnnxModel.from_pretrained("org/tiny-wordpiece", token=None, force_download=True)
    assert model.files.root.parent == tmp_path / "cache" and model.base_model_name == "org/tiny-wordpiece"
    reference = StaticOnnxModel.from_pretrained(export_model(FROZEN_SOURCE, tmp_path / "direct").output)
    texts = ["hello world", "", "unknown zzz tokens"]
    assert (abs(model.encode(texts) - reference.encode(texts)) <= 1e-6).all()
    again = StaticOnnxModel.from_pretrained("org/tiny-wordpiece")
    assert again.files.root == model.files.root and len(list((tmp_path / "cache").iterdir())) == 1
    with pytest.raises(FileNotFoundError, match="no such"):
        StaticOnnxModel.from_pretrained("org/not-cached")
