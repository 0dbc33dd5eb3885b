"""Model2Vec folders made for tests, benchmarks and the web fixtures; never used at run time.

- :func:`make_tiny_model`: tiny WordPiece, byte-level BPE, Unigram and quantized (weights + mapping) models,
  written by model2vec's own ``save_pretrained`` (needs model2vec: ``pip install 'm2v-edge[test]'``);
- :func:`make_qwen_sized_model`: a Qwen-sized folder (a given Qwen ``tokenizer.json``, 151,669 ids, and a
  seeded random 1024-d float16 table).

Shared here so scripts and benchmarks import it like the tests do, without putting ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

QWEN_VOCAB = 151_669
QWEN_DIM = 1024
_CHUNK_ROWS = 16_384
TINY_KINDS = ("wordpiece", "bpe", "unigram", "quantized")

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "How do I train a neural network? Start with a small model and a clean dataset.",
    "Neural network training tutorial and guide for beginners.",
    "Machine learning frameworks such as PyTorch and JAX compile graphs.",
    "def add(a, b):\n    return a + b  # simple code",
    "SELECT name, age FROM users WHERE age > 30 ORDER BY name;",
    "Le chat est assis sur le tapis. Der Hund schläft. El perro duerme.",
    "It's raining cats and dogs, so bring an umbrella!",
    "Quantum computing uses qubits; classical computers use bits.",
    "Emoji are fun 🚀🔥 and café naïve résumé have accents.",
] * 20


def _train_tokenizer(kind: str) -> Any:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    if kind == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        trainer: Any = trainers.WordPieceTrainer(vocab_size=300, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"])
    elif kind in ("bpe", "quantized"):
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=400,
            special_tokens=["<|endoftext|>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        )
    elif kind == "unigram":
        tok = Tokenizer(models.Unigram())
        tok.normalizer = normalizers.NFKC()
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=200, special_tokens=["<pad>", "<unk>"], unk_token="<unk>")
    else:
        raise ValueError(f"unknown tiny model kind {kind!r}")
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return tok


def make_tiny_model(kind: str, folder: Path, dim: int = 16, normalize: bool | None = None, seed: int = 0) -> Path:
    """Write a Model2Vec folder (via model2vec's own ``save_pretrained``) with a random table.

    ``quantized`` is a byte-level BPE model put through model2vec's ``quantize_model`` with
    ``vocabulary_quantization``: it has ``weights`` and ``mapping`` tensors.
    """
    from model2vec import StaticModel
    from model2vec.model import quantize_model

    tokenizer = _train_tokenizer(kind)
    rng = np.random.default_rng(seed)
    vocab = tokenizer.get_vocab_size(with_added_tokens=True)
    table = rng.normal(size=(vocab, dim)).astype(np.float32)
    norm = (kind != "unigram") if normalize is None else normalize
    model = StaticModel(vectors=table, tokenizer=tokenizer, normalize=norm)
    if kind == "quantized":
        model = quantize_model(model, vocabulary_quantization=24)
    model.save_pretrained(folder)
    return folder


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
