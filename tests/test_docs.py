"""Docs that run: every ```bash / ```sh / ```python block of README.md and docs/*.md is executed here.

Each page gets a fresh temp folder (shared by its blocks, run in page order, as a reader would follow it),
with ``models/`` and ``.venv`` linked from the checkout and the running interpreter's ``bin/`` first on PATH
(so ``m2v-edge``, ``python`` and ``.venv/bin/...`` are this checkout's). Shell blocks run with ``bash -e -o
pipefail``; Python blocks in a fresh interpreter.

A block that needs the network, a phone, a GUI, another checkout or a long run is skipped by name with an HTML
comment right before it, which the test report shows::

    <!-- docs-test: skip (needs the network: pip install) -->

and ``<!-- docs-test: slow -->`` marks a block that runs, but only without ``-m "not slow"``.
Blocks in other languages (js, json, text...) are not run; ``console``/``shell``/``py`` fences are refused so no
command block escapes by its fence name.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = {"bash", "sh", "python"}
REFUSED = {"console", "shell", "shell-session", "zsh", "py", "python3", "pycon"}
LINKED = ("models", ".venv")
TIMEOUT = 300
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
MARKER = re.compile(r"<!--\s*docs-test:\s*(skip|slow)\b\s*(?:\((.*?)\))?\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    code: str
    skip: str | None  # the reason, when marked skip
    slow: bool

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The command blocks of a page, with their markers (the last non-blank line before the fence)."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        lang = match.group(1).lower()
        line = text.count("\n", 0, match.start()) + 1
        if lang in REFUSED:
            raise AssertionError(f"{page.name}:{line}: fence '{lang}' is not run; use bash, sh or python")
        if lang not in RUN:
            continue
        before = [ln for ln in text[: match.start()].splitlines() if ln.strip()]
        marker = MARKER.search(before[-1]) if before else None
        kind = marker.group(1) if marker else None
        if kind == "skip" and not (marker and marker.group(2)):
            raise AssertionError(f"{page.name}:{line}: a docs-test skip needs a reason: <!-- docs-test: skip (why) -->")
        reason = marker.group(2) if marker and kind == "skip" else None
        found.append(Block(page, line, lang, match.group(2), reason, kind == "slow"))
    return found


ALL = [block for page in PAGES for block in blocks(page)]


def _params() -> list[pytest.param]:
    params = []
    for block in ALL:
        marks = [pytest.mark.slow] if block.slow else []
        params.append(pytest.param(block, id=block.name, marks=marks))
    return params


@pytest.fixture(scope="module")
def workspaces() -> dict[Path, Path]:
    """One temp folder per page, made on the page's first block."""
    return {}


def _workspace(page: Path, workspaces: dict[Path, Path], factory: pytest.TempPathFactory) -> Path:
    if page not in workspaces:
        folder = factory.mktemp(f"docs-{page.stem}")
        for name in LINKED:
            if (ROOT / name).exists():
                (folder / name).symlink_to(ROOT / name)
        workspaces[page] = folder
    return workspaces[page]


def _env(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["M2V_EDGE_CACHE"] = str(folder / ".cache")  # the demo's export cache: never the user's
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTHONPATH", None)
    return env


def test_every_page_is_found_and_every_skip_has_a_reason() -> None:
    assert ROOT / "README.md" in PAGES and len(PAGES) > 1
    names = [block.name for block in ALL]
    assert len(names) == len(set(names))
    assert any(block.skip is None for block in ALL if block.page.name == "README.md"), "the quick start must run"


@pytest.mark.parametrize("block", _params())
def test_doc_block_runs(block: Block, workspaces: dict[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> None:
    if block.skip is not None:
        pytest.skip(f"{block.name}: docs-test: skip ({block.skip})")
    folder = _workspace(block.page, workspaces, tmp_path_factory)
    if block.lang == "python":
        argv = [sys.executable, "-c", block.code]
    else:
        argv = ["bash", "-e", "-o", "pipefail", "-c", block.code]
    try:
        done = subprocess.run(argv, cwd=folder, env=_env(folder), capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{block.name}: still running after {TIMEOUT} s; mark it <!-- docs-test: slow --> or shorten it")
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        pytest.fail(f"{block.name} ({block.lang}) exited with {done.returncode} in {folder}:\n{tail}", pytrace=False)
