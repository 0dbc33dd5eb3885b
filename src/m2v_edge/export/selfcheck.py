"""The export self-check: the written folder, run by the runtime, against the source in numpy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from m2v_edge.export.isotropy import IsotropyMap
from m2v_edge.runtime.reference import ReferenceModel
from m2v_edge.runtime.similarity import row_cosine
from m2v_edge.runtime.tokenize import TextTokenizer
from m2v_edge.source.folder import SourceModel

MIN_COSINE = 0.99
PROBE_TEXTS = (
    "How do I train a neural network?",
    "Neural network training tutorial and guide",
    "The quick brown fox jumps over the lazy dog.",
    "Explain quantum computing in simple terms",
    "def add(a, b):\n    return a + b",
    "SELECT name FROM users WHERE age > 30;",
    "It's raining cats and dogs.",
    "Le chat est assis sur le tapis.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "机器学习是人工智能的一个分支。",
    "مرحبا بالعالم",
    "Привет, как дела?",
    "Emoji test 🚀🔥👍🏽 and café naïve résumé",
    "[CLS] literal special tokens [SEP] <|endoftext|>",
    "a " * 700,
    "",
    "   ",
)


@dataclass(frozen=True)
class SelfCheck:
    """How close an exported folder is to its source on :data:`PROBE_TEXTS`."""

    min_cosine: float
    mean_cosine: float
    max_abs_diff: float
    probes: int


def self_check(
    source: SourceModel, folder: Path, isotropy: IsotropyMap | None = None, tokenizer: TextTokenizer | None = None
) -> SelfCheck:
    """Encode :data:`PROBE_TEXTS` with ``folder`` (onnxruntime) and with ``source`` (numpy) and compare.

    Texts for which both give the zero vector (empty, all unknown) count as cosine 1. With ``isotropy`` the
    source's pooled vectors get the same map the export folded in (``--isotropy``). ``tokenizer``: the source's,
    when already built.

    :raises ValueError: if a vector is not finite or the min cosine is below :data:`MIN_COSINE`.
    """
    from m2v_edge.runtime.model import StaticOnnxModel

    texts = list(PROBE_TEXTS)
    expected = ReferenceModel(source, isotropy, tokenizer).encode(texts)
    try:
        got = StaticOnnxModel.from_pretrained(folder, threads=1).encode(texts)
    except ValueError as err:  # name the export, not the hidden staging folder the user never sees
        raise ValueError(
            f"self-check failed: {str(err).replace(str(folder), 'the new export')}; nothing was written"
        ) from None
    bad = np.flatnonzero(~np.isfinite(got).all(axis=1))
    if bad.size:
        raise ValueError(
            f"self-check failed: the exported graph gives NaN or inf for probe text {int(bad[0])} "
            f"({texts[int(bad[0])][:40]!r}); nothing was written. Try --dtype float32"
        )
    cos = row_cosine(expected, got, both_zero=1.0)  # both zero (empty or all-unknown text): agreement
    check = SelfCheck(
        min_cosine=float(cos.min()),
        mean_cosine=float(cos.mean()),
        max_abs_diff=float(np.abs(expected - got).max()),
        probes=len(texts),
    )
    if not np.isfinite(got).all() or check.min_cosine < MIN_COSINE:
        raise ValueError(
            f"self-check failed: min cosine to the source is {check.min_cosine:.4f} (< {MIN_COSINE}); "
            "nothing was written. Try --dtype float16 or float32"
        )
    return check
