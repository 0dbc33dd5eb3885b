"""Tiny Model2Vec folders made for the tests and the web fixtures (test support: not in the package).

:func:`make_tiny_model`: tiny WordPiece, byte-level BPE, Unigram and quantized (weights + mapping) models,
written by model2vec's own ``save_pretrained`` (needs model2vec: ``pip install 'm2v-edge[test]'``).
scripts/make_web_fixtures.py and scripts/make_corrupt_fixtures.py import it as ``tests.tiny_models`` (they put
the repository root on ``sys.path``). The Qwen-sized folder is :mod:`m2v_edge.bench.qwen_sized` (the bench
needs it at run time).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

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
