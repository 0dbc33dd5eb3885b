"""Issue 10: the Gradio demo refuses uploads (it has no file input) and answers every bad ``rank`` payload."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("gradio")
httpx = pytest.importorskip("httpx")

from m2v_edge import export_model  # noqa: E402
from m2v_edge.demo.backend import DemoBackend  # noqa: E402
from m2v_edge.demo.cache import open_models  # noqa: E402
from tests.fixtures import make_tiny_model  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("safety-demo")
    return export_model(make_tiny_model("wordpiece", root / "src"), root / "export").output


@pytest.fixture(scope="module")
def demo_url(demo_export: Path) -> Iterator[str]:
    from m2v_edge.demo.app import build_app, launch

    root, export = demo_export.parent, demo_export
    app = build_app(DemoBackend(open_models(export, cache_dir=root / "cache", log=lambda _: None)))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = launch(app, host="127.0.0.1", port=port, block=False, quiet=True)
    try:
        yield url
    finally:
        app.close()


def test_uploads_are_refused(demo_url: str) -> None:
    response = httpx.post(demo_url + "gradio_api/upload", files={"files": ("big.bin", b"x" * 1_000_000)}, timeout=60)
    assert response.status_code == 413, response.text


def _rank(url: str, payload: object) -> tuple[str, dict | list]:
    started = httpx.post(url + "gradio_api/call/rank", json=payload, timeout=60)
    if started.status_code != 200:
        return "rejected", {"status": started.status_code}
    event_id = started.json()["event_id"]
    stream = httpx.get(url + f"gradio_api/call/rank/{event_id}", timeout=60).text
    lines = [line for line in stream.splitlines() if line]
    event = lines[0].removeprefix("event: ")
    return event, json.loads(lines[1].removeprefix("data: "))


@pytest.mark.parametrize(
    "data",
    [
        [1, "a"],
        ["q", 5],
        [["x"], "a"],
        [{"a": 1}, "b"],
        [],
        ["only the query"],
        [None, None],
        ["", "a"],
        ["q", ""],
        ["q", []],
        ["q", ["a", 5]],
        ["q", [None]],
        ["q", {"a": "b"}],
    ],
)
def test_every_bad_rank_payload_gets_a_message(demo_url: str, data: list) -> None:
    event, body = _rank(demo_url, {"data": data})
    assert event == "error", body
    assert isinstance(body, dict) and isinstance(body["error"], str) and body["error"], body


def test_malformed_rank_requests_are_refused(demo_url: str) -> None:
    for payload in ({"data": None}, {"data": {"a": 1}}, {}):
        event, body = _rank(demo_url, payload)
        assert event == "rejected" and body["status"] == 422


def test_good_rank_payload_still_works(demo_url: str, demo_export: Path) -> None:
    docs = ["train a neural network", "bake bread"]
    event, body = _rank(demo_url, {"data": ["neural network", "\n".join(docs)]})
    assert event == "complete", body
    assert _rank(demo_url, {"data": ["neural network", docs]}) == (event, body)  # the documents as a list
    # The tiny model's table is random and its trained vocabulary's ids vary between processes, so the order is
    # not fixed: the demo must rank by the export's own cosines.
    from m2v_edge import StaticOnnxModel

    with StaticOnnxModel.from_pretrained(demo_export) as model:
        query, *vectors = model.encode(["neural network", *docs])
    expected = sorted(zip(docs, (float(query @ v) for v in vectors), strict=True), key=lambda pair: -pair[1])
    assert [doc for doc, _ in body[0]] == [doc for doc, _ in expected]
    assert [score for _, score in body[0]] == pytest.approx([score for _, score in expected], abs=1e-3)
