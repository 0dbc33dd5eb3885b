"""The Gradio demo (``m2v-edge demo``): needs the ``demo`` extra (gradio, matplotlib).

This module stays import-light (the CLI imports it for its defaults); gradio is imported only to build the app.
"""

from __future__ import annotations

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_MAX_DOCUMENTS = 1000
DEFAULT_MAX_CHARS = 10_000
