"""The Gradio demo: cache, backend, CLI wiring, and a launched app driven by gradio_client."""

from __future__ import annotations

import json
import os
import random
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gradio")
pytest.importorskip("gradio_client")

from m2v_edge.cli import main  # noqa: E402
from m2v_edge.contract import ExportFiles  # noqa: E402
from m2v_edge.demo import cache  # noqa: E402
from m2v_edge.demo.backend import DemoBackend, DemoInputError, Limits  # noqa: E402
from m2v_edge.demo.cache import DemoModels, open_models  # noqa: E402
from m2v_edge.demo.presets import MATRIX_PRESET, SEARCH_PRESETS, preset_by_label  # noqa: E402
from m2v_edge.export.exporter import export_model  # noqa: E402
from m2v_edge.runtime.model import StaticOnnxModel  # noqa: E402
from m2v_edge.runtime.similarity import cosine_matrix  # noqa: E402
from m2v_edge.sizes import format_size  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")  # gradio's own pandas 3 deprecations

SEED = preset_by_label("Train a neural network")
SEED_TOP = "Neural network training tutorial and guide"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_demo(backend: DemoBackend) -> Iterator[str]:
    """Launch the app in this process on a free localhost port; yield its URL; close it after."""
    from m2v_edge.demo.app import build_app, launch

    app = build_app(backend)
    url = launch(app, host="127.0.0.1", port=free_port(), block=False, quiet=True)
    try:
        yield url
    finally:
        app.close()


@pytest.fixture(scope="module")
def demo_models(tmp_path_factory: pytest.TempPathFactory) -> DemoModels:
    """The default (embedded potion-base-8M) models, exported into a fresh cache."""
    return open_models(None, cache_dir=tmp_path_factory.mktemp("demo-cache"), log=lambda _: None)


@pytest.fixture(scope="module")
def demo_url(demo_models: DemoModels) -> Iterator[str]:
    with running_demo(DemoBackend(demo_models)) as url:
        yield url


@pytest.fixture(scope="module")
def float_model(potion_source: Path):
    from model2vec import StaticModel

    return StaticModel.from_pretrained(potion_source)


def expected_ranking(model: StaticOnnxModel, query: str, docs: list[str]) -> list[tuple[str, float]]:
    scores = cosine_matrix(model.encode(query), model.encode(docs))[0]
    order = np.argsort(-scores, kind="stable")
    return [(docs[i], float(scores[i])) for i in order]


# --- cache -------------------------------------------------------------------------------------------


def test_default_cache_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "c"))
    assert cache.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv(cache.CACHE_ENV)
    assert cache.default_cache_dir() == Path.home() / ".cache" / "m2v-edge"


def test_embedded_model_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("M2V_EDGE_EMBEDDED_MODEL", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="potion-base-8M model is missing.*nope.*pass MODEL"):
        open_models(None, cache_dir=tmp_path / "cache")


def test_first_run_exports_then_reuses_then_revalidates(tmp_path: Path, demo_models: DemoModels) -> None:
    from m2v_edge.source.folder import load_source

    source = load_source(cache.embedded_model_dir())
    logs: list[str] = []
    first = cache.export_to_cache(source, tmp_path, log=logs.append)
    assert first == cache.cache_folder(source, tmp_path) and source.sha256[:16] in first.name
    assert json.loads((first / "config.json").read_text())["source"]["sha256"] == source.sha256
    assert any("exporting" in line for line in logs)
    stamp = ExportFiles(first).model.stat().st_mtime_ns

    logs.clear()
    assert cache.export_to_cache(source, tmp_path, log=logs.append) == first
    assert any("using the cached" in line for line in logs)
    assert ExportFiles(first).model.stat().st_mtime_ns == stamp

    config = json.loads((first / "config.json").read_text())
    config["source"]["sha256"] = "0" * 64  # a stale or foreign export under the same name
    (first / "config.json").write_text(json.dumps(config))
    logs.clear()
    cache.export_to_cache(source, tmp_path, log=logs.append)
    assert any("exporting" in line for line in logs)
    assert json.loads((first / "config.json").read_text())["source"]["sha256"] == source.sha256


def test_source_folder_is_exported_into_cache_keyed_by_sha(tiny_source: Path, tmp_path: Path) -> None:
    models = open_models(tiny_source, cache_dir=tmp_path, log=lambda _: None)
    sha = json.loads((models.export_dir / "config.json").read_text())["source"]["sha256"]
    assert models.export_dir.parent == tmp_path and sha[:16] in models.export_dir.name
    assert models.reference is not None and models.compare_note == ""
    texts = ["the quick brown fox", "neural network training", ""]
    got, want = models.onnx.encode(texts), models.reference.encode(texts)
    assert np.allclose(got, want, atol=0.02)


