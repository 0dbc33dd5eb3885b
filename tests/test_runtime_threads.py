"""TextTokenizer under threads: per-call limits, the prefetch pool's shutdown, the free-core probe."""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from m2v_edge.runtime import model as model_module
from m2v_edge.runtime.cores import spare_cores, usable_cores
from m2v_edge.runtime.model import StaticOnnxModel
from m2v_edge.runtime.tokenize import MODEL_DEFAULT, MaxLength, TextTokenizer
from tests.conftest import POTION

LIMITS: tuple[MaxLength, ...] = (3, 17, None, MODEL_DEFAULT, 64)


def _tokenizer() -> TextTokenizer:
    tokenizer_json = (POTION / "tokenizer.json").read_text(encoding="utf-8")
    return TextTokenizer.from_tokenizer_json(tokenizer_json, max_length=40)


def _texts() -> list[str]:
    return [
        f"sentence {i} " + "neural network training and photosynthesis " * (i % 20) for i in range(300)
    ]  # > CHUNK_BATCHES * 8: several chunks at batch 8


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("m2v-edge-helper")]


def test_threads_with_different_max_length_get_their_own_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("M2V_EDGE_PREFETCH", "1")  # exercise the helper thread too
    tokenizer = _tokenizer()
    texts = _texts()
    expected = {limit: tokenizer.encode_ids(texts, max_length=limit) for limit in LIMITS}
    assert len({tuple(map(len, ids)) for ids in expected.values()}) == len(LIMITS)  # the limits really differ
    assert max(map(len, expected[MODEL_DEFAULT])) == 40 and max(map(len, expected[None])) > 64

    def work(limit: MaxLength) -> bool:
        ok = True
        for _ in range(15):
            ok &= tokenizer.encode_ids(texts, max_length=limit) == expected[limit]
            rows = {}
            for positions, ids, mask in tokenizer.batches(texts, 8, limit):
                for p, row, m in zip(positions.tolist(), ids, mask, strict=True):
                    rows[p] = row[m.astype(bool)].tolist()
            ok &= [rows[i] for i in range(len(texts))] == expected[limit]
        return ok

    with ThreadPoolExecutor(max_workers=len(LIMITS) * 2) as pool:
        results = list(pool.map(work, LIMITS * 2))
    assert all(results)
    tokenizer.close()


def test_max_length_values() -> None:
    tokenizer = _tokenizer()
    long = ["word " * 300]
    assert len(tokenizer.encode_ids(long)[0]) == 40
    assert len(tokenizer.encode_ids(long, max_length=None)[0]) == 300
    assert tokenizer.resolve(MODEL_DEFAULT) == 40 and tokenizer.resolve(None) is None
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="max_length must be a positive integer or None"):
            tokenizer.encode_ids(long, max_length=bad)  # type: ignore[arg-type]


def test_prefetch_pool_shuts_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("M2V_EDGE_PREFETCH", "1")
    texts = _texts()
    before = len(_prefetch_threads())
    with _tokenizer() as tokenizer:
        expected = tokenizer.encode_ids(texts)
        list(tokenizer.batches(texts, 8))
        assert len(_prefetch_threads()) == before + 1
    assert len(_prefetch_threads()) == before  # closed by `with`
    rows = sum(len(p) for p, _, _ in tokenizer.batches(texts, 8))  # still works after close, unthreaded
    assert rows == len(texts) and tokenizer.encode_ids(texts) == expected and len(_prefetch_threads()) == before

    def run_and_drop() -> None:
        dropped = _tokenizer()
        list(dropped.batches(texts, 8))
        assert len(_prefetch_threads()) == before + 1

    run_and_drop()
    gc.collect()  # the finalizer shuts the pool down once the tokenizer is collected
    deadline = time.monotonic() + 5
    while len(_prefetch_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_prefetch_threads()) == before


def test_no_prefetch_thread_when_no_core_is_free(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("M2V_EDGE_PREFETCH", "0")
    tokenizer = _tokenizer()
    before = len(_prefetch_threads())
    assert sum(len(p) for p, _, _ in tokenizer.batches(_texts(), 8)) == len(_texts())
    assert len(_prefetch_threads()) == before


def test_spare_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("M2V_EDGE_PREFETCH", "0")
    assert spare_cores() == 0.0
    monkeypatch.setenv("M2V_EDGE_PREFETCH", "1")
    assert spare_cores() == 1.0
    monkeypatch.delenv("M2V_EDGE_PREFETCH")
    assert 0.0 <= spare_cores() <= usable_cores() - 1 + 1e-9


def test_sorted_batches_cover_every_text_once() -> None:
    tokenizer = _tokenizer()
    texts = _texts() * 3
    seen = np.concatenate([positions for positions, _, _ in tokenizer.batches(texts, 16)])
    assert sorted(seen.tolist()) == list(range(len(texts)))


@pytest.mark.parametrize("batch_size", [64, 1024])  # several chunks and batches; one batch split by rows
def test_graph_calls_shared_with_the_idle_helper_give_the_same_vectors(
    potion_int8: Path, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    texts = _texts()[:250] if batch_size == 1024 else _texts() * 2
    model = StaticOnnxModel.from_pretrained(potion_int8)
    monkeypatch.setattr(model_module, "SHARE_MIN_CELLS", 1 << 62)
    alone = model.encode(texts, batch_size=batch_size)
    monkeypatch.setenv("M2V_EDGE_PREFETCH", "1")
    monkeypatch.setattr(model_module, "SHARE_MIN_CELLS", 0)
    callers: list[str] = []
    graph = model._graph

    def spy(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        callers.append(threading.current_thread().name)
        return graph(ids, mask)

    monkeypatch.setattr(model, "_graph", spy)
    shared = model.encode(texts, batch_size=batch_size)
    assert any(name.startswith("m2v-edge-helper") for name in callers)  # the helper did run graph calls
    assert threading.current_thread().name in callers
    np.testing.assert_array_equal(shared, alone)
    reference = model.encode(texts[:40], batch_size=8)  # rows do not depend on which thread or batch ran them
    np.testing.assert_allclose(shared[:40], reference, atol=1e-6)
    model.close()
