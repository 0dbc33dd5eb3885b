"""Where the embedded default model (potion-base-8M, vendored in the repository's ``models/``) is found.

The one place that knows: the demo (no MODEL) and the bench (no MODEL) both ask :func:`embedded_model_dir`.
It is not shipped inside the wheel (30 MB), so it is looked for, in order:

1. ``$M2V_EDGE_EMBEDDED_MODEL`` (a Model2Vec folder), if set; then nowhere else, so a typo is not hidden;
2. ``models/potion-base-8M`` of the source checkout this package runs from (an editable install: the package
   sits in ``src/m2v_edge`` of a folder with ``pyproject.toml``);
3. ``models/potion-base-8M`` in the current folder (running from a checkout with a regular install).
"""

from __future__ import annotations

import os
from pathlib import Path

EMBEDDED_NAME = "potion-base-8M"
EMBEDDED_ENV = "M2V_EDGE_EMBEDDED_MODEL"
_MARKER = "model.safetensors"


def _checkout_root() -> Path | None:
    """The source checkout holding this package (``<root>/src/m2v_edge``), or ``None`` for an installed wheel."""
    package = Path(__file__).resolve().parents[1]  # m2v_edge/ (this module is m2v_edge/source/embedded.py)
    root = package.parent.parent
    if package.parent.name == "src" and (root / "pyproject.toml").is_file():
        return root
    return None


def embedded_candidates() -> list[Path]:
    """The folders :func:`embedded_model_dir` tries, in order."""
    value = os.environ.get(EMBEDDED_ENV)
    if value:
        return [Path(value).expanduser()]
    root = _checkout_root()
    found = [] if root is None else [root / "models" / EMBEDDED_NAME]
    here = Path.cwd() / "models" / EMBEDDED_NAME
    return found if here.resolve() in (p.resolve() for p in found) else [*found, here]


def embedded_model_dir() -> Path:
    """The embedded potion-base-8M source folder.

    :raises FileNotFoundError: if no candidate holds it, naming where it looked and the remedies.
    """
    candidates = embedded_candidates()
    for folder in candidates:
        if (folder / _MARKER).is_file():
            return folder
    looked = ", ".join(str(p) for p in candidates)
    raise FileNotFoundError(
        f"the embedded {EMBEDDED_NAME} model is missing (looked in {looked}); set {EMBEDDED_ENV} to its folder, "
        "run from a source checkout of m2v-edge, or pass MODEL (an exported folder or a local Model2Vec folder)"
    )
