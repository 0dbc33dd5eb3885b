"""One text, one vector: a text's vector is a pure function of the text and the export.

Bit-identical whatever the batch size, the neighbours in the batch, their order, the onnxruntime thread
count, the helper thread (pipeline) on or off, the fast tokenizer on or off, and the machine's load: every
test here runs beside a busy-loop process (``busy_core``). Also the tokenizer's purity under threads and the
helper thread's life cycle.
"""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m2v_edge.runtime.batching import padded_width
from m2v_edge.runtime.model import StaticOnnxModel
from m2v_edge.runtime.tokenize import MODEL_DEFAULT, MaxLength, TextTokenizer
from tests.conftest import POTION
from tests.texts import stsb_sentences, tricky_texts

pytestmark = pytest.mark.usefixtures("busy_core")
LIMITS: tuple[MaxLength, ...] = (3, 17, None, MODEL_DEFAULT, 64)


def _tokenizer() -> TextTokenizer:
    tokenizer_json = (POTION / "tokenizer.json").read_text(encoding="utf-8")
    return TextTokenizer.from_tokenizer_json(tokenizer_json, max_length=40)


def _texts() -> list[str]:
    return [f"sentence {i} " + "neural network training and photosynthesis " * (i % 20) for i in range(300)]


@cache
def corpus() -> tuple[str, ...]:
    """Unseen-style real text: STS-B sentences, ~500-character passages made of them, the tricky corpus."""
    sentences = stsb_sentences()
    passages = [" ".join(sentences[i : i + 5])[:500] for i in range(400, 560, 8)]
    return tuple(sentences[:160] + passages + tricky_texts())


def _helper_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("m2v-edge-helper")]


def test_threads_with_different_max_length_get_their_own_ids() -> None:
    tokenizer = _tokenizer()
    texts = _texts()
    expected = {limit: tokenizer.encode_ids(texts, max_length=limit) for limit in LIMITS}
    assert len({tuple(map(len, ids)) for ids in expected.values()}) == len(LIMITS)  # the limits really differ
    assert max(map(len, expected[MODEL_DEFAULT])) == 40 and max(map(len, expected[None])) > 64

    def work(limit: MaxLength) -> bool:
        ok = True
        for _ in range(10):
            ok &= tokenizer.encode_ids(texts, max_length=limit) == expected[limit]
            rows = {}
            for positions, ids, mask in tokenizer.batches(texts, 8, limit):
                for p, row, m in zip(positions.tolist(), ids, mask, strict=True):
                    rows[p] = row[m.astype(bool)].tolist()
            ok &= [rows[i] for i in range(len(texts))] == expected[limit]
        return ok

    with ThreadPoolExecutor(max_workers=len(LIMITS) * 2) as pool:
        assert all(pool.map(work, LIMITS * 2))


def test_max_length_values() -> None:
    tokenizer = _tokenizer()
    long = ["word " * 300]
    assert len(tokenizer.encode_ids(long)[0]) == 40
    assert len(tokenizer.encode_ids(long, max_length=None)[0]) == 300
    assert tokenizer.resolve(MODEL_DEFAULT) == 40 and tokenizer.resolve(None) is None
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="max_length must be a positive integer or None"):
            tokenizer.encode_ids(long, max_length=bad)  # type: ignore[arg-type]


def test_the_tokenizer_owns_no_thread() -> None:
    before = len(_helper_threads())
    tokenizer = _tokenizer()
    assert sum(len(p) for p, _, _ in tokenizer.batches(_texts() * 10, 8)) == 3000
    assert len(_helper_threads()) == before


