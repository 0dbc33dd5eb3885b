"""Headless Chromium drives the demo page: preset clicks, the ranking read back from the page, screenshots.

Needs the Python ``playwright`` package (its driver ships in the wheel; no ``playwright install``) and a
system Chromium at ``/usr/bin/chromium`` (Debian: ``apt-get install -y chromium``; ``$CHROMIUM_PATH``
overrides). The screenshots land in the gitignored ``artifacts/`` at the repo root, or in ``docs/img/`` (the
committed images) when ``M2V_EDGE_UPDATE_DOCS_IMAGES=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("gradio", reason="the demo extra (gradio) is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download needed)")

from m2v_edge.demo.backend import DemoBackend  # noqa: E402
from m2v_edge.demo.cache import DemoModels, open_models  # noqa: E402
from m2v_edge.demo.presets import preset_by_label  # noqa: E402
from tests.test_demo import SEED, SEED_TOP, expected_ranking, running_demo  # noqa: E402


def find_chromium() -> str | None:
    """``$CHROMIUM_PATH``, else ``/usr/bin/chromium``, else a Chromium/Chrome on PATH."""
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium"]
    candidates += [shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")]
    return next((c for c in candidates if c and Path(c).is_file()), None)


CHROMIUM = find_chromium()
ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img" if os.environ.get("M2V_EDGE_UPDATE_DOCS_IMAGES") == "1" else ROOT / "artifacts"
CHROMIUM_ARGS = json.loads((ROOT / "tests" / "data" / "chromium.json").read_text(encoding="utf-8"))["args"]
TIMEOUT_MS = 30_000
ROWS = '[role="row"].virtual-row'  # gradio 6 Dataframe body rows

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium at /usr/bin/chromium: apt-get install -y chromium"),
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),
]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> DemoModels:
    return open_models(None, cache_dir=tmp_path_factory.mktemp("demo-cache"), log=lambda _: None)


@pytest.fixture(scope="module")
def page(models: DemoModels, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    with running_demo(DemoBackend(models)) as url, sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 860},
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        outside: list[str] = []
        page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(url) else None)
        page.goto(url)
        page.get_by_role("button", name="Rank", exact=True).wait_for()
        yield page
        context.close()
        assert [u for u in outside if not u.startswith(("data:", "blob:"))] == []  # nothing leaves the machine


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot as ``IMG/name`` and check it is a real PNG of the page."""
    IMG.mkdir(parents=True, exist_ok=True)
    path = IMG / name
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1280 and height >= 860, f"{path}: {width}x{height}, expected the 1280-wide page"
    assert len(data) > 10_000, f"{path}: {len(data)} bytes, too small for the rendered page"


def read_ranking(page, documents: tuple[str, ...]) -> list[tuple[int, float, str]]:
    """Wait until the results table holds exactly these documents, then read (rank, score, document) rows."""
    table = page.locator("#search-results")
    rows = table.locator(ROWS)
    sync_api.expect(rows).to_have_count(len(documents), timeout=TIMEOUT_MS)
    for doc in documents:
        sync_api.expect(table).to_contain_text(doc, timeout=TIMEOUT_MS)
    out = []
    for i in range(rows.count()):
        cells = [c.strip() for c in rows.nth(i).locator('[role="gridcell"]').all_inner_texts()]
        out.append((int(cells[0]), float(cells[1]), cells[2]))
    return out


def assert_matches_model(models: DemoModels, label: str, got: list[tuple[int, float, str]]) -> None:
    preset = preset_by_label(label)
    want = expected_ranking(models.onnx, preset.query, list(preset.documents))
    assert [row[0] for row in got] == list(range(1, len(want) + 1))
    assert [row[2] for row in got] == [doc for doc, _ in want]
    assert [row[1] for row in got] == pytest.approx([score for _, score in want], abs=1e-4)


def test_preset_click_shows_the_ranking(page, models: DemoModels) -> None:
    # another preset first, so the second click visibly replaces the page's ranking
    page.get_by_role("button", name="RAG question").first.click()
    rag = preset_by_label("RAG question")
    assert_matches_model(models, rag.label, read_ranking(page, rag.documents))

    page.get_by_role("button", name=SEED.label).first.click()
    got = read_ranking(page, SEED.documents)
    assert got[0][2] == SEED_TOP
    assert_matches_model(models, SEED.label, got)
    assert page.locator("#search-query textarea, #search-query input").first.input_value() == SEED.query
    sync_api.expect(page.locator("#search-status")).to_contain_text("Encoded 1 query + 3 documents")
    sync_api.expect(page.locator("#search-chart")).to_contain_text(SEED_TOP[:20])
    screenshot(page, "demo-search.png")


def test_empty_query_shows_a_message(page) -> None:
    query = page.locator("#search-query textarea, #search-query input").first
    query.fill("")
    page.get_by_role("button", name="Rank", exact=True).click()
    sync_api.expect(page.locator("#search-status")).to_contain_text("The query is empty")
    sync_api.expect(page.locator(f"#search-results {ROWS}")).to_have_count(0)


def test_other_tabs_render(page, models: DemoModels) -> None:
    page.get_by_role("tab", name="Compare").click()
    page.locator("#compare-run").click()
    summary = page.locator("#compare-summary")
    sync_api.expect(summary).to_contain_text("the same order")
    sync_api.expect(page.locator(f"#compare-results {ROWS}")).to_have_count(len(SEED.documents))
    screenshot(page, "demo-compare.png")

    page.get_by_role("tab", name="Similarity matrix").click()
    page.locator("#matrix-run").click()
    sync_api.expect(page.locator("#matrix-status")).to_contain_text("Encoded 6 texts")
    sync_api.expect(page.locator("#matrix-plot img")).to_be_visible()
    screenshot(page, "demo-matrix.png")

    page.get_by_role("tab", name="Model").click()
    facts = page.locator("#model-facts")
    sync_api.expect(facts).to_contain_text(str(models.onnx.config["source"]["sha256"]))
    sync_api.expect(facts).to_contain_text(f"{models.onnx.config['vocab_size']:,}")
    screenshot(page, "demo-model.png")
