"""docs/model2vec.md's table, row by row, against model2vec 0.10.

The table is parsed here: it must list exactly the public members of a loaded ``StaticModel`` and every row has
one check below (a row without a check, or a check without a row, fails), so the page and the behaviour cannot
drift apart. Most checks use a float32 export of potion-base-8M, whose vectors equal model2vec's within 1e-6.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from m2v_edge import StaticOnnxModel

model2vec = pytest.importorskip("model2vec")

PAGE = Path(__file__).resolve().parents[1] / "docs" / "model2vec.md"
ROW = re.compile(r"^\| `(?P<member>\w+)` \|", re.M)
TEXTS = [
    "It's dangerous to go alone!",
    "",
    "a much longer text about cats, dogs and birds " * 60,
    "zzyzx qqq ñandú 東京",
]


def table_members() -> list[str]:
    return ROW.findall(PAGE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ref(potion_source: Path) -> object:
    return model2vec.StaticModel.from_pretrained(potion_source)


@pytest.fixture(scope="module")
def ours(potion_fp32: Path) -> StaticOnnxModel:
    return StaticOnnxModel.from_pretrained(potion_fp32)


def close(a: np.ndarray, b: np.ndarray, tol: float = 1e-6) -> bool:
    return a.shape == b.shape and float(np.abs(a.astype(np.float32) - b.astype(np.float32)).max(initial=0)) <= tol


def check_from_pretrained(ours, ref, potion_source, potion_fp32, tmp_path, monkeypatch):
    monkeypatch.setenv("M2V_EDGE_CACHE", str(tmp_path))
    raw = StaticOnnxModel.from_pretrained(str(potion_source), normalize=False, quantize_to="float32", max_length=8)
    assert raw.files.root.parent == tmp_path and raw.embedding_dtype == "float32" and raw.max_length == 8
    assert close(raw.encode(TEXTS), ref.encode(TEXTS, normalize=False, max_length=8))
    from model2vec.quantization import DType

    again = StaticOnnxModel.from_pretrained(potion_source, normalize=False, quantize_to=DType.Float32)
    assert again.files.root == raw.files.root  # exported once, reused
    inside = StaticOnnxModel.from_pretrained(potion_fp32.parent, subfolder=potion_fp32.name)
    assert inside.files.root == potion_fp32
    cut = StaticOnnxModel.from_pretrained(potion_fp32, dimensionality=64)
    theirs = model2vec.StaticModel.from_pretrained(potion_source, dimensionality=64)
    assert cut.dim == 64 and close(cut.encode(TEXTS), theirs.encode(TEXTS))
    # one text, one vector: the cut and re-normalization are row-wise, whatever the batch
    assert np.array_equal(np.stack([cut.encode(text) for text in TEXTS]), cut.encode(TEXTS, batch_size=3))
    raw.normalize = True
    assert np.array_equal(np.stack([raw.encode(text) for text in TEXTS]), raw.encode(TEXTS, batch_size=3))
    int8 = StaticOnnxModel.from_pretrained(potion_source)
    assert (
        int8.embedding_dtype == "int8"
        and (np.sum(int8.encode(TEXTS) * ref.encode(TEXTS), axis=1)[[0, 2, 3]] > 0.999).all()
    )
    for kwargs, words in [
        ({"quantize_to": "float16"}, "--dtype float16"),
        ({"quantize_to": "float64"}, "quantize_to='float64': an export stores its table as int8, float16, float32"),
        ({"vocabulary_quantization": 64}, "quantize_model"),
        ({"normalize": False}, "normalize=False"),
        ({"dimensionality": 300}, "dimensionality"),
    ]:
        with pytest.raises(ValueError, match=re.escape(words)):
            StaticOnnxModel.from_pretrained(potion_fp32, **kwargs)


def check_encode(ours, ref, **_):
    assert close(ours.encode(TEXTS), ref.encode(TEXTS))
    opts = {"use_multiprocessing": False, "multiprocessing_threshold": 1, "convert_to_numpy": True, "batch_size": 2}
    assert close(ours.encode(TEXTS, **opts), ref.encode(TEXTS, **opts))
    assert close(
        ours.encode(TEXTS[0], normalize=True, max_length=None), ref.encode(TEXTS[0], normalize=True, max_length=None)
    )
    assert close(ours.encode(TEXTS, show_progress_bar=True, max_length=3), ref.encode(TEXTS, max_length=3))


def check_encode_as_sequence(ours, ref, **_):
    for got, want in zip(ours.encode_as_sequence(TEXTS), ref.encode_as_sequence(TEXTS), strict=True):
        assert close(got, want.reshape(-1, ref.dim))
    assert close(ours.encode_as_sequence(TEXTS[2], max_length=5), ref.encode_as_sequence(TEXTS[2], max_length=5))


def check_tokenize(ours, ref, **_):
    assert ours.tokenize(TEXTS) == ref.tokenize(TEXTS) and len(ours.tokenize(TEXTS)[2]) == ref.max_length


def check_dim(ours, ref, **_):
    assert ours.dim == ref.dim == 256


def check_normalize(ours, ref, potion_source, tmp_path, monkeypatch, **_):
    assert ours.normalize is ref.normalize is True
    with pytest.raises(ValueError, match="from_pretrained"):
        ours.normalize = False
    monkeypatch.setenv("M2V_EDGE_CACHE", str(tmp_path))
    raw = StaticOnnxModel.from_pretrained(potion_source, normalize=False, quantize_to="float32")
    ref.normalize = False
    try:
        assert close(raw.encode(TEXTS), ref.encode(TEXTS), 1e-5)
        raw.normalize = ref.normalize = True
        assert close(raw.encode(TEXTS), ref.encode(TEXTS))
    finally:
        ref.normalize = True


def check_max_length(ours, ref, **_):
    assert ours.max_length == ref.max_length == 512
    ours.max_length = ref.max_length = 4
    try:
        assert close(ours.encode(TEXTS), ref.encode(TEXTS)) and ours.tokenize(TEXTS) == ref.tokenize(TEXTS)
    finally:
        ours.max_length = ref.max_length = 512


def check_median_token_length(ours, ref, **_):
    assert ours.median_token_length == ref.median_token_length


def check_unk_token_id(ours, ref, **_):
    assert ours.unk_token_id == ref.unk_token_id is not None


def check_tokens(ours, ref, **_):
    assert ours.tokens == tuple(ref.tokens)


def check_tokenizer(ours, ref, **_):
    assert ours.tokenizer.tokenizer.get_vocab() == ref.tokenizer.get_vocab()


def check_config(ours, ref, **_):
    assert ours.config["normalize"] == ref.config["normalize"] and ours.config["max_length"] == ref.config["max_length"]


def check_embedding(ours, ref, **_):
    assert close(ours.embedding, ref.embedding)


def check_embedding_dtype(ours, ref, **_):
    assert ours.embedding_dtype == ref.embedding_dtype == "float32"


def check_weights(ours, ref, **_):
    assert ours.weights is None and ref.weights is None


def check_token_mapping(ours, ref, **_):
    assert ours.token_mapping is None and ref.token_mapping is None


def check_vocabulary_quantization(ours, ref, **_):
    assert ours.vocabulary_quantization is None and ref.vocabulary_quantization is None


def check_base_model_name(ours, **_):
    assert ours.base_model_name == "potion-base-8M"


def check_language(ours, **_):
    assert ours.language is None


def check_save_pretrained(ours, tmp_path, **_):
    with pytest.raises(NotImplementedError, match="copy it"):
        ours.save_pretrained(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def check_push_to_hub(ours, **_):
    with pytest.raises(NotImplementedError, match="hf upload org/name"):
        ours.push_to_hub("org/name")


CHECKS: dict[str, Callable[..., None]] = {
    name.removeprefix("check_"): fn for name, fn in globals().items() if name.startswith("check_") and callable(fn)
}


def test_the_table_lists_every_public_member(ref, ours):
    members = table_members()
    assert len(members) == len(set(members))
    assert set(members) == {name for name in dir(ref) if not name.startswith("_")}
    assert set(members) == set(CHECKS)
    assert all(hasattr(ours, name) for name in members)


@pytest.mark.parametrize("member", table_members())
def test_row(member, ours, ref, potion_source, potion_fp32, tmp_path, monkeypatch):
    fixtures = {name: value for name, value in locals().items() if name != "member"}
    CHECKS[member](**fixtures)
