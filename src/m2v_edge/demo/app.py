"""The Gradio Blocks app: Search, Compare (float vs int8), Similarity matrix and Model tabs, plus the ``rank`` API."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from m2v_edge.demo import DEFAULT_HOST, DEFAULT_PORT
from m2v_edge.demo.backend import MAX_MATRIX_TEXTS, DemoBackend, DemoInputError, Limits
from m2v_edge.demo.presets import MATRIX_PRESET, PRESET_SOURCE, SEARCH_PRESETS, Preset

if TYPE_CHECKING:
    import gradio as gr
    import pandas as pd
    from matplotlib.figure import Figure

CHART_BARS = 20
LABEL_CHARS = 48
SEARCH_COLUMNS = ["rank", "score", "document"]
COMPARE_COLUMNS = ["document", "float score", "int8 score", "difference", "float rank", "int8 rank", "vector cosine"]
FIX_COLUMNS = ["document", "score without", "rank without", "score with", "rank with"]


def _import_gradio() -> Any:
    """Import gradio with its analytics (usage reporting and version checks) turned off."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    try:
        import gradio
    except ImportError:
        raise ImportError("the demo needs gradio and matplotlib: pip install 'm2v-edge[demo]'") from None
    return gradio


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error(err: DemoInputError) -> str:
    return f"**Check the input.** {err}"


class DemoHandlers:
    """The event handlers: they turn :class:`DemoBackend` results (or input errors) into component values."""

    def __init__(self, backend: DemoBackend) -> None:
        self.backend = backend

    def search(self, query: str, documents: str) -> tuple[str, pd.DataFrame, Any]:
        """Search tab: status line, ranking table, bar chart."""
        import pandas as pd

        gr = _import_gradio()
        empty_table = pd.DataFrame(columns=SEARCH_COLUMNS)
        empty_chart = pd.DataFrame({"document": [], "score": []})
        try:
            result = self.backend.rank(query, documents)
        except DemoInputError as err:
            return _error(err), empty_table, empty_chart
        hits = result.hits
        table = pd.DataFrame(
            [(pos, round(hit.score, 4), hit.document) for pos, hit in enumerate(hits, start=1)],
            columns=SEARCH_COLUMNS,
        )
        top = hits[:CHART_BARS]
        chart = pd.DataFrame(
            {"document": [f"{pos}. {_short(hit.document)}" for pos, hit in enumerate(top, start=1)],
             "score": [hit.score for hit in top]}
        )  # fmt: skip
        shown = "" if len(hits) <= CHART_BARS else f" (chart: top {CHART_BARS})"
        status = (
            f"Encoded 1 query + {len(hits)} documents in **{result.encode_ms:.2f} ms** "
            f"with the {self.backend.models.onnx.config['dtype']} ONNX model{shown}."
        )
        low = min(0.0, np.floor(min(hit.score for hit in top) * 10) / 10)
        return status, table, gr.BarPlot(value=chart, y_lim=[low, 1.0])

    def compare(self, query: str, documents: str) -> tuple[str, pd.DataFrame]:
        """Compare tab: summary and the side-by-side table."""
        import pandas as pd

        try:
            result = self.backend.compare(query, documents)
        except DemoInputError as err:
            return _error(err), pd.DataFrame(columns=COMPARE_COLUMNS)
        table = pd.DataFrame(
            [(doc, round(f, 4), round(q, 4), f"{q - f:+.5f}", fr, qr, round(cos, 5))
             for doc, f, q, fr, qr, cos in result.rows],
            columns=COMPARE_COLUMNS,
        )  # fmt: skip
        order = "**the same order**" if result.same_order else "**a different order**"
        summary = (
            f"Float source (numpy) and int8 ONNX rank the documents in {order}. "
            f"Largest score difference **{result.max_abs_diff:.5f}**; smallest cosine between a text's float "
            f"and int8 vectors **{result.min_cosine:.5f}** (query: {result.query_cosine:.5f}). "
            f"Encode time: float {result.float_ms:.2f} ms, int8 ONNX {result.onnx_ms:.2f} ms."
        )
        return summary, table

    def fix(self, query: str, documents: str) -> tuple[str, pd.DataFrame]:
        """Compare tab, second table: the ranking without and with the isotropy fix."""
        import pandas as pd

        try:
            result = self.backend.fix_compare(query, documents)
        except DemoInputError as err:
            return _error(err), pd.DataFrame(columns=FIX_COLUMNS)
        table = pd.DataFrame(
            [(doc, round(s0, 4), r0, round(s1, 4), r1) for doc, s0, r0, s1, r1 in result.rows], columns=FIX_COLUMNS
        )
        (cone0, cone1), (gap0, gap1) = result.cones, result.margins
        summary = (
            f"**Without** = {result.without_label}; **with** = {result.with_label}. Unrelated texts score "
            f"{cone0:.3f} without the fix and {cone1:.3f} with it; the gap between the first two documents is "
            f"{gap0:.4f} without and **{gap1:.4f}** with."
        )
        return summary, table

    def matrix(self, texts: str) -> tuple[str, Figure | None]:
        """Similarity matrix tab: status line and heatmap."""
        try:
            items, matrix, ms = self.backend.matrix(texts)
        except DemoInputError as err:
            return _error(err), None
        return f"Encoded {len(items)} texts in **{ms:.2f} ms**.", heatmap(items, matrix)

    def rank_api(self, query: Any = None, documents: Any = None) -> list[list[Any]]:
        """The ``rank`` endpoint: ``[[document, score], ...]`` best first; every bad payload becomes a ``gr.Error``.

        ``documents`` is one string (one document per line) or a list of strings (a document may then hold newlines).
        """
        gr = _import_gradio()
        if query is not None and not isinstance(query, str):
            raise gr.Error(f"query must be a string, got {type(query).__name__}", print_exception=False)
        if documents is not None and not isinstance(documents, (str, list)):
            message = f"documents must be a string (one per line) or a list of strings, got {type(documents).__name__}"
            raise gr.Error(message, print_exception=False)
        try:
            result = self.backend.rank(query, documents)
        except (DemoInputError, ValueError) as err:
            raise gr.Error(str(err), print_exception=False) from None
        except Exception as err:  # never {"error": null}: the client always gets a message
            raise gr.Error(f"could not rank these inputs ({type(err).__name__})", print_exception=False) from None
        return [[hit.document, hit.score] for hit in result.hits]


