"""``m2v-edge demo [MODEL]``: launch the Gradio demo (listed in ``m2v_edge.cli.COMMANDS``)."""

from __future__ import annotations

import argparse
from typing import Any

from m2v_edge.demo import DEFAULT_HOST, DEFAULT_MAX_CHARS, DEFAULT_MAX_DOCUMENTS, DEFAULT_PORT, server_address
from m2v_edge.errors import CliError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="launch the Gradio demo (search, float vs int8, similarity matrix)",
        description="Launch the Gradio demo. With no MODEL it uses the embedded potion-base-8M, exported to int8 "
        "into $M2V_EDGE_CACHE (default ~/.cache/m2v-edge) on first run.",
    )
    p.add_argument(
        "model", nargs="?", default=None, help="exported folder, Model2Vec folder or Hub id (default: embedded)"
    )
    p.add_argument("--revision", help="Hub branch, tag or commit of MODEL (Hub ids only)")
    p.add_argument(
        "--isotropy", default="auto", metavar="auto|none|abtt:K",
        help="how a Model2Vec MODEL is exported (as `m2v-edge export --isotropy`; default auto); none shows the "
        "model as distilled",
    )  # fmt: skip
    p.add_argument(
        "--host", help=f"address to bind (default $GRADIO_SERVER_NAME, else {DEFAULT_HOST}: this machine only)"
    )
    p.add_argument("--port", type=int, help=f"port (default $GRADIO_SERVER_PORT, else {DEFAULT_PORT})")
    p.add_argument("--max-documents", type=int, default=DEFAULT_MAX_DOCUMENTS, help="documents per request")
    p.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, help="characters per text")
    p.add_argument(
        "--max-request-bytes", type=int,
        help="larger HTTP request bodies get 413 before they are read (default: max-chars x (max-documents + 1) "
        "+ 64 KiB, ASCII at the limits)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from m2v_edge.cli.common import check_host

    host, port = server_address(args.host, args.port)  # explicit flags, else GRADIO_SERVER_NAME/PORT, else ours
    check_host(host, port)  # before the slow imports and the first-run export

    from m2v_edge.demo.app import build_app, launch
    from m2v_edge.demo.backend import DemoBackend, Limits
    from m2v_edge.demo.cache import open_models
    from m2v_edge.source.hub import resolve_model

    limits = Limits(args.max_documents, args.max_chars, args.max_request_bytes)
    model = None if args.model is None else resolve_model(args.model, args.revision, exported=True)
    models = open_models(model, isotropy=args.isotropy)
    try:
        app = build_app(DemoBackend(models, limits))
    except ImportError as err:  # the demo extra is missing: one line, exit code 2
        raise CliError(str(err)) from None
    print(f"m2v-edge demo: starting {models.export_dir} on http://{host}:{port} (Ctrl+C to stop)")
    try:
        launch(app, host=host, port=port, block=True, max_request_bytes=limits.request_bytes)
    except OSError as err:
        reason = str(err).split(". ")[0]
        raise OSError(f"cannot serve on {host}:{port} ({reason}); choose another --port") from None
    finally:
        app.close()
    return 0
