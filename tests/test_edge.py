"""Edge targets: ``model.ort`` + operator configs, vocabulary/dimension pruning, size budgets, Qwen-sized model."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from model2vec import StaticModel

from m2v_edge import StaticOnnxModel, export_model
from m2v_edge.cli import main
from m2v_edge.contract import ExportFiles
from m2v_edge.export.budget import parse_size
from m2v_edge.export.mobile import REQUIRED_OPERATORS, REQUIRED_OPERATORS_AND_TYPES
from m2v_edge.export.prune import token_priority
from m2v_edge.runtime.reference import ReferenceModel
from m2v_edge.runtime.tokenize import TextTokenizer
from m2v_edge.source.folder import load_source
from tests.checks import assert_parity
from tests.texts import parity_texts

POTION_VOCAB = 29_528


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return parity_texts(400)


@pytest.fixture(scope="module")
def potion_mobile(potion_source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mobile") / "potion-mobile"
    export_model(potion_source, out, dtype="int8", target="mobile")
    return out


def _expected_pruned(source: Path, texts: list[str], kept: set[int], dims: int) -> np.ndarray:
    """model2vec's tokens; the mean of the kept tokens' first ``dims`` columns, L2-normalized (float64)."""
    m2v = StaticModel.from_pretrained(source)
    table = np.asarray(m2v.embedding, dtype=np.float64)[:, :dims]
    out = np.zeros((len(texts), dims))
    for row, ids in enumerate(m2v.tokenize(texts)):
        ids = [i for i in ids if i in kept]
        if ids:
            mean = table[ids].mean(axis=0)
            out[row] = mean / np.linalg.norm(mean)
    return out.astype(np.float32)


def _ops(config_file: Path) -> set[str]:
    """Operator names in an ORT ``required_operators*.config`` (``domain;opset;Op1,Op2{types},...``)."""
    ops = set()
    for line in config_file.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            domain, _, names = line.split(";", 2)
            assert domain == "ai.onnx"
            ops.update(json_free.split("{")[0] for json_free in _split_ops(names))
    return ops


def _split_ops(names: str) -> list[str]:
    """Split ``A{...},B,C{...}`` at top-level commas (the type lists contain commas)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(names):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(names[start:index])
            start = index + 1
    parts.append(names[start:])
    return parts


# --- mobile: model.ort and the reduced-build configs ---------------------------------------------------------


def test_ort_gives_the_same_vectors_as_onnx(potion_mobile, texts):
    onnx_vectors = StaticOnnxModel.from_pretrained(potion_mobile).encode(texts)
    ort_vectors = StaticOnnxModel.from_pretrained(potion_mobile, use_ort_format=True).encode(texts)
    assert np.linalg.norm(onnx_vectors, axis=1).max() > 0.99
    assert np.abs(onnx_vectors - ort_vectors).max() <= 1e-6
    assert ExportFiles(potion_mobile).ort_model.read_bytes()[4:8] == b"ORTM"  # flatbuffer file identifier


def test_required_operators_name_the_graph_ops(potion_mobile):
    import onnx

    graph_ops = {node.op_type for node in onnx.load(str(ExportFiles(potion_mobile).model)).graph.node}
    where = ExportFiles(potion_mobile).ort_model.parent  # next to the .ort graph (onnx/ in the hf layout)
    assert _ops(where / REQUIRED_OPERATORS) == graph_ops
    assert _ops(where / REQUIRED_OPERATORS_AND_TYPES) == graph_ops
    typed = (where / REQUIRED_OPERATORS_AND_TYPES).read_text(encoding="utf-8")
    assert '"int8_t"' in typed and '"double"' not in typed  # the int8 table's Gather/Cast, nothing else
    assert str(potion_mobile.parent) not in typed and "# - model_quantized.ort" in typed


# --- pruning: vocabulary by rank or corpus, leading dims -----------------------------------------------------


def test_token_priority_rules(potion_source):
    source = load_source(potion_source)
    tokenizer = TextTokenizer.from_tokenizer_json(source.tokenizer_json, source.max_length)
    unk = tokenizer.unk_token_id
    by_rank = token_priority(tokenizer)
    assert by_rank[-1] == unk and list(by_rank[:unk]) == list(range(unk))
    counts = np.zeros(tokenizer.vocab_size, dtype=np.int64)
    counts[[5000, 7000, 9000, unk]] = [3, 7, 3, 100]
    by_corpus = token_priority(tokenizer, counts)
    assert list(by_corpus[:4]) == [7000, 5000, 9000, 0] and by_corpus[-1] == unk


def test_vocab_and_dims_pruning_equal_numpy(potion_source, tmp_path, texts):
    out = tmp_path / "pruned"
    report = export_model(potion_source, out, dtype="float32", vocab_size=12_000, dims=100)
    config = json.loads((out / "config.json").read_text())
    assert config["pruning"] == {
        "vocab_kept": 12_000,
        "vocab_total": POTION_VOCAB,
        "dims_kept": 100,
        "dims_total": 256,
        "by": "rank",
    }
    assert config["dim"] == 100 and config["table_rows"] == 12_000 and config["vocab_size"] == POTION_VOCAB
    assert report.pruning is not None and report.pruning.vocab_kept == 12_000
    unk_id = StaticModel.from_pretrained(potion_source).unk_token_id
    assert unk_id is not None and unk_id < 12_000
    kept = set(range(12_001)) - {unk_id}  # by rank: the lowest ids, the unknown token never
    assert_parity(StaticOnnxModel.from_pretrained(out).encode(texts), _expected_pruned(potion_source, texts, kept, 100))