def heatmap(texts: list[str], matrix: Any) -> Figure:
    """A pairwise-cosine heatmap (matplotlib, no pyplot state: safe from worker threads)."""
    from matplotlib.figure import Figure

    n = len(texts)
    size = min(4.0 + 0.45 * n, 16.0)
    fig = Figure(figsize=(size + 2.5, size), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="viridis", vmin=min(0.0, float(matrix.min())), vmax=1.0)
    labels = [_short(t, 36) for t in texts]
    ax.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    if n <= 15:
        for i in range(n):
            for j in range(n):
                color = "black" if matrix[i, j] > 0.6 else "white"
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=7, color=color)
    fig.colorbar(image, ax=ax, label="cosine")
    return fig


def _model_markdown(backend: DemoBackend) -> str:
    rows = "\n".join(f"| {key} | `{value}` |" for key, value in backend.model_facts())
    return "| property | value |\n|---|---|\n" + rows


def _preset_row(gr: Any) -> list[tuple[Any, Preset]]:
    """One small button per search preset, in a row labelled "Presets"."""
    with gr.Row(equal_height=True):
        gr.Markdown("**Presets:**", container=False, min_width=80)
        return [(gr.Button(p.label, size="sm", variant="secondary", min_width=120), p) for p in SEARCH_PRESETS]


def _wire_presets(buttons: list[tuple[Any, Preset]], query: Any, documents: Any, run: dict[str, Any]) -> None:
    """A preset button fills the query and documents, then runs ``run``."""
    for button, preset in buttons:
        button.click(
            lambda p=preset: (p.query, p.documents_text), outputs=[query, documents], api_visibility="private"
        ).then(**run, api_visibility="private")


def _search_intro(config: dict[str, Any]) -> str:
    """The Search tab's first line: the model that runs, and where the presets come from (not always that model)."""
    name = str(config.get("source", {}).get("name", "this model"))
    if PRESET_SOURCE in name:
        where = f"the {PRESET_SOURCE} model card, this model's own"
    else:
        where = f"the {PRESET_SOURCE} model card (another model: they run here on {name})"
    return f"Rank documents by cosine similarity to a query with **{name}**. Presets are examples quoted from {where}."


def _search_tab(gr: Any, handlers: DemoHandlers) -> dict[str, Any]:
    limits = handlers.backend.limits
    first = SEARCH_PRESETS[0]
    gr.Markdown(_search_intro(handlers.backend.models.onnx.config), elem_id="search-intro")
    presets = _preset_row(gr)
    with gr.Row():
        with gr.Column():
            query = gr.Textbox(label="Query", value=first.query, max_lines=3, elem_id="search-query")
            documents = gr.Textbox(
                label=f"Documents (one per line, at most {limits.max_documents:,})",
                value=first.documents_text,
                lines=8,
                elem_id="search-documents",
            )
            button = gr.Button("Rank", variant="primary", elem_id="search-run")
        with gr.Column():
            status = gr.Markdown(elem_id="search-status")
            table = gr.Dataframe(headers=SEARCH_COLUMNS, label="Ranking", interactive=False, elem_id="search-results")
            chart = gr.BarPlot(x="document", y="score", sort="-y", label="Scores", height=260, elem_id="search-chart")
    run = {"fn": handlers.search, "inputs": [query, documents], "outputs": [status, table, chart]}
    _wire_presets(presets, query, documents, run)
    button.click(**run, api_visibility="private")
    query.submit(**run, api_visibility="private")
    return run


