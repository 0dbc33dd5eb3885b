"""Standalone benchmark studies: clone-only (not in the wheel), each ``python -m m2v_edge.bench.studies.NAME``.

Also ``m2v-edge bench --study NAME -- ARGS...``. Each study module has ``main(argv) -> int`` and its own options
(``--help``). They read the clone: the vendored models/, tests/data/ and the ``shared/`` folder beside the clone
(the real Qwen-family model, STS-B), found by :func:`repo_root` and :func:`shared_dir`.
"""

from __future__ import annotations

import argparse
import pkgutil
from pathlib import Path


def names() -> list[str]:
    """The studies: every module of this folder."""
    return sorted(module.name for module in pkgutil.iter_modules(__path__) if not module.name.startswith("_"))


def repo_root() -> Path:
    """The clone's root: the nearest folder above this file that holds ``pyproject.toml`` and ``src/m2v_edge``.

    :raises FileNotFoundError: when the package is not inside a clone (an installed wheel has no studies).
    """
    for folder in Path(__file__).resolve().parents:
        if (folder / "pyproject.toml").is_file() and (folder / "src" / "m2v_edge").is_dir():
            return folder
    raise FileNotFoundError(
        f"{Path(__file__).parent}: the benchmark studies run from a clone of the m2v-edge repository (git clone ...)"
    )


def shared_dir() -> Path:
    """``shared/`` beside the clone (real tokenizer and model, STS-B); may not exist."""
    return repo_root().parent / "shared"


def study_parser(file: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of the study in ``file`` (its ``__file__``): prog its ``python -m`` command, description its doc."""
    name = Path(file).stem
    return argparse.ArgumentParser(
        prog=f"python -m {__name__}.{name}",
        description=(doc or name).splitlines()[0],
        epilog=f"Also: m2v-edge bench --study {name} -- [ARGS...]",
    )
