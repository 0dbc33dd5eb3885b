"""The bench command on a tiny model (tiny repeat counts, no timing assertions) and its building blocks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from m2v_edge.bench.data import (
    PASSAGE_CHARS,
    FreshSlices,
    bench_texts,
    passages,
    slice_sizes,
    stsb_sentences,
    unseen_pools,
)
from m2v_edge.bench.report import goals, markdown, peer_goals
from m2v_edge.bench.worker import ENCODERS, FAST, measure
from m2v_edge.cli import main
from m2v_edge.runtime.batching import padded_width
from m2v_edge.runtime.model import StaticOnnxModel
from tests.conftest import STSB_TEST
from tests.fixtures import make_tiny_model


def test_stsb_sentences_are_fields_5_and_6() -> None:
    sentences = stsb_sentences()
    lines = [line.split("\t") for line in STSB_TEST.read_text(encoding="utf-8").splitlines()]
    pairs = [f for f in lines if len(f) > 6]
    assert sentences[:2] == [pairs[0][5].strip(), pairs[0][6].strip()]
    assert len(sentences) == 2 * len(pairs)
    assert 40 < np.mean([len(s) for s in sentences]) < 80


def test_passages_join_consecutive_sentences() -> None:
    sentences = stsb_sentences()
    built = passages(sentences)
    assert all(len(p) >= PASSAGE_CHARS for p in built)
    assert all(len(p) < PASSAGE_CHARS + 400 for p in built)
    joined = " ".join(sentences)
    assert joined.startswith(" ".join(built[:3]))
    limited = bench_texts(limit=100)
    assert len(limited["sentences"]) == 100 and limited["passages"] == built[: len(limited["passages"])]


def test_measure_interleaves_and_times_each_repeat_on_its_own_slice() -> None:
    calls: dict[str, list[list[str]]] = {"a": [], "b": []}
    order: list[str] = []

    def fake(name: str):
        def fn(texts: list[str], batch_size: int) -> None:
            assert len(texts) <= batch_size
            calls[name].append(texts)
            order.append(name)

        return fn

    fresh = FreshSlices([f"t{i}" for i in range(40)])
    slices = [fresh.take(10) for _ in range(4)]  # warm-up + 3 repeats
    out = measure({"a": fake("a"), "b": fake("b")}, slices, batch_size=4)
    timed = order[6:]  # after the warm-up slice (3 calls) each
    assert [timed[i * 3] for i in range(6)] == ["a", "b", "b", "a", "a", "b"]  # rotated each repeat
    for name in ("a", "b"):
        repeats = [sum(calls[name][3 + 3 * r : 6 + 3 * r], []) for r in range(3)]
        assert repeats == slices[1:]  # each repeat encodes exactly its own slice, which no earlier call saw
    for result in out.values():
        assert len(result["samples"]) == 3 and result["texts_per_s"] > 0 and result["us_per_call"] > 0


def test_fresh_slices_are_disjoint_and_run_out_loudly() -> None:
    fresh = FreshSlices([f"t{i}" for i in range(10)])
    a, b = fresh.take(4), fresh.take(4)
    assert not set(a) & set(b) and len(a) == len(b) == 4
    with pytest.raises(ValueError, match="unseen texts left"):
        fresh.take(3)


def test_unseen_pools_hold_unique_texts_and_slices_fit() -> None:
    pools = unseen_pools()
    assert len(pools["sentences"]) == len(set(pools["sentences"])) > 10_000
    assert len(pools["passages"]) == len(set(pools["passages"])) > 1000
    sizes = slice_sizes(len(pools["sentences"]), [1, 32, 1024], repeats=5, latency_texts=50)
    assert sizes[1] == 50 and sizes[32] == sizes[1024] and 6 * sum(sizes.values()) <= len(pools["sentences"])
    with pytest.raises(ValueError, match="too few"):
        slice_sizes(10, [1, 32], repeats=7, latency_texts=5)


def _naive_batch(model: StaticOnnxModel, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    limit = model.max_length * model.tokenizer.median_token_length
    encodings = model.tokenizer.tokenizer.encode_batch_fast([t[:limit] for t in texts], add_special_tokens=False)
    rows = [enc.ids[: model.max_length] for enc in encodings]
    width = max([len(r) for r in rows] + [1])
    ids = np.full((len(texts), width), model.tokenizer.pad_token_id, dtype=np.int64)
    mask = np.zeros((len(texts), width), dtype=np.int64)
    for row, row_ids in enumerate(rows):
        ids[row, : len(row_ids)] = row_ids
        mask[row, : len(row_ids)] = [int(i != model.tokenizer.unk_token_id) for i in row_ids]
    return ids, mask


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_fast_padding_matches_naive_padding(potion_int8: Path, batch_size: int) -> None:
    model = StaticOnnxModel.from_pretrained(potion_int8, threads=1)
    texts = stsb_sentences()[:100] + ["", "ⅫⅫ \x00", "same same", "a b", "word " * 700]
    seen = []
    for positions, ids, mask in model.tokenizer.batches(texts, batch_size):
        want_ids, want_mask = _naive_batch(model, [texts[p] for p in positions])
        width = want_ids.shape[1]
        assert ids.shape[1] == padded_width(int(want_mask.sum(axis=1).max())) >= width  # each text at its own width
        np.testing.assert_array_equal(mask[:, :width], want_mask)
        assert not mask[:, width:].any() and (ids[:, width:] == model.tokenizer.pad_token_id).all()
        np.testing.assert_array_equal(ids[:, :width][want_mask == 1], want_ids[want_mask == 1])
        assert ids.dtype == mask.dtype == np.int64 and ids.shape[1] >= 1
        seen.extend(positions.tolist())
    assert sorted(seen) == list(range(len(texts)))
    ids, mask = model.tokenizer.one(texts[3], model.max_length)
    want_ids, want_mask = _naive_batch(model, [texts[3]])
    np.testing.assert_array_equal(ids[:, : want_ids.shape[1]], want_ids)
    np.testing.assert_array_equal(mask[:, : want_ids.shape[1]], want_mask)


@pytest.mark.slow
def test_bench_command_on_tiny_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = make_tiny_model("wordpiece", tmp_path / "tiny")
    out = tmp_path / "results"
    args = ["bench", str(source), "-o", str(out), "--threads", "1", "--batch-sizes", "1,8", "--repeats", "1"]
    args += ["--limit", "200", "--latency-texts", "3", "--cold-runs", "1", "--keep-blas-env", "-q"]
    assert main(args) == 0
    result = json.loads((out / "bench.json").read_text())
    assert [run["threads"] for run in result["runs"]] == [1]
    run = result["runs"][0]
    cells = run["cells"]
    assert [(c["texts"], c["batch_size"], bool(c.get("warm"))) for c in cells] == [
        ("sentences", 1, False),
        ("sentences", 8, False),
        ("sentences", 8, True),  # the warm-cache row: labelled, after the unseen ones
        ("passages", 1, False),
        ("passages", 8, False),
        ("passages", 8, True),
    ]
    assert cells[0]["n_texts"] == 3 and cells[1]["n_texts"] == (200 - 2 * 3) // 2
    for cell in cells:  # every contender either ran or says why not
        assert set(cell["results"]) | set(run["skipped"]) == set(ENCODERS) | {FAST}
        assert {"model2vec", "int8", "float32", "tokenizer"} <= set(cell["results"])
        assert all(r["texts_per_s"] > 0 and len(r["samples"]) == 1 for r in cell["results"].values())
    assert set(run["max_abs_diff_vs_model2vec"]) == {"sentences", "passages"}
    assert result["files"]["int8"]["onnx/model_quantized.onnx"] < result["files"]["float32"]["onnx/model.onnx"]
    cold = result["cold_start"]["int8"]
    assert cold["load_and_first_s"] > 0 and cold["peak_rss"] >= cold["rss_after_import"] > 0
    printed = capsys.readouterr().out
    assert "| sentences | unseen | 1 | 8 |" in printed and "| sentences | **warm** (seen) | 1 | 8 |" in printed
    assert "Goals (int8, 2 threads, unseen text):" in printed
    assert (out / "bench.md").read_text(encoding="utf-8") in printed
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _cell(texts: str, batch: int, tok: float, m2v: float, ours: float, fast: float | None = None) -> dict:
    rates = {"tokenizer": tok, "model2vec": m2v, "int8": ours, "float32": ours}
    if fast is not None:
        rates["int8_fast"] = fast
    return {
        "texts": texts,
        "batch_size": batch,
        "results": {k: {"texts_per_s": v, "us_per_call": 1e6 / v} for k, v in rates.items()},
    }


def test_goal_verdicts_follow_the_numbers() -> None:
    cells = [_cell("sentences", 1, 100, 50, 60), _cell("sentences", 32, 100, 50, 61), _cell("passages", 1, 100, 50, 40)]
    cells.append(_cell("passages", 32, 100, 50, 59))
    run = {"threads": 2, "blas": [], "cells": cells}
    busy = {"threads": 2, "busy_core": True, "blas": [], "cells": [_cell("sentences", 32, 100, 50, 49)]}
    verdicts = {name: ok for name, ok, _ in goals({"runs": [run, busy]})}
    assert verdicts["int8 ≥ 1.2× model2vec on sentences"] is True  # 1.22x at batch 32; batch 1 is judged as latency
    assert verdicts["int8 ≥ 1.2× model2vec on passages"] is False  # 1.18x
    assert verdicts["batch-1 latency ≤ model2vec on sentences"] is True
    assert verdicts["batch-1 latency ≤ model2vec on passages"] is False
    assert verdicts["int8 ≥ 1.0× model2vec on sentences with one core busy"] is False
    machine = {"cpu": "x", "usable_cpus": 2, "loadavg": [0.5], "loadavg_end": [0.6], "python": "3", "versions": {}}
    text = markdown({"runs": [run, busy], "machine": machine})
    assert "| sentences | unseen | 2 | 1 |  | 100 | 50 | 60 | 60 | 1.20× |" in text
    assert "| sentences | unseen | 2 + busy core | 32 |  | 100 | 50 | 49 | 49 | 0.98× |" in text


def test_byte_level_bpe_goals_include_the_fast_tokenizer() -> None:
    run = {"threads": 2, "blas": [], "cells": [_cell("sentences", 1024, 100, 50, 56, 80)]}
    result = {"runs": [run], "tokenizer_model": "BPE"}
    verdicts = {name: ok for name, ok, _ in goals(result)}
    assert verdicts == {
        "int8 ≥ 1.1× model2vec on sentences": True,
        "int8_fast ≥ 1.5× model2vec on sentences with the fast tokenizer": True,
    }
    machine = {"cpu": "x", "usable_cpus": 2, "loadavg": [0.5], "loadavg_end": [0.6], "python": "3", "versions": {}}
    assert "| 56 | 56 | 80 | 1.12× | 1.60× |" in markdown(result | {"machine": machine})


def test_peer_goals_judge_unseen_cells_only() -> None:
    machine = {"cpu": "x", "usable_cpus": 2, "loadavg": [0.5], "loadavg_end": [0.6], "python": "3", "versions": {}}
    cells = []
    for kind, laghu_rs in (("sentences", 90), ("passages", 200)):
        cell = _cell(kind, 32, 100, 50, 100)
        cell["results"]["laghu_rs"] = cell["results"]["laghu"] = {"texts_per_s": laghu_rs, "us_per_call": 1.0}
        cells += [cell, cell | {"warm": True, "results": {**cell["results"], "int8": {"texts_per_s": 1e9}}}]
    result = {"runs": [{"threads": 2, "blas": [], "cells": cells}], "machine": machine}
    verdicts = {name: ok for name, ok, _ in peer_goals(result)}
    assert verdicts["int8 ≥ 1× laghu + laghu-rs on unseen sentences"] is True  # 100 vs 90
    assert verdicts["int8 ≥ 1× laghu + laghu-rs on unseen passages"] is False  # 100 vs 200; the warm 1e9 is not judged
    assert verdicts == {n: ok for n, ok, _ in peer_goals(result | {"tokenizer_model": "WordPiece"})}
    bpe = {name: ok for name, ok, _ in peer_goals(result | {"tokenizer_model": "BPE"})}
    assert bpe["int8 ≥ 3× model2vec on unseen sentences"] is False  # 2x
    text = markdown(result)
    assert "| sentences | **warm** (seen) | 2 | 32 |" in text and "| 1.11× |" in text  # int8 ÷ laghu-rs


def test_bench_missing_model_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", str(tmp_path / "nope"), "--no-plot", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such Model2Vec folder" in err[0]