def test_dims_only_equals_model2vec_on_cut_table(potion_source, tmp_path, texts):
    out = tmp_path / "dims64"
    export_model(potion_source, out, dtype="float32", dims=64)
    m2v = StaticModel.from_pretrained(potion_source)
    cut = StaticModel(vectors=m2v.embedding[:, :64].copy(), tokenizer=m2v.tokenizer, normalize=True)
    assert_parity(StaticOnnxModel.from_pretrained(out).encode(texts), cut.encode(texts))


def test_corpus_keeps_its_tokens(potion_source, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("zeppelin xylophone\n" * 50 + "quasar\n", encoding="utf-8")
    full = tmp_path / "full"
    export_model(potion_source, full, dtype="float32")
    out = tmp_path / "by-corpus"
    export_model(potion_source, out, dtype="float32", vocab_size=100, vocab_corpus=corpus)
    assert json.loads((out / "config.json").read_text())["pruning"]["by"] == "corpus"
    pruned, unpruned = StaticOnnxModel.from_pretrained(out), StaticOnnxModel.from_pretrained(full)
    corpus_text = "zeppelin xylophone quasar"
    assert max(pruned.tokenizer.encode_ids([corpus_text])[0]) > 1000  # only its corpus count can keep it
    assert min(pruned.tokenizer.encode_ids(["photosynthesis"])[0]) > 1000  # not in the corpus: pruned
    assert np.abs(pruned.encode(corpus_text) - unpruned.encode(corpus_text)).max() <= 1e-6
    # Tokens outside the kept set count as unknown: they do not dilute the mean of the kept ones.
    mixed = pruned.encode("zeppelin photosynthesis")
    assert np.abs(mixed - unpruned.encode("zeppelin")).max() <= 1e-6


def test_reference_model_applies_the_pruning(potion_source, tmp_path, texts):
    from m2v_edge.export.prune import make_plan, prune_source

    source = load_source(potion_source)
    tokenizer = TextTokenizer.from_tokenizer_json(source.tokenizer_json, source.max_length)
    plan = make_plan(token_priority(tokenizer), 5_000, 32, 256, "rank")
    reference = ReferenceModel(prune_source(source, plan)).encode(texts)
    kept = set(plan.kept_ids.tolist())
    assert_parity(reference, _expected_pruned(potion_source, texts, kept, 32))


# --- size budgets -----------------------------------------------------------------------------------------------


def test_parse_size():
    assert parse_size("65MB") == parse_size("65M") == parse_size("65 mb") == 65_000_000
    assert parse_size("500KB") == 500_000 and parse_size("1.5GB") == 1_500_000_000
    assert parse_size("64MiB") == 64 * 2**20 and parse_size("1000") == parse_size(1000) == 1000
    for bad in ("", "MB", "-5MB", "65XB", "0", "65 M B"):
        with pytest.raises(ValueError, match="size"):
            parse_size(bad)


@pytest.mark.parametrize("budget", ["3MB", "1.2MB"])
def test_max_size_picks_the_largest_model_that_fits(potion_source, tmp_path, budget):
    limit = parse_size(budget)
    out = tmp_path / "budget"
    report = export_model(potion_source, out, dtype="int8", max_size=budget)
    plan = report.pruning
    assert plan is not None and report.model_bytes <= limit
    assert report.model_bytes == ExportFiles(out).model.stat().st_size
    # Policy: all tokens with fewer dims first; below a quarter of the dims, fewer tokens at 64 dims.
    if plan.vocab_kept == POTION_VOCAB:
        assert plan.dims_kept > 64
        step = POTION_VOCAB  # one more int8 column
    else:
        assert plan.dims_kept == 64
        step = 64  # one more int8 row
    # The search is exact up to the overhead's small safety margin: one more step would not fit.
    assert limit - report.model_bytes < step + 512
    assert report.min_cosine >= 0.99  # self-check against the source pruned the same way


def test_max_size_without_cut_when_it_fits(potion_source, tmp_path):
    report = export_model(potion_source, tmp_path / "fits", max_size="30MB")
    assert report.pruning is None
    assert "pruning" not in json.loads((tmp_path / "fits" / "config.json").read_text())


# --- bad cases: one-line CLI errors, exit 2, nothing written ----------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "needles"),
    [
        (["--max-size", "100KB"], ["too small", "smallest model reachable is", "KB"]),
        (["--vocab-size", "40000"], ["--vocab-size 40000", "29,528 tokens"]),
        (["--vocab-size", "100", "--vocab-corpus", "{tmp}/missing.txt"], ["missing.txt", "no such corpus file"]),
        (["--max-size", "65XB"], ["65XB", "not understood"]),
        (["--dims", "512"], ["--dims 512", "256 dims"]),
        (["--vocab-corpus", "{potion}/vocab.txt"], ["--vocab-corpus", "--vocab-size or --max-size"]),
    ],
)
def test_cli_bad_budgets(capsys, tmp_path, potion_source, flags, needles):
    out = tmp_path / "out"
    argv = ["export", str(potion_source), "-o", str(out), "-q"]
    argv += [f.format(tmp=tmp_path, potion=potion_source) for f in flags]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for needle in needles:
        assert needle in err
    assert not out.exists() and not list(tmp_path.glob(".out.partial-*"))


