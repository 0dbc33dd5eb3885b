"""The Gradio demo (``m2v-edge demo``): needs the ``demo`` extra (gradio, matplotlib).

This module stays import-light (the CLI imports it for its defaults); gradio is imported only to build the app.
"""

from __future__ import annotations

import os

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_MAX_DOCUMENTS = 1000
DEFAULT_MAX_CHARS = 10_000


def server_address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """Where to serve: explicit values, else Gradio's environment variables when set, else ours.

    ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` (a Hugging Face Space sets them) beat our defaults
    (``127.0.0.1:7860``, this machine only) but never an explicit ``--host`` / ``--port``.

    :raises ValueError: for a port outside 1-65535 or a non-numeric ``GRADIO_SERVER_PORT``.
    """
    host = host or os.environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST
    if port is None:
        raw = os.environ.get("GRADIO_SERVER_PORT", "").strip()
        try:
            port = int(raw) if raw else DEFAULT_PORT
        except ValueError:
            raise ValueError(f"GRADIO_SERVER_PORT={raw!r} is not a port number; set it to one in 1-65535") from None
        where = "GRADIO_SERVER_PORT" if raw else "the default port"
    else:
        where = "--port"
    if not 1 <= port <= 65535:
        raise ValueError(f"{where} {port} is not a TCP port; choose one in 1-65535")
    return host, port
