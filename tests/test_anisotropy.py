"""Eval's anisotropy figures: random-pair and hard-negative mean cosine, and the warning they trigger."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from m2v_edge.eval import evaluate
from m2v_edge.eval.anisotropy import CONE, anisotropy, random_pair_cosine, warnings_for
from m2v_edge.eval.report import to_markdown
from tests.test_eval import ConstantEncoder


class RandomEncoder:
    """A fixed random unit vector per text: isotropic, and as unable to rank as a constant."""

    name = "random"
    dim = 64

    def encode(self, texts: list[str], batch_size: int = 1024) -> np.ndarray:
        rows = [np.random.default_rng(zlib.crc32(t.encode())).normal(size=self.dim) for t in texts]
        out = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_random_pair_cosine_bounds():
    rng = np.random.default_rng(0)
    assert random_pair_cosine(np.ones((50, 4))) > 0.9999
    spread = rng.normal(size=(300, 256))
    assert abs(random_pair_cosine(spread)) < 0.02
    cone = spread * 0.1 + 1.0  # a common offset: the LLM-distilled shape
    assert random_pair_cosine(cone) > 0.5
    with_zeros = np.vstack([np.ones((10, 4)), np.zeros((10, 4))])
    assert random_pair_cosine(with_zeros) > 0.9999  # zero vectors (empty texts) are left out
    assert random_pair_cosine(np.zeros((3, 4))) == 0.0


def test_warning_when_positives_are_no_closer_than_random_pairs():
    dims = {"code_understanding": {"mean_cosine": 0.30, "mean_cosine_negative": 0.29}}
    figures = anisotropy(np.random.default_rng(1).normal(size=(200, 32)), dims)
    assert figures["hard_negative_mean_cosine"] == 0.29 and figures["positive_mean_cosine"] == 0.30
    assert warnings_for(figures) == []  # positives 0.30 vs random ~0: the card metric separates
    figures["random_pair_mean_cosine"] = 0.27
    assert len(warnings_for(figures)) == 1 and "within" in warnings_for(figures)[0]


def test_constant_model_is_flagged_and_random_is_not():
    constant = evaluate(ConstantEncoder(), dimensions=["code_understanding"])
    assert constant["anisotropy"]["random_pair_mean_cosine"] > 0.9999
    assert any(f">= {CONE}" in w for w in constant["warnings"])
    assert "warning (constant)" in to_markdown(constant)
    isotropic = evaluate(RandomEncoder(), dimensions=["code_understanding"])
    assert abs(isotropic["anisotropy"]["random_pair_mean_cosine"]) < 0.05
    assert not any(f">= {CONE}" in w for w in isotropic["warnings"])  # not a cone...
    assert any("within" in w for w in isotropic["warnings"])  # ...but its positives are no closer than random


def test_potion_is_isotropic(potion_int8: Path):
    report = evaluate(potion_int8, dimensions=["instruction_awareness", "code_understanding"])
    figures = report["anisotropy"]
    assert figures["random_pair_mean_cosine"] < 0.15 and report["warnings"] == []
    assert figures["positive_mean_cosine"] > figures["hard_negative_mean_cosine"] > figures["random_pair_mean_cosine"]
    assert "| anisotropy | random_pair_mean_cosine | cosine |" in to_markdown(report)
