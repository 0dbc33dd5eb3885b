"""The optional onnxruntime-extensions tokenizer (m2v-edge[fast]): exact or off, never silently different."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from m2v_edge.bench.data import stsb_sentences
from m2v_edge.export.exporter import export_model
from m2v_edge.runtime.fast import unsupported_reason
from m2v_edge.runtime.model import StaticOnnxModel
from m2v_edge.runtime.tokenize import FAST_MIN_TEXTS, TextTokenizer
from tests.conftest import POTION, ROOT
from tests.fixtures import make_tiny_model

pytest.importorskip("onnxruntime_extensions", reason="m2v-edge[fast] not installed")

TRICKY = json.loads((ROOT / "tests" / "data" / "tricky_texts.json").read_text(encoding="utf-8"))
EXTRA = ["nul \x00 inside", "cafe\u0301 decomposed", "", "   ", "a " * 600]


@pytest.fixture(scope="module")
def tiny_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """tokenizer.json of the tiny byte-level BPE and Unigram test models."""
    out = {}
    for kind in ("bpe", "unigram"):
        folder = make_tiny_model(kind, tmp_path_factory.mktemp(f"fast-{kind}"))
        out[kind] = (folder / "tokenizer.json").read_text(encoding="utf-8")
    return out


def _ids(tokenizer: TextTokenizer, texts: list[str], limit: int | None) -> list[list[int]]:
    flat, counts = tokenizer.tokenize(texts, limit)
    return [row.tolist() for row in np.split(flat, np.cumsum(counts)[:-1])]


def test_byte_level_bpe_uses_the_op_with_identical_ids(tiny_json: dict[str, str]) -> None:
    tokenizer_json = tiny_json["bpe"]
    reference = TextTokenizer.from_tokenizer_json(tokenizer_json, 512)
    fast = TextTokenizer.from_tokenizer_json(tokenizer_json, 512)
    assert fast.use_fast(tokenizer_json, required=True), fast.fast_reason
    texts = TRICKY + EXTRA + stsb_sentences()[:300]
    for limit in (512, 7, None):
        assert _ids(fast, texts, limit) == _ids(reference, texts, limit)


@pytest.mark.slow
def test_qwen_tokenizer_ids_identical_with_the_op() -> None:
    tokenizer_json = (ROOT / "tests" / "data" / "qwen" / "tokenizer.json").read_text(encoding="utf-8")
    reference = TextTokenizer.from_tokenizer_json(tokenizer_json, 512)
    fast = TextTokenizer.from_tokenizer_json(tokenizer_json, 512)
    assert fast.use_fast(tokenizer_json, required=True), fast.fast_reason
    assert fast.fast.nfc  # Qwen normalizes with NFC: applied before the op
    texts = TRICKY + EXTRA + stsb_sentences()
    assert _ids(fast, texts, 512) == _ids(reference, texts, 512)


def test_wordpiece_and_unigram_stay_on_tokenizers(tiny_json: dict[str, str]) -> None:
    potion_json = (POTION / "tokenizer.json").read_text(encoding="utf-8")
    assert "WordPiece" in (unsupported_reason(potion_json) or "")
    tokenizer = TextTokenizer.from_tokenizer_json(potion_json, 512)
    assert not tokenizer.use_fast(potion_json) and tokenizer.fast is None
    with pytest.raises(ValueError, match="fast tokenizer unavailable: the tokenizer is WordPiece"):
        tokenizer.use_fast(potion_json, required=True)
    assert "Unigram" in (unsupported_reason(tiny_json["unigram"]) or "")


def test_op_that_differs_is_refused(monkeypatch: pytest.MonkeyPatch, tiny_json: dict[str, str]) -> None:
    from m2v_edge.runtime import fast

    tokenizer_json = tiny_json["bpe"]
    real = fast.FastTokenizer.tokenize

    def off_by_one(self: fast.FastTokenizer, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        flat, counts = real(self, texts)
        return flat + (flat == flat.max()), counts  # one id changed wherever the largest id occurs

    monkeypatch.setattr(fast.FastTokenizer, "tokenize", off_by_one)
    tokenizer = TextTokenizer.from_tokenizer_json(tokenizer_json, 512)
    assert not tokenizer.use_fast(tokenizer_json)
    assert "ids differ from tokenizers'" in tokenizer.fast_reason and tokenizer.fast is None


def test_model_encodes_the_same_with_and_without_the_op(tmp_path: Path) -> None:
    out = tmp_path / "bpe-int8"
    export_model(make_tiny_model("bpe", tmp_path / "bpe"), out, dtype="int8")
    plain = StaticOnnxModel.from_pretrained(out, fast_tokenizer=False)
    quick = StaticOnnxModel.from_pretrained(out, fast_tokenizer=True)
    auto = StaticOnnxModel.from_pretrained(out)
    assert plain.tokenizer.fast is None and quick.tokenizer.fast is not None
    assert auto.tokenizer.fast is None and "deferred" in auto.tokenizer.fast_reason
    auto.encode(stsb_sentences()[: FAST_MIN_TEXTS - 1])
    assert auto.tokenizer.fast is None  # a short call does not pay for building the op
    auto.encode((stsb_sentences() * 2)[:FAST_MIN_TEXTS])
    assert auto.tokenizer.fast is not None and "identical" in auto.tokenizer.fast_reason
    texts = TRICKY + EXTRA + stsb_sentences()[:700]
    for batch_size in (1, 32, 1024):
        want = plain.encode(texts, batch_size=batch_size)
        np.testing.assert_allclose(quick.encode(texts, batch_size=batch_size), want, atol=1e-6)
        np.testing.assert_allclose(auto.encode(texts, batch_size=batch_size), want, atol=1e-6)