def test_padded_width_rule() -> None:
    assert [padded_width(n) for n in (0, 1, 4, 5, 63, 64, 65, 72, 73, 128, 129, 512, 513)] == [
        4, 4, 4, 8, 64, 64, 72, 72, 80, 128, 144, 512, 576,
    ]  # fmt: skip
    for n in range(1, 2000):
        width = padded_width(n)
        assert n <= width <= max(n + 3, n * 9 // 8 + 1) and padded_width(width) == width


def test_batches_cover_every_text_once_at_its_own_width() -> None:
    tokenizer = _tokenizer()
    texts = _texts() * 3 + ["", " "]
    counts = [len(ids) for ids in tokenizer.encode_ids(texts)]
    seen = []
    for positions, ids, mask in tokenizer.batches(texts, 16):
        assert len(positions) <= 16
        assert {padded_width(counts[p]) for p in positions.tolist()} == {ids.shape[1]}
        assert mask.sum(axis=1).tolist() == [counts[p] for p in positions.tolist()]
        seen += positions.tolist()
    assert sorted(seen) == list(range(len(texts)))


def test_helper_thread_life_cycle(potion_int8: Path) -> None:
    before = len(_helper_threads())
    texts = _texts() * 4
    with StaticOnnxModel.from_pretrained(potion_int8, pipeline=True) as model:
        expected = model.encode(texts, batch_size=64)
        assert len(_helper_threads()) == before + 1
    assert len(_helper_threads()) == before  # closed by `with`
    np.testing.assert_array_equal(model.encode(texts, batch_size=64), expected)  # after close: unthreaded
    assert len(_helper_threads()) == before

    def run_and_drop() -> None:
        dropped = StaticOnnxModel.from_pretrained(potion_int8, pipeline=True)
        dropped.encode(texts, batch_size=64)
        assert len(_helper_threads()) == before + 1

    run_and_drop()
    gc.collect()  # the finalizer shuts the pool down once the model is collected
    deadline = time.monotonic() + 5
    while len(_helper_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_helper_threads()) == before
    off = StaticOnnxModel.from_pretrained(potion_int8, pipeline=False)
    np.testing.assert_array_equal(off.encode(texts, batch_size=64), expected)
    assert len(_helper_threads()) == before


def test_close_while_other_threads_encode(potion_int8: Path) -> None:
    model = StaticOnnxModel.from_pretrained(potion_int8, pipeline=True)
    texts = _texts() * 8
    expected = model.encode(texts, batch_size=32)
    start = threading.Barrier(5)

    def work() -> bool:
        start.wait()
        return all(np.array_equal(model.encode(texts, batch_size=32), expected) for _ in range(3))

    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = [pool.submit(work) for _ in range(4)]
        start.wait()
        time.sleep(0.05)
        model.close()  # running encodes finish, later ones run on their calling thread
        assert all(job.result() for job in jobs)


@cache
def _model(path: str, pipeline: bool, threads: int, fast: bool) -> StaticOnnxModel:
    """``fast``: the onnxruntime-extensions op where it is exact for the model (else tokenizers, as loading does)."""
    try:
        return StaticOnnxModel.from_pretrained(path, pipeline=pipeline, threads=threads, fast_tokenizer=fast)
    except ValueError as err:
        assert fast and "fast tokenizer unavailable" in str(err)
        return StaticOnnxModel.from_pretrained(path, pipeline=pipeline, threads=threads, fast_tokenizer=False)


@cache
def _one_at_a_time(path: str) -> np.ndarray:
    model = _model(path, False, 1, False)
    return np.stack([model.encode(text) for text in corpus()])


def _check_partition(path: str, data: st.DataObject) -> None:
    texts = corpus()
    order = data.draw(st.permutations(range(len(texts))), label="order")
    cuts = sorted(data.draw(st.sets(st.integers(1, len(texts) - 1), max_size=4), label="cuts"))
    pipeline, threads = data.draw(st.booleans(), label="pipeline"), data.draw(st.sampled_from([1, 2]), label="threads")
    batch_size = data.draw(st.sampled_from([1, 3, 16, 32, 128, 1024]), label="batch_size")
    model = _model(path, pipeline, threads, data.draw(st.booleans(), label="fast"))
    want = _one_at_a_time(path)
    for start, stop in zip([0, *cuts], [*cuts, len(texts)], strict=True):
        positions = order[start:stop]
        got = model.encode([texts[i] for i in positions], batch_size=batch_size)
        bad = np.flatnonzero((got != want[positions]).any(axis=1))
        assert not len(bad), f"{len(bad)} rows differ, e.g. {texts[positions[bad[0]]][:60]!r}"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_texts_vector_never_depends_on_its_batch_potion(potion_int8: Path, data: st.DataObject) -> None:
    _check_partition(str(potion_int8), data)


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_texts_vector_never_depends_on_its_batch_qwen_family(qwen_m2v_int8: Path, data: st.DataObject) -> None:
    _check_partition(str(qwen_m2v_int8), data)


def test_every_text_of_a_large_call_equals_its_one_at_a_time_vector(potion_int8: Path) -> None:
    """Several parts, the helper tokenizing ahead and the lanes sharing graph calls: still the same bits."""
    texts = list(corpus()) * 6  # ~1,300 texts: 3+ parts at batch 32, lanes at the end
    want = np.concatenate([_one_at_a_time(str(potion_int8))] * 6)
    for batch_size in (32, 1024):
        got = _model(str(potion_int8), True, 1, False).encode(texts, batch_size=batch_size)
        assert int((got != want).any(axis=1).sum()) == 0