def _compare_tab(gr: Any, handlers: DemoHandlers) -> None:
    models = handlers.backend.models
    if models.reference is None:
        gr.Markdown(f"**Compare is unavailable.** {models.compare_note}", elem_id="compare-note")
        return
    first = SEARCH_PRESETS[0]
    mapped = " under the same isotropy map as the export" if models.reference.isotropy is not None else ""
    gr.Markdown(
        f"The same ranking from the float source model (numpy reference, model2vec's arithmetic{mapped}) and from "
        f"the {models.onnx.config['dtype']} ONNX export: per-document score difference and the cosine between each "
        "text's two vectors."
    )
    presets = _preset_row(gr)
    with gr.Row():
        query = gr.Textbox(label="Query", value=first.query, max_lines=3, scale=2)
        documents = gr.Textbox(label="Documents (one per line)", value=first.documents_text, lines=4, scale=3)
    button = gr.Button("Compare", variant="primary", elem_id="compare-run")
    summary = gr.Markdown(elem_id="compare-summary")
    table = gr.Dataframe(headers=COMPARE_COLUMNS, label="Float vs int8", interactive=False, elem_id="compare-results")
    run = {"fn": handlers.compare, "inputs": [query, documents], "outputs": [summary, table]}
    if models.fix is not None:
        gr.Markdown(
            "### Without and with the isotropy fix\nThis model's vectors crowd into a narrow cone: the same ranking "
            "as model2vec gives it and with the mean and top principal directions removed (`--isotropy auto`)."
        )
        fix_summary = gr.Markdown(elem_id="fix-summary")
        fix_table = gr.Dataframe(headers=FIX_COLUMNS, label="Without vs with the fix", interactive=False,
                                 elem_id="fix-results")  # fmt: skip
        run = {
            "fn": lambda q, d: (*handlers.compare(q, d), *handlers.fix(q, d)),
            "inputs": [query, documents],
            "outputs": [summary, table, fix_summary, fix_table],
        }
    _wire_presets(presets, query, documents, run)
    button.click(**run, api_visibility="private")


def _matrix_tab(gr: Any, handlers: DemoHandlers) -> None:
    gr.Markdown(f"Pairwise cosine similarity of up to {MAX_MATRIX_TEXTS} texts (one per line).")
    with gr.Row():
        with gr.Column(scale=2):
            texts = gr.Textbox(label="Texts (one per line)", value="\n".join(MATRIX_PRESET), lines=10)
            button = gr.Button("Compute matrix", variant="primary", elem_id="matrix-run")
        with gr.Column(scale=3):
            status = gr.Markdown(elem_id="matrix-status")
            plot = gr.Plot(label="Cosine similarity", format="png", elem_id="matrix-plot")
    button.click(handlers.matrix, inputs=[texts], outputs=[status, plot], api_visibility="private")


def build_app(backend: DemoBackend) -> gr.Blocks:
    """The demo as a Gradio Blocks app (not launched).

    :param backend: the models and limits to serve.
    """
    gr = _import_gradio()
    handlers = DemoHandlers(backend)
    name = backend.models.onnx.config.get("source", {}).get("name", "model")
    with gr.Blocks(title=f"m2v-edge demo: {name}", analytics_enabled=False) as app:
        gr.Markdown(
            f"# m2v-edge demo: `{name}`\n"
            f"Static embeddings from `{backend.models.export_dir.name}`, run by onnxruntime on this machine."
        )
        if backend.notice():
            gr.Markdown(backend.notice(), elem_id="discrimination-notice")
        with gr.Tabs():
            with gr.Tab("Search", id="search"):
                search = _search_tab(gr, handlers)
            with gr.Tab("Compare", id="compare"):
                _compare_tab(gr, handlers)
            with gr.Tab("Similarity matrix", id="matrix"):
                _matrix_tab(gr, handlers)
            with gr.Tab("Model", id="model"):
                gr.Markdown(_model_markdown(backend), elem_id="model-facts")
        gr.api(
            handlers.rank_api, api_name="rank", api_description="Rank documents (a list, or one per line) by cosine."
        )
        app.load(**search, api_visibility="private")  # the first preset's ranking shows on page load
    app.queue(max_size=256)
    return app


def launch(
    app: gr.Blocks,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    block: bool = True,
    quiet: bool = False,
    max_request_bytes: int | None = None,
) -> str:
    """Serve ``app`` on ``host:port``: no share link, server-side rendering off, request bodies bounded.

    :param block: wait until interrupted; ``False`` returns once the server runs (call ``app.close()``).
    :param max_request_bytes: larger request bodies get 413 before they are read (default:
        :attr:`Limits.request_bytes` of the default limits).
    :return: the local URL.
    """
    from starlette.middleware import Middleware

    from m2v_edge.demo.bodylimit import BodyLimit

    limit = Limits().request_bytes if max_request_bytes is None else max_request_bytes
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        share=False,
        prevent_thread_lock=not block,
        ssr_mode=False,
        quiet=quiet,
        show_error=True,  # gradio's own payload checks (e.g. a missing value) reach the client as a message
        max_file_size=0,  # no file inputs: uploads to /gradio_api/upload are refused (413) instead of stored
        app_kwargs={"middleware": [Middleware(BodyLimit, max_bytes=limit)]},  # before FastAPI parses a body
    )
    return str(url)
