"""The wheel: what it holds (the package and its data, no test support, no clone-only benchmarks), and that
``pip install m2v-edge`` (in a fresh venv) runs exports without onnx while ``export`` names its extra."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest

from m2v_edge import StaticOnnxModel
from tests.conftest import POTION, ROOT

TEXTS = ["How do I train a neural network?", "naïve café 🚀", ""]
# bench/ is the one home of the benchmarks; its studies and the web bench run from a clone only
CLONE_ONLY = ("m2v_edge/bench/studies/", "m2v_edge/bench/web/")


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Without PYTHONPATH: a checkout on it would shadow the installed wheel."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(args, capture_output=True, text=True, timeout=600, env=env, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel ``pip wheel`` builds from a copy of the tree (an in-tree build would leave build/ and *.egg-info)."""
    tmp = tmp_path_factory.mktemp("wheel")
    tree = tmp / "tree"
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, tree / name)
    dist = tmp / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(tree)])
    assert built.returncode == 0, built.stderr[-2000:]
    (found,) = dist.glob("m2v_edge-*.whl")
    return found


def test_wheel_holds_the_package_and_its_data_and_no_test_support(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = {n for n in archive.namelist() if not n.startswith("m2v_edge-")}  # minus the .dist-info
    every = {str(p.relative_to(ROOT / "src")) for p in (ROOT / "src" / "m2v_edge").rglob("*.py")}
    modules = {n for n in every if not n.startswith(CLONE_ONLY)}
    assert len(every - modules) >= 2 and "m2v_edge/bench/runner.py" in modules
    assert {n for n in names if n.endswith(".py")} == modules  # every module but the clone-only ones, nothing else
    assert not [n for n in names if n.startswith(CLONE_ONLY)], "bench/studies/ or bench/web/ in the wheel"
    assert all(n.startswith("m2v_edge/") for n in names), sorted(n for n in names if not n.startswith("m2v_edge/"))
    shipped = {Path(n).name for n in names}
    assert not [n for n in shipped if n.startswith(("test", "conftest"))], "test support in the wheel"
    data = ROOT / "src" / "m2v_edge" / "source" / "data"
    wanted = {str(p.relative_to(ROOT / "src")) for p in data.rglob("*") if p.is_file()}
    assert len(wanted) >= 10 and wanted <= names  # STS-B (isotropy, eval, bench) and the eval sets ship
    assert "m2v_edge/py.typed" in names


@pytest.mark.slow
def test_plain_install_runs_exports_without_the_exporter(tmp_path: Path, potion_int8: Path, wheel: Path) -> None:

    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    installed = _run([str(python), "-m", "pip", "install", "-q", str(wheel)])
    assert installed.returncode == 0, installed.stderr[-2000:]

    probe = (
        "import importlib.util, json, sys\n"
        "from m2v_edge import StaticOnnxModel\n"
        "missing = [m for m in ('onnx', 'safetensors', 'gradio') if importlib.util.find_spec(m) is None]\n"
        f"vectors = StaticOnnxModel.from_pretrained(sys.argv[1]).encode({TEXTS!r})\n"
        "print(json.dumps({'missing': missing, 'vectors': vectors.tolist()}))\n"
    )
    ran = _run([str(python), "-c", probe, str(potion_int8)], cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr[-2000:]
    result = json.loads(ran.stdout)
    assert result["missing"] == ["onnx", "safetensors", "gradio"]
    expected = StaticOnnxModel.from_pretrained(potion_int8).encode(TEXTS)
    assert np.abs(np.asarray(result["vectors"], dtype=np.float32) - expected).max() <= 1e-6

    cli = env_dir / "bin" / "m2v-edge"
    exported = _run([str(cli), "export", str(POTION), "-o", str(tmp_path / "out")], cwd=tmp_path)
    assert exported.returncode == 2
    assert exported.stderr.strip().splitlines() == [
        "m2v-edge export: error: export needs onnx, safetensors: "
        "install m2v-edge[export] (pip install 'm2v-edge[export]')"
    ]
    assert not (tmp_path / "out").exists()

    bench = _run([str(cli), "bench", "--help"], cwd=tmp_path)  # the packaged bench stays, its studies do not
    assert bench.returncode == 0 and "--study" in bench.stdout, bench.stderr[-2000:]
    study = _run([str(cli), "bench", "--study", "parity_table"], cwd=tmp_path)
    assert study.returncode == 2
    assert study.stderr.strip().splitlines() == [
        "m2v-edge bench: error: --study parity_table: the benchmark studies are not installed "
        "(a clone has them; see docs/bench.md)"
    ]
