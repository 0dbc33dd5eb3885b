"""A Qwen-sized Model2Vec folder: a Qwen tokenizer (151,669 ids) and a seeded random 1024-d table.

The throughput and size of the target family without its 1.2 GB of weights: benchmarks and tests build it
from the real Qwen ``tokenizer.json`` (``tests/data/qwen/``, or ``../shared/tokenizers/qwen/``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

QWEN_DIM = 1024
_CHUNK_ROWS = 16_384


def make_qwen_sized_model(folder: Path, tokenizer_json: Path, dim: int = QWEN_DIM, seed: int = 0) -> Path:
    """Write ``config.json`` (normalize true), ``tokenizer.json`` and a float16 ``model.safetensors``.

    The table is float16 (310 MB instead of 621 MB as float32) and made in chunks to keep memory low;
    rows match the tokenizer's vocabulary with its added tokens.

    :raises FileNotFoundError: if ``tokenizer_json`` does not exist.
    """
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer

    if not Path(tokenizer_json).is_file():
        raise FileNotFoundError(f"{tokenizer_json}: no such tokenizer.json; pass the Qwen tokenizer file")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tokenizer_json, folder / "tokenizer.json")
    vocab = Tokenizer.from_file(str(tokenizer_json)).get_vocab_size(with_added_tokens=True)
    rng = np.random.default_rng(seed)
    table = np.empty((vocab, dim), dtype=np.float16)
    for start in range(0, vocab, _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, vocab)
        table[start:stop] = rng.standard_normal((stop - start, dim), dtype=np.float32)
    save_file({"embeddings": table}, str(folder / "model.safetensors"))
    config = {"model_type": "model2vec", "architectures": ["StaticModel"], "hidden_dim": dim, "normalize": True}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder
