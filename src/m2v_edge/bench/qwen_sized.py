"""A Qwen-sized Model2Vec folder for ``m2v-edge bench --qwen-sized`` and the benchmark scripts.

The given Qwen ``tokenizer.json`` (151,669 ids) and a seeded random 1024-d float16 table: the size of the
seed model (qwen25-deposium-1024d) without shipping it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

QWEN_VOCAB = 151_669
QWEN_DIM = 1024
_CHUNK_ROWS = 16_384


def make_qwen_sized_model(folder: Path, tokenizer: Path, dim: int = QWEN_DIM, seed: int = 0) -> Path:
    """Write ``config.json`` (normalize true), a copy of ``tokenizer`` and a float16 ``model.safetensors``.

    The table is float16 (310 MB instead of 621 MB as float32) and made in chunks to keep memory low;
    rows match the tokenizer's vocabulary with its added tokens.
    """
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tokenizer, folder / "tokenizer.json")
    vocab = Tokenizer.from_file(str(tokenizer)).get_vocab_size(with_added_tokens=True)
    rng = np.random.default_rng(seed)
    table = np.empty((vocab, dim), dtype=np.float16)
    for start in range(0, vocab, _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, vocab)
        table[start:stop] = rng.standard_normal((stop - start, dim), dtype=np.float32)
    save_file({"embeddings": table}, str(folder / "model.safetensors"))
    config = {"model_type": "model2vec", "architectures": ["StaticModel"], "hidden_dim": dim, "normalize": True}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder
