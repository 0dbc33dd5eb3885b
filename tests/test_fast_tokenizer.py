"""The optional onnxruntime-extensions tokenizer (m2v-edge[fast]): exact or off, never silently different."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m2v_edge.bench.data import passages, stsb_sentences
from m2v_edge.export.exporter import export_model
from m2v_edge.runtime.fast_tokenizer import unsupported_reason
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


_FRAGMENTS = sorted(
    {t[i:j] for t in ("<|endoftext|>", "<|im_start|>") for i in range(len(t)) for j in range(i + 1, len(t) + 1)}
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.lists(st.sampled_from([*_FRAGMENTS, "a", "b<c", " ", "\n", "def", "x <= y"]), max_size=5).map("".join))
)
def test_byte_level_op_routing_keeps_added_token_fragments_exact(tiny_json: dict[str, str], texts: list[str]) -> None:
    # The op drops the rest of a text after a "<" that starts no whole added token ("a<b" lost "b"); such texts
    # must go to tokenizers, so the ids stay identical whatever the mix.
    tokenizer_json = tiny_json["bpe"]
    reference = TextTokenizer.from_tokenizer_json(tokenizer_json, 512)
    fast = _bpe_fast(tokenizer_json)
    for limit in (512, 3):
        assert _ids(fast, texts, limit) == _ids(reference, texts, limit)


_BPE_FAST: dict[str, TextTokenizer] = {}


def _bpe_fast(tokenizer_json: str) -> TextTokenizer:
    if tokenizer_json not in _BPE_FAST:
        fast = TextTokenizer.from_tokenizer_json(tokenizer_json, 512)
        assert fast.use_fast(tokenizer_json, required=True), fast.fast_reason
        _BPE_FAST[tokenizer_json] = fast
    return _BPE_FAST[tokenizer_json]


def test_unigram_stays_on_tokenizers(tiny_json: dict[str, str]) -> None:
    unigram_json = tiny_json["unigram"]
    assert "Unigram" in (unsupported_reason(unigram_json) or "")
    tokenizer = TextTokenizer.from_tokenizer_json(unigram_json, 512)
    assert not tokenizer.use_fast(unigram_json) and tokenizer.fast is None
    with pytest.raises(ValueError, match="fast tokenizer unavailable: the tokenizer is Unigram"):
        tokenizer.use_fast(unigram_json, required=True)


@pytest.fixture(scope="module")
def potion_pair() -> tuple[TextTokenizer, TextTokenizer]:
    """potion-base-8M's tokenizer without and with the WordPiece op."""
    potion_json = (POTION / "tokenizer.json").read_text(encoding="utf-8")
    reference = TextTokenizer.from_tokenizer_json(potion_json, 512)
    fast = TextTokenizer.from_tokenizer_json(potion_json, 512)
    assert fast.use_fast(potion_json, required=True), fast.fast_reason
    return reference, fast


def test_wordpiece_uses_the_op_for_printable_ascii_only(potion_pair: tuple[TextTokenizer, TextTokenizer]) -> None:
    reference, fast = potion_pair
    assert "BertTokenizer" in fast.fast_reason
    op = fast.fast
    routed = [
        "plain text",
        "tabs\tand\nnewlines\r\n",
        "",
        "café",
        "Привет",
        "bell \x07",
        "nul \x00",
        "a ~ b",
        "[CLS] x",
    ]
    assert op.supported(routed).tolist() == [True, True, True, False, False, False, False, False, False]
    texts = TRICKY + EXTRA + stsb_sentences() + passages(stsb_sentences())  # mixed: both paths in one call
    for limit in (512, 8, None):
        assert _ids(fast, texts, limit) == _ids(reference, texts, limit)


# Printable ASCII with tab and newlines, as characters and as word-like runs (long ones hit the 100-character
# [UNK] rule): the op must give tokenizers' ids for every such text, alone and joined in a batch.
_PLAIN = st.text(st.sampled_from([chr(c) for c in range(32, 127)] + ["\t", "\n", "\r"]), max_size=60)
_WORDS = st.lists(
    st.sampled_from(["the", "Neural", "don't", "U.S.A.", "e-mail", "3.14", "x" * 120, "ACRONYM", "##ing", "[unk]", ""])
    | _PLAIN,
    max_size=8,
).map(" ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_PLAIN | _WORDS, min_size=1, max_size=12))
def test_wordpiece_op_equals_tokenizers_on_printable_ascii(
    potion_pair: tuple[TextTokenizer, TextTokenizer], texts: list[str]
) -> None:
    reference, fast = potion_pair
    ok = fast.fast.supported(texts)
    texts = [t for t, k in zip(texts, ok, strict=True) if k]  # only the separator or an added token's text is left out
    assert _ids(fast, texts, None) == _ids(reference, texts, None)


@pytest.mark.parametrize("kind", ["bpe", "wordpiece"])
def test_op_that_differs_is_refused(monkeypatch: pytest.MonkeyPatch, tiny_json: dict[str, str], kind: str) -> None:
    from m2v_edge.runtime import fast_tokenizer as fast

    tokenizer_json = tiny_json["bpe"] if kind == "bpe" else (POTION / "tokenizer.json").read_text(encoding="utf-8")
    op_class = fast.FastTokenizer if kind == "bpe" else fast.WordPieceFast
    real = op_class.tokenize

    def off_by_one(self: Any, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        flat, counts = real(self, texts)
        return flat + (flat == flat.max()), counts  # one id changed wherever the largest id occurs

    monkeypatch.setattr(op_class, "tokenize", off_by_one)
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
        want = plain.encode(texts, batch_size=batch_size)  # same ids, so the same bits (one text, one vector)
        np.testing.assert_array_equal(quick.encode(texts, batch_size=batch_size), want)
        np.testing.assert_array_equal(auto.encode(texts, batch_size=batch_size), want)


def test_potion_encodes_the_same_with_and_without_the_wordpiece_op(potion_int8: Path) -> None:
    plain = StaticOnnxModel.from_pretrained(potion_int8, fast_tokenizer=False)
    quick = StaticOnnxModel.from_pretrained(potion_int8, fast_tokenizer=True)
    assert quick.tokenizer.fast is not None
    texts = TRICKY + EXTRA + stsb_sentences()[:700] + passages(stsb_sentences())[:60]
    for batch_size in (1, 32, 1024):
        want = plain.encode(texts, batch_size=batch_size)
        np.testing.assert_array_equal(quick.encode(texts, batch_size=batch_size), want)
