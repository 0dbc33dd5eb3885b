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
REQUEST_LIMIT = 200_000


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
    url = launch(app, host="127.0.0.1", port=port, block=False, quiet=True, max_request_bytes=REQUEST_LIMIT)
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


def _big_rank_payload(size: int) -> bytes:
    docs = "\n".join(["word " * 10] * (size // 51 + 1))
    return json.dumps({"data": ["query", docs]}).encode()


@pytest.mark.parametrize("route", ["gradio_api/call/rank", "gradio_api/queue/join"])
def test_oversized_bodies_are_refused_before_parsing(demo_url: str, route: str) -> None:
    """Issue 24 #11: declared (Content-Length) or chunked, a body over the limit gets 413, not a parse."""
    payload = _big_rank_payload(1_000_000)
    headers = {"content-type": "application/json"}
    declared = httpx.post(demo_url + route, content=payload, headers=headers, timeout=60)
    chunks = (payload[i : i + 65536] for i in range(0, len(payload), 65536))
    chunked = httpx.post(demo_url + route, content=chunks, headers=headers, timeout=60)
    for response in (declared, chunked):
        assert response.status_code == 413, response.text
        assert "request body larger than 200,000 bytes" in response.json()["detail"]
    docs = "\n".join([f"bake bread {i} " * 10 for i in range(900)])  # 130 KB, within every limit: served
    event, body = _rank(demo_url, {"data": ["neural network", docs]})
    assert event == "complete", body


def _drive(limit: int, body: bytes, declare: bool, piece: int = 65536) -> tuple[int, int, int]:
    """Run :class:`BodyLimit` over an app that reads the whole body: ``(status, bytes pulled, bytes the app got)``."""
    import asyncio

    from m2v_edge.demo.bodylimit import BodyLimit

    pulled, got, status = [0], [0], []
    pieces = [body[i : i + piece] for i in range(0, len(body), piece)]

    async def receive() -> dict:
        chunk = pieces.pop(0)
        pulled[0] += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pieces)}

    async def app(scope, receive, send) -> None:  # like a JSON route: read everything, then answer
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ConnectionError("client gone")
            got[0] += len(message["body"])
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    headers = [(b"content-length", str(len(body)).encode())] if declare else []
    asyncio.run(BodyLimit(app, limit)({"type": "http", "headers": headers}, receive, send))
    return status[0], pulled[0], got[0]


def test_body_limit_reads_at_most_the_limit() -> None:
    """The refusal never reads the oversized body: nothing with Content-Length, one piece past the limit without."""
    big = b"x" * 50_000_000
    assert _drive(1_000_000, big, declare=True) == (413, 0, 0)
    status, pulled, got = _drive(1_000_000, big, declare=False)
    assert status == 413 and pulled <= 1_000_000 + 65536 and got <= 1_000_000
    assert _drive(1_000_000, b"x" * 1_000_000, declare=True) == (200, 1_000_000, 1_000_000)  # at the limit: served
    assert _drive(1_000_000, b"x" * 1_000_000, declare=False) == (200, 1_000_000, 1_000_000)
