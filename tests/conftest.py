"""Shared fixtures: the vendored potion-base-8M, its exports, and tiny models made here."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from m2v_edge.export.exporter import export_model
from tests.fixtures import TINY_KINDS, make_tiny_model

ROOT = Path(__file__).resolve().parents[1]
POTION = ROOT / "models" / "potion-base-8M"
SHARED = ROOT.parent / "shared"
STSB_TEST = ROOT / "src" / "m2v_edge" / "source" / "data" / "stsb" / "sts-test.csv"


@pytest.fixture(scope="session")
def potion_source() -> Path:
    """The vendored potion-base-8M source folder."""
    return POTION


@pytest.fixture(scope="session")
def potion_int8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """potion-base-8M exported to int8 (once per session)."""
    out = tmp_path_factory.mktemp("exports") / "potion-int8"
    export_model(POTION, out, dtype="int8")
    return out


@pytest.fixture(scope="session")
def potion_fp32(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """potion-base-8M exported to float32 (once per session)."""
    out = tmp_path_factory.mktemp("exports") / "potion-fp32"
    export_model(POTION, out, dtype="float32")
    return out


@pytest.fixture(scope="session", params=TINY_KINDS)
def tiny_source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Model2Vec folder per tokenizer kind (wordpiece, bpe, unigram, quantized)."""
    return make_tiny_model(request.param, tmp_path_factory.mktemp(f"tiny-{request.param}"))


QWEN_M2V = SHARED / "models" / "qwen25-coder-0.5b-instruct-m2v-256d"


@pytest.fixture(scope="session")
def qwen_m2v() -> Path:
    """The real Qwen-family Model2Vec model in ../shared (skips when absent)."""
    if not (QWEN_M2V / "model.safetensors").is_file():
        pytest.skip(f"{QWEN_M2V} absent (needs ../shared beside the clone)")
    return QWEN_M2V


@pytest.fixture(scope="session")
def qwen_m2v_int8(qwen_m2v: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Qwen-family model exported to int8 as distilled (``--isotropy none``, model2vec's vectors; once)."""
    out = tmp_path_factory.mktemp("exports") / "qwen-m2v-int8"
    export_model(qwen_m2v, out, dtype="int8", isotropy="none")
    return out


@pytest.fixture(scope="session")
def qwen_m2v_isotropic(qwen_m2v: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Qwen-family model's default export: no options (int8, ``--isotropy auto``; once per session)."""
    out = tmp_path_factory.mktemp("exports") / "qwen-m2v-int8-auto"
    export_model(qwen_m2v, out)
    return out


@pytest.fixture(scope="module")
def busy_core() -> Iterator[None]:
    """A busy-loop process beside the module's tests, so a result that depends on machine load shows up here.

    CI runs on a shared 2-core machine; a test that passes only when the machine is idle fails there.
    """
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()
