"""scripts/check-arm64.sh: syntax, its embedded Python (inputs, comparison), and the full run when asked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "check-arm64.sh"


def _heredoc(name: str) -> str:
    """The Python program between ``<<'NAME'`` and ``NAME`` in the script."""
    match = re.search(rf"<<'{name}'\n(.*?)\n{name}\n", SCRIPT.read_text(encoding="utf-8"), re.S)
    assert match, f"no {name} heredoc in {SCRIPT}"
    return match.group(1)


def _run_py(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-", *args], input=code, capture_output=True, text=True, timeout=120)


def test_script_is_valid_bash() -> None:
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_inputs_are_sts_sentences_plus_tricky_texts(tmp_path: Path) -> None:
    out = tmp_path / "texts.txt"
    result = _run_py(_heredoc("TEXTS_PY"), str(REPO), str(out), "100")
    assert result.returncode == 0, result.stderr
    texts = out.read_text(encoding="utf-8").split("\n")[:-1]
    rows = (REPO / "src/m2v_edge/source/data/stsb/sts-test.csv").read_text(encoding="utf-8").splitlines()
    expected = [s for row in rows[:100] for s in row.split("\t")[5:7]]
    assert texts[:200] == expected
    tricky = texts[200:]
    assert "" in tricky
    assert any(len(t.split()) > 512 for t in tricky)
    assert any("\u4e00" <= c <= "\u9fff" for t in tricky for c in t)  # CJK
    assert any(ord(c) > 0xFFFF for t in tricky for c in t)  # emoji (astral plane)


@pytest.mark.parametrize(("shift", "passes"), [(0.0, True), (5e-6, True), (2e-5, False)])
def test_comparison_threshold(tmp_path: Path, shift: float, passes: bool) -> None:
    rng = np.random.default_rng(0)
    host = rng.standard_normal((4, 8)).astype(np.float32)
    arm = host.copy()
    arm[2, 3] += np.float32(shift)
    np.save(tmp_path / "host.npy", host)
    np.save(tmp_path / "arm64.npy", arm)
    (tmp_path / "texts.txt").write_text("a\nb\nc\nd\n", encoding="utf-8")
    result = _run_py(_heredoc("COMPARE_PY"), str(tmp_path), "1e-5")
    assert (result.returncode == 0) is passes, result.stdout + result.stderr
    assert ("OK:" if passes else "FAIL:") in result.stdout
    if shift:
        assert "(row 2:" in result.stdout


def test_comparison_rejects_shape_mismatch(tmp_path: Path) -> None:
    np.save(tmp_path / "host.npy", np.zeros((3, 8), np.float32))
    np.save(tmp_path / "arm64.npy", np.zeros((2, 8), np.float32))
    (tmp_path / "texts.txt").write_text("a\nb\nc\n", encoding="utf-8")
    result = _run_py(_heredoc("COMPARE_PY"), str(tmp_path), "1e-5")
    assert result.returncode == 1
    assert "FAIL" in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("M2V_EDGE_ARM64") != "1", reason="set M2V_EDGE_ARM64=1 (root, a few minutes)")
def test_full_arm64_run() -> None:
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "OK: max abs diff <= 1e-05" in result.stdout
