"""The clone-only benchmark studies (m2v_edge.bench.studies): found, runnable through ``m2v-edge bench --study``,
their errors one line with the documented exit codes. No timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from m2v_edge.bench import studies
from m2v_edge.bench.studies import hidden_output_cost, repo_root, shared_dir
from m2v_edge.cli import main
from m2v_edge.errors import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE
from tests.conftest import ROOT


def test_every_module_of_the_folder_is_a_study_with_main() -> None:
    files = sorted(p.stem for p in Path(studies.__file__).parent.glob("*.py") if p.stem != "__init__")
    assert studies.names() == files and "schedule_ab" in files
    assert repo_root() == ROOT
    assert shared_dir() == ROOT.parent / "shared"
    listed = (ROOT / "docs" / "bench.md").read_text(encoding="utf-8")
    assert "The studies: " + ", ".join(files) + "." in " ".join(listed.split())  # the docs list every study


@pytest.mark.parametrize("name", studies.names())
def test_each_study_parses_its_options(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--study", name, "--", "--help"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m m2v_edge.bench.studies.{name}")
    assert f"m2v-edge bench --study {name} --" in out


def test_unknown_study_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--study", "nope"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("m2v-edge bench: error: --study 'nope': no such study; choose")
    assert "schedule_ab" in err


def test_study_usage_error_and_failure_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "--study", "hidden_output_cost", "--", "--rows", "x"]) == EXIT_USAGE
    assert "argument --rows: invalid int value" in capsys.readouterr().err

    def fail(argv: list[str] | None = None) -> int:
        raise SystemExit("not enough unseen texts; use fewer rounds")

    monkeypatch.setattr(hidden_output_cost, "main", fail)
    assert main(["bench", "--study", "hidden_output_cost"]) == EXIT_RUNTIME
    assert capsys.readouterr().err == "m2v-edge bench: error: not enough unseen texts; use fewer rounds\n"


def test_a_study_runs_through_the_cli_and_with_python_m(potion_int8: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(potion_int8), "--rows", "2", "--repeats", "1", "--widths", "3"]
    assert main(["bench", "--study", "hidden_output_cost", "--", *args]) == EXIT_OK
    out = capsys.readouterr().out
    assert "added nodes onnxruntime ran for `embeddings` alone:" in out
    assert "random ids, width 3" in out and "same embeddings: True" in out and "False" not in out
    done = subprocess.run(
        [sys.executable, "-m", "m2v_edge.bench.studies.hidden_output_cost", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "same embeddings: True" in done.stdout


def test_memory_study_reads_peak_rss_of_python_and_node(potion_int8: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """memory_rss: ours in Python (embedded and mapped table) and, with web/ installed, the Node library and CLI;
    every probe's readings parsed and judged against --limit-mb (the check fails when over it)."""
    import shutil

    from m2v_edge.bench.data import TRAIN_SENTENCES
    from m2v_edge.bench.studies import memory_rss

    if not TRAIN_SENTENCES.is_file():
        pytest.skip(f"{TRAIN_SENTENCES} absent (../shared)")
    node = shutil.which("node") and Path("/usr/bin/time").is_file() and (ROOT / "web" / "node_modules").is_dir()
    args = ["--ours", str(potion_int8), "--external", "--texts", "300", "--limit-mb", "512"]
    assert memory_rss.main([*args, "--node"] if node else args) == EXIT_OK
    rows = [line.split("|") for line in capsys.readouterr().out.splitlines() if line.startswith("| ours")]
    assert len(rows) == (4 if node else 2)
    assert all(row[-2].strip() == "ok" and 20 < float(row[2]) <= 512 for row in rows), rows
    assert memory_rss.main(["--ours", str(potion_int8), "--texts", "50", "--limit-mb", "20"]) == EXIT_RUNTIME
    assert "**over 20 MB**" in capsys.readouterr().out