def test_cli_mobile_pruned(capsys, tmp_path, potion_source, texts):
    out = tmp_path / "mobile-pruned"
    argv = ["export", str(potion_source), "-o", str(out), "-q", "--target", "mobile", "--max-size", "2MB"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "pruned: kept" in printed and "model_quantized.ort: same vectors as onnx/model_quantized.onnx" in printed
    onnx_vectors = StaticOnnxModel.from_pretrained(out).encode(texts)
    ort_vectors = StaticOnnxModel.from_pretrained(out, use_ort_format=True).encode(texts)
    assert np.abs(onnx_vectors - ort_vectors).max() <= 1e-6 and ExportFiles(out).model.stat().st_size <= 2_000_000


# --- a Qwen-sized model (151,669 tokens x 1024 dims) -------------------------------------------------------------


@pytest.fixture(scope="module")
def qwen_sized(tmp_path_factory) -> Path:
    from tests.qwen_sized import QWEN_VOCAB, make_qwen_sized_model

    folder = make_qwen_sized_model(tmp_path_factory.mktemp("qwen") / "qwen-sized")
    source = load_source(folder)
    assert source.embeddings.shape == (QWEN_VOCAB, 1024)
    return folder


QWEN_TEXTS = ["How do I train a neural network?", "机器学习是人工智能的一个分支。", "def f(x): return x", ""]


def _timed_load(folder: Path) -> str:
    started = time.perf_counter()
    model = StaticOnnxModel.from_pretrained(folder)
    loaded = time.perf_counter()
    model.encode("first vector")
    first = time.perf_counter()
    return f"load {1e3 * (loaded - started):.0f} ms, first vector {1e3 * (first - loaded):.1f} ms"


@pytest.mark.slow
def test_qwen_sized_int8_under_160mb(qwen_sized, tmp_path):
    out = tmp_path / "qwen-int8"
    report = export_model(qwen_sized, out, dtype="int8", isotropy="none")  # compared with the raw table below
    size = ExportFiles(out).model.stat().st_size
    assert 151_669 * 1024 < size <= 160_000_000 and report.pruning is None
    got = StaticOnnxModel.from_pretrained(out).encode(QWEN_TEXTS)
    expected = ReferenceModel(load_source(qwen_sized)).encode(QWEN_TEXTS)
    assert np.sum(got[:3] * expected[:3], axis=1).min() >= 0.999 and not got[3].any()
    print(f"\nQwen-sized int8: model.onnx {size / 1e6:.1f} MB; {_timed_load(out)}")


@pytest.mark.slow
@pytest.mark.parametrize("dims", [None, 1024], ids=["policy", "all-dims"])
def test_qwen_sized_max_size_65mb(qwen_sized, tmp_path, dims):
    out = tmp_path / "qwen-65mb"
    report = export_model(qwen_sized, out, dtype="int8", max_size="65MB", dims=dims, isotropy="none")  # raw table
    size = ExportFiles(out).model.stat().st_size
    assert 64_000_000 < size <= 65_000_000
    config = json.loads((out / "config.json").read_text())
    pruning = config["pruning"]
    assert config["vocab_size"] == 151_669 and pruning["dims_kept"] == config["dim"]
    if dims is None:  # the policy: every token, fewer dims
        assert pruning["vocab_kept"] == 151_669 and config["dim"] < 1024
    else:  # dims fixed: fewer tokens, by rank (Qwen's added tokens, the highest ids, are cut first)
        assert config["dim"] == 1024 and pruning["vocab_kept"] == config["table_rows"] < 151_669 / 2
    source = load_source(qwen_sized)
    tokenizer = TextTokenizer.from_tokenizer_json(source.tokenizer_json, source.max_length)
    table = source.embeddings.astype(np.float64)
    got = StaticOnnxModel.from_pretrained(out).encode(QWEN_TEXTS)
    for text, vector in zip(QWEN_TEXTS, got, strict=True):
        ids = [i for i in tokenizer.encode_ids([text])[0] if i < pruning["vocab_kept"]]  # rank: lowest ids kept
        if not ids:
            assert not vector.any()
            continue
        mean = table[ids, : config["dim"]].mean(axis=0)
        assert float(vector @ (mean / np.linalg.norm(mean))) >= 0.999
    assert report.pruning is not None
    print(f"\nQwen-sized --max-size 65MB: {report.pruning.summary()}; {size / 1e6:.1f} MB; {_timed_load(out)}")
