"""The embedded potion-base-8M is found in one place (m2v_edge.source.embedded) by the demo and the bench alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from m2v_edge.cli import build_parser
from m2v_edge.source import embedded
from m2v_edge.source.embedded import EMBEDDED_ENV, embedded_model_dir
from tests.conftest import POTION


def test_found_in_this_checkout_without_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(EMBEDDED_ENV, raising=False)
    monkeypatch.chdir(tmp_path)  # not found through the current folder
    assert embedded_model_dir().resolve() == POTION.resolve()


def test_env_var_wins_and_a_wrong_one_is_not_hidden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    link = tmp_path / "my-potion"
    link.symlink_to(POTION)
    monkeypatch.setenv(EMBEDDED_ENV, str(link))
    assert embedded_model_dir() == link
    monkeypatch.setenv(EMBEDDED_ENV, str(tmp_path / "typo"))
    with pytest.raises(FileNotFoundError, match=f"typo.*set {EMBEDDED_ENV}.*pass MODEL"):
        embedded_model_dir()


def test_found_in_the_current_folder_for_an_installed_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(EMBEDDED_ENV, raising=False)
    monkeypatch.setattr(embedded, "_checkout_root", lambda: None)  # as for an installed wheel
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="potion-base-8M model is missing"):
        embedded_model_dir()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "potion-base-8M").symlink_to(POTION)
    assert embedded_model_dir() == tmp_path / "models" / "potion-base-8M"


def test_bench_defaults_come_from_bench_config() -> None:
    from m2v_edge.bench.runner import BenchConfig

    args = build_parser().parse_args(["bench"])
    config = BenchConfig(source=Path("x"))
    assert args.model == []  # no folder: the embedded model, found by m2v_edge.source.embedded when the bench runs
    assert (args.threads, args.batch_sizes, args.repeats) == (config.threads, config.batch_sizes, config.repeats)
    assert (args.limit, args.latency_texts, args.cold_runs) == (config.limit, config.latency_texts, config.cold_runs)
