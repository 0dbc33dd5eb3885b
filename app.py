"""The m2v-edge demo as a Hugging Face Space (or on any host): ``python app.py``.

Serves the Gradio demo on the embedded potion-base-8M (``models/``), exported to int8 on first start into
``$M2V_EDGE_CACHE`` (default ``~/.cache/m2v-edge``). Address: ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT``
when set (a Space sets ``0.0.0.0:7860``), else ``127.0.0.1:7860``. Needs ``pip install -e ".[demo]"`` (see
docs/demo.md); from a bare checkout it also finds the package in ``src/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent / "src"
if SRC.is_dir() and str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))  # a Space runs this file from a checkout, without `pip install -e .`

from m2v_edge.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(["demo", *sys.argv[1:]]))