def test_exported_folder_without_its_source_gets_a_note(tiny_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    export_model(tiny_source, out)
    models = open_models(out, cache_dir=tmp_path / "cache")
    assert models.export_dir == out and models.reference is None
    assert "not available" in models.compare_note and "MODEL" in models.compare_note
    assert not (tmp_path / "cache").exists()
    with pytest.raises(DemoInputError, match="not available"):
        DemoBackend(models).compare("a query", "a document")
    from m2v_edge.demo.app import build_app

    app = build_app(DemoBackend(models))
    notes = [block for block in app.blocks.values() if getattr(block, "elem_id", None) == "compare-note"]
    assert len(notes) == 1 and models.compare_note in notes[0].value
    app.close()


def test_exported_embedded_model_finds_its_source(potion_int8: Path, tmp_path: Path) -> None:
    models = open_models(potion_int8, cache_dir=tmp_path)
    assert models.reference is not None and models.source_dir == cache.embedded_model_dir()


# --- backend -----------------------------------------------------------------------------------------


def test_limits_and_empty_inputs_give_messages(demo_models: DemoModels) -> None:
    backend = DemoBackend(demo_models, Limits(max_documents=3, max_chars=20))
    for query, docs, message in [
        ("", "a", "query is empty"),
        ("   ", "a", "query is empty"),
        ("q", "\n  \n", "No documents"),
        ("q", "a\nb\nc\nd", "4 documents given; the limit is 3 per request.*--max-documents"),
        ("x" * 21, "a", "query has 21 characters; the limit is 20.*--max-chars"),
        ("q", "ok\n" + "y" * 25, "Document 2 has 25 characters"),
    ]:
        with pytest.raises(DemoInputError, match=message):
            backend.rank(query, docs)
    assert [h.document for h in backend.rank("q", " a \n\nb\nc ").hits] != []
    # a list of documents: each item one document (newlines inside kept), the same ranking as lines
    assert backend.rank("q", [" a ", "", "b", "c "]).hits == backend.rank("q", " a \n\nb\nc ").hits
    assert {h.document for h in backend.rank("q", ["two\nlines", "b"]).hits} == {"two\nlines", "b"}
    for docs, message in [
        ([], "No documents"),
        (["a", 5], "Document 2 is a int, not a string"),
        (["a"] * 4, "4 documents"),
    ]:
        with pytest.raises(DemoInputError, match=message):
            backend.rank("q", docs)
    with pytest.raises(DemoInputError, match="51 texts given; the limit is 50"):
        DemoBackend(demo_models).matrix("\n".join(f"text {i}" for i in range(51)))


def test_search_tab_names_the_preset_source_for_the_running_model() -> None:
    from m2v_edge.demo.app import _search_intro

    potion = _search_intro({"source": {"name": "potion-base-8M"}})
    assert "**potion-base-8M**" in potion and "qwen25-deposium-1024d model card (another model" in potion
    seed = _search_intro({"source": {"name": "tss-deposium/qwen25-deposium-1024d"}})
    assert "this model's own" in seed and "another model" not in seed


def test_ui_handlers_show_messages_not_tracebacks(demo_models: DemoModels) -> None:
    from m2v_edge.demo.app import DemoHandlers

    handlers = DemoHandlers(DemoBackend(demo_models, Limits(max_documents=2)))
    status, table, _ = handlers.search("", "a")
    assert status.startswith("**Check the input.** The query is empty") and table.empty
    status, table = handlers.compare("q", "a\nb\nc")
    assert "3 documents given; the limit is 2" in status and table.empty
    status, figure = handlers.matrix("")
    assert "No texts" in status and figure is None
    status, table, _ = DemoHandlers(DemoBackend(demo_models)).search(SEED.query, SEED.documents_text)
    assert "Encoded 1 query + 3 documents" in status and table["document"].iloc[0] == SEED_TOP


def test_compare_matches_model2vec_and_the_int8_model(demo_models: DemoModels, float_model) -> None:
    backend = DemoBackend(demo_models)
    for preset in SEARCH_PRESETS:
        result = backend.compare(preset.query, preset.documents_text)
        docs = list(preset.documents)
        exact = cosine_matrix(float_model.encode([preset.query]), float_model.encode(docs))[0]
        quant = cosine_matrix(demo_models.onnx.encode(preset.query), demo_models.onnx.encode(docs))[0]
        for doc, f, q, float_rank, _, cos in result.rows:
            i = docs.index(doc)
            assert f == pytest.approx(exact[i], abs=1e-5) and q == pytest.approx(quant[i], abs=1e-6)
            assert float_rank == 1 + int(np.sum(exact > exact[i]))
            assert 0.999 < cos <= 1.0 + 1e-6
        assert result.max_abs_diff == pytest.approx(float(np.abs(exact - quant).max()), abs=1e-5)


def test_matrix_is_the_pairwise_cosine(demo_models: DemoModels) -> None:
    from m2v_edge.demo.app import heatmap

    texts, matrix, _ = DemoBackend(demo_models).matrix("\n".join(MATRIX_PRESET))
    vectors = demo_models.onnx.encode(list(MATRIX_PRESET))
    assert texts == list(MATRIX_PRESET)
    assert np.allclose(matrix, cosine_matrix(vectors, vectors), atol=1e-6)
    assert np.allclose(np.diag(matrix), 1.0, atol=1e-5)
    fig = heatmap(texts, matrix)
    assert len(fig.axes[0].texts) == len(texts) ** 2


def test_model_facts_come_from_the_export(demo_models: DemoModels) -> None:
    facts = dict(DemoBackend(demo_models).model_facts())
    config = json.loads((demo_models.export_dir / "config.json").read_text())
    assert facts["dims"] == str(config["dim"]) == "256"
    assert facts["vocab"] == f"{config['vocab_size']:,}" and facts["dtype"] == "int8"
    assert facts["opset"] == str(config["opset"]) and facts["normalize"] == str(config["normalize"])
    assert facts["source sha256"] == config["source"]["sha256"]
    size = ExportFiles(demo_models.export_dir).model.stat().st_size
    assert facts["file onnx/model_quantized.onnx"] == f"{size / 1e6:.2f} MB"
    assert facts["file config.json"] == format_size((demo_models.export_dir / "config.json").stat().st_size)
    sizes = (999, 2_150, 7_680_000, 1_560_000_000)
    assert tuple(map(format_size, sizes)) == ("999 B", "2.1 KB", "7.68 MB", "1.56 GB")


# --- CLI ---------------------------------------------------------------------------------------------


def test_cli_parses_demo_defaults_and_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from m2v_edge.cli import build_parser

    args = build_parser().parse_args(["demo"])
    assert (args.model, args.host, args.port) == (None, None, None)  # resolved by demo.server_address
    assert (args.max_documents, args.max_chars) == (1000, 10_000)
    assert main(["demo", str(tmp_path / "nope")]) == 2
    assert "nope: no such folder" in capsys.readouterr().err
    assert main(["demo", "--max-documents", "0"]) == 2
    assert "--max-documents and --max-chars must be positive" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_busy_port_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["demo", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot serve on 127.0.0.1:{port}" in err and "choose another --port" in err
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("m2v-edge demo: error: cannot serve")
    assert (tmp_path / "cache").is_dir()  # the first run exported into $M2V_EDGE_CACHE


# --- launched app, gradio_client -----------------------------------------------------------------------


@pytest.mark.slow
def test_rank_api_seed_example(demo_url: str, demo_models: DemoModels, float_model) -> None:
    from gradio_client import Client

    assert demo_url.startswith("http://127.0.0.1:")
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    client = Client(demo_url, verbose=False)
    result = client.predict(SEED.query, SEED.documents_text, api_name="/rank")
    assert result[0][0] == SEED_TOP
    assert client.predict(SEED.query, list(SEED.documents), api_name="/rank") == result  # a list works too
    want = expected_ranking(demo_models.onnx, SEED.query, list(SEED.documents))
    assert [doc for doc, _ in result] == [doc for doc, _ in want]
    assert [score for _, score in result] == pytest.approx([score for _, score in want], abs=1e-6)
    assert all(a[1] >= b[1] for a, b in zip(result, result[1:], strict=False))
    exact = cosine_matrix(float_model.encode([SEED.query]), float_model.encode(list(SEED.documents)))[0]
    assert SEED.documents[int(np.argmax(exact))] == SEED_TOP  # model2vec agrees on the winner


@pytest.mark.slow
def test_rank_api_limits_give_messages(demo_url: str) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(demo_url, verbose=False)
    cases = [
        ("", "a\nb", "The query is empty"),
        ("q", "", "No documents"),
        ("q", "\n".join(f"doc {i}" for i in range(1001)), "1,001 documents given; the limit is 1,000"),
        ("q", "short\n" + "z" * 10_001, "Document 2 has 10,001 characters; the limit is 10,000"),
        ("w" * 10_001, "a", "The query has 10,001 characters"),
    ]
    for query, docs, message in cases:
        with pytest.raises(AppError, match=message):
            client.predict(query, docs, api_name="/rank")
    assert len(client.predict("q", "\n".join(f"doc {i}" for i in range(1000)), api_name="/rank")) == 1000
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/rank"]


@pytest.mark.slow
def test_twenty_concurrent_clients(demo_url: str, demo_models: DemoModels) -> None:
    from gradio_client import Client

    rng = random.Random(0)
    jobs = []
    for i in range(20):
        preset = SEARCH_PRESETS[i % len(SEARCH_PRESETS)]
        docs = list(preset.documents) + [f"filler document number {i}"]
        rng.shuffle(docs)
        jobs.append((preset.query, docs))

    def ask(job: tuple[str, list[str]]) -> list[list]:
        client = Client(demo_url, verbose=False)
        return client.predict(job[0], "\n".join(job[1]), api_name="/rank")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(ask, jobs))
    for (query, docs), answer in zip(jobs, answers, strict=True):
        want = expected_ranking(demo_models.onnx, query, docs)
        assert [doc for doc, _ in answer] == [doc for doc, _ in want]
        assert [score for _, score in answer] == pytest.approx([score for _, score in want], abs=1e-6)
