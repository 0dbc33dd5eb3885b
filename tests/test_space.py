"""The demo as a Space: Gradio's address variables, the Search tab's ranking on page load, and ``app.py``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("gradio")

from m2v_edge.demo import DEFAULT_HOST, DEFAULT_PORT, server_address  # noqa: E402
from m2v_edge.demo.backend import DemoBackend  # noqa: E402
from m2v_edge.demo.cache import DemoModels, open_models  # noqa: E402
from m2v_edge.demo.presets import SEARCH_PRESETS  # noqa: E402
from tests.conftest import ROOT  # noqa: E402


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("space-cache")


@pytest.fixture(scope="module")
def models(cache_dir) -> DemoModels:
    return open_models(None, cache_dir=cache_dir, log=lambda _: None)


def test_gradio_variables_beat_our_defaults_only_when_set(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    assert server_address() == (DEFAULT_HOST, DEFAULT_PORT) == ("127.0.0.1", 7860)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7861")
    assert server_address() == ("0.0.0.0", 7861)
    assert server_address("127.0.0.2", 8000) == ("127.0.0.2", 8000)  # explicit --host/--port win
    monkeypatch.setenv("GRADIO_SERVER_PORT", "http")
    with pytest.raises(ValueError, match="GRADIO_SERVER_PORT='http' is not a port number"):
        server_address()
    with pytest.raises(ValueError, match="--port 70000 is not a TCP port"):
        server_address(port=70000)


def test_search_tab_ranks_the_first_preset_on_load(models):
    from m2v_edge.demo.app import build_app

    backend = DemoBackend(models)
    app = build_app(backend)
    config = app.get_config_file()
    loads = [d for d in config["dependencies"] if any(trigger == "load" for _, trigger in d["targets"])]
    assert len(loads) == 1
    load = loads[0]
    blocks = {block._id: block for block in app.blocks.values()}
    assert [blocks[i].elem_id for i in load["inputs"]] == ["search-query", "search-documents"]
    assert [blocks[i].elem_id for i in load["outputs"]] == ["search-status", "search-results", "search-chart"]
    first = SEARCH_PRESETS[0]
    inputs = [blocks[i].value for i in load["inputs"]]
    assert inputs == [first.query, first.documents_text]
    status, table, _ = app.fns[load["id"]].fn(*inputs)
    expected = backend.rank(first.query, first.documents_text).hits
    assert list(table["document"]) == [hit.document for hit in expected] and len(expected) >= 3
    assert status.startswith("Encoded 1 query")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_app_py_serves_on_gradio_variables(models, cache_dir, tmp_path):
    from gradio_client import Client

    port = _free_port()
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), M2V_EDGE_CACHE=str(cache_dir))
    log = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "app.log").read_text()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "app.py did not serve within 120 s"
                time.sleep(0.5)
        first = SEARCH_PRESETS[0]
        rows = Client(url, verbose=False).predict(first.query, first.documents_text, api_name="/rank")
        expected = DemoBackend(models).rank(first.query, first.documents_text).hits
        assert [doc for doc, _ in rows] == [hit.document for hit in expected]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert f"on http://127.0.0.1:{port}" in (tmp_path / "app.log").read_text()
