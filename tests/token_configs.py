"""Tokenizer configurations like the ones in the wild, and the texts to compare them on (issue 29).

Used by ``scripts/make_token_fixtures.py``, which writes each configuration's tokenizer.json and Python
``tokenizers``' ids for the JavaScript differential test (web/test/token-diff.test.js). Every tokenizer is
trained here with the ``tokenizers`` trainers or assembled by hand, except the real ones we ship or share
(potion-base-8M's WordPiece, the Qwen byte-level BPE).
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from m2v_edge.source.datasets import STSB_TEST, load_stsb

ROOT = Path(__file__).resolve().parents[1]
POTION_TOKENIZER = ROOT / "models" / "potion-base-8M" / "tokenizer.json"
QWEN_TOKENIZERS = [
    ROOT.parent / "shared" / "tokenizers" / "qwen" / "tokenizer.json",
    ROOT / "tests" / "data" / "qwen" / "tokenizer.json",
]
TRICKY = ROOT / "tests" / "data" / "tricky_texts.json"

GPT2_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_SPLIT_TAIL = r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN_SPLIT = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}""" + _SPLIT_TAIL
LLAMA3_SPLIT = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}""" + _SPLIT_TAIL

# Words, numbers and punctuation of many scripts: the multilingual, punctuation- and number-heavy corpus.
PARTS = (
    "the cat sat on the mat . , ; : ! ? ... ?! (1992). $18.29. 3.14159 1,000,000 -42 +7% 50/50 12:30 2024-12-07 "
    "e.g. i.e. U.S.A. Mr. Dr. don't it's we'll they've I'm l'été aujourd'hui Straße Ärger öffentlich naïve café "
    "résumé coöperate Ωμέγα λόγος Москва привет мир Київ שלום עולם مرحبا بالعالم ١٢٣ नमस्ते दुनिया ১২৩ สวัสดี "
    "ภาษาไทย 日本語 東京タワー カタカナ ひらがな 中文 汉字 漢字 北京 한국어 서울 안녕하세요 Tiếng Việt ẞ ﬁ ﬂ Ⅻ ① ㈱ "
    "ＡＢＣ １２３ ｶﾀｶﾅ ＠ ～ 〜 … — – ‘quoted’ “quoted” «guillemets» „unten“ ¿qué? ¡sí! § ¶ © ® ™ ° ± × ÷ "
    "€ £ ¥ ₹ ₿ µ Å Ω K ℃ ½ ¾ x² H₂O 🚀 🔥 👍🏽 👨‍👩‍👧 🇫🇷 ❤️ ☃ e\u0301 a\u0308 n\u0303 \u00a0 \u3000 \u200b \u200d "
    "\ufeff \u2581 ▁▁ <s> </s> <unk> [CLS] [SEP] [UNK] <|endoftext|> <|im_start|> <|im_end|> ## @@ http://x.io/a?b=1 "
    "user@mail.com #hashtag C++ C# f(x)=y; [1, 2, 3] {a: 1} \\n \\t ''' \"\"\" ``` <br/> &amp; 0x1F 1e-5 3rd 21st"
).split(" ")
SEPARATORS = [" ", " ", " ", "", "  ", "\n", "\t", " \n ", "\r\n", "   "]


def stsb_texts() -> list[str]:
    """STS-B sentences, both sides, unique, in order: the test and dev splits (both in the tree)."""
    files = [STSB_TEST, STSB_TEST.with_name("sts-dev.csv")]
    texts = [text for file in files for pair in load_stsb(file) for text in (pair.text1, pair.text2)]
    return list(dict.fromkeys(texts))


def mixed_texts(count: int, seed: int) -> list[str]:
    """Seeded texts of the multilingual, punctuation- and number-heavy parts, joined by assorted whitespace."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        words = [rng.choice(PARTS) for _ in range(rng.randint(1, 14))]
        out.append(
            "".join(w + rng.choice(SEPARATORS) for w in words).rstrip(" ") if rng.random() < 0.8 else "".join(words)
        )
    return out


# Code-point ranges for fuzzing: ASCII, controls, Latin-1 and beyond, combining marks, CJK, Hangul, private use,
# specials, supplementary planes (emoji, CJK extension B); no surrogates (not text).
RANGES = [
    (0x20, 0x7E, 30),
    (0x00, 0x1F, 3),
    (0x7F, 0x2FF, 8),
    (0x300, 0x36F, 4),
    (0x370, 0x1FFF, 10),
    (0x2000, 0x2BFF, 6),
    (0x3000, 0x9FFF, 8),
    (0xAC00, 0xD7A3, 3),
    (0xE000, 0xFFFD, 4),
    (0x10000, 0x1FAFF, 5),
    (0x20000, 0x2A6DF, 2),
]


def random_texts(count: int, seed: int) -> list[str]:
    """Seeded random Unicode texts (0 to 24 code points from the ranges above, weighted), of characters assigned in
    Python's Unicode table (14.0 for Python 3.11): the libraries' own tables are newer (Node 20's ICU 17.0; Rust's
    crates 15 to 16), and characters assigned since differ in class and NFKC between them (docs/web.md)."""
    import unicodedata

    rng = random.Random(seed)
    weights = [w for _, _, w in RANGES]
    out = []
    for _ in range(count):
        chars = []
        for _ in range(rng.randint(0, 24)):
            low, high, _ = rng.choices(RANGES, weights)[0]
            char = chr(rng.randint(low, high))
            while unicodedata.ucd_3_2_0.category(char) == "Cn":
                char = chr(rng.randint(low, high))
            chars.append(char)
        out.append("".join(chars))
    return out


def corpus() -> dict[str, list[str]]:
    """The compared texts by source: STS-B, the mixed multilingual corpus (with tests/data/tricky_texts.json), fuzz."""
    tricky = [t for t in json.loads(TRICKY.read_text(encoding="utf-8")) if isinstance(t, str)]
    return {"stsb": stsb_texts(), "mixed": tricky + mixed_texts(3000, 29), "random": random_texts(3000, 2929)}


def _training_texts() -> list[str]:
    from tests.tiny_models import CORPUS

    return [*dict.fromkeys(CORPUS), *mixed_texts(2000, 7)] + [p.text1 for p in load_stsb(STSB_TEST)]


def _wordpiece(lowercase: bool, strip_accents: bool | None, chinese: bool, tutorial: bool = False) -> Any:
    """BERT's normalizer and pre-tokenizer, or (`tutorial`) NFD + Lowercase + StripAccents and Whitespace."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=30))
    tok.normalizer = normalizers.BertNormalizer(
        lowercase=lowercase, strip_accents=strip_accents, handle_chinese_chars=chinese
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    if tutorial:
        tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase(), normalizers.StripAccents()])
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(_training_texts(), trainers.WordPieceTrainer(vocab_size=2000, special_tokens=specials))
    return tok


def _byte_bpe(split: str | None, added: list[str], normalizer: Any = None) -> Any:
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizer
    if split is None:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(split), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    trainer = trainers.BpeTrainer(
        vocab_size=3000, special_tokens=added, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(_training_texts(), trainer)
    return tok


BYTES = [f"<0x{b:02X}>" for b in range(256)]


def _sentencepiece_bpe(byte_fallback: bool, metaspace: bool = False) -> Any:
    """Llama-2 style: Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer, BPE with <0xXX> pieces, fuse_unk; or
    (`metaspace`) as newer Llama/Mistral files: no normalizer, Metaspace(prepend_scheme="first", split=False)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    trained = Tokenizer(models.BPE())
    trained.pre_tokenizer = pre_tokenizers.Metaspace()
    trained.train_from_iterator(_training_texts(), trainers.BpeTrainer(vocab_size=1500, limit_alphabet=300))
    spec = json.loads(trained.to_str())
    pieces = ["<unk>", "<s>", "</s>", *BYTES, *sorted(spec["model"]["vocab"], key=spec["model"]["vocab"].get)]
    spec["model"].update(
        vocab={p: i for i, p in enumerate(dict.fromkeys(pieces))},
        unk_token="<unk>",
        byte_fallback=byte_fallback,
        fuse_unk=True,
    )
    spec["normalizer"] = json.loads(
        normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]).__getstate__()
    )
    spec["pre_tokenizer"] = None
    if metaspace:
        spec["normalizer"] = None
        spec["pre_tokenizer"] = json.loads(_metaspace("first", split=False).__getstate__())
    spec["added_tokens"] = [_added(i, p) for i, p in enumerate(["<unk>", "<s>", "</s>"])]
    return Tokenizer.from_str(json.dumps(spec))


def _added(index: int, content: str) -> dict[str, Any]:
    return {
        "id": index,
        "content": content,
        "single_word": False,
        "lstrip": False,
        "rstrip": False,
        "normalized": False,
        "special": True,
    }


@functools.cache
def nmt_nfkc_charsmap() -> bytes:
    """SentencePiece's nmt_nfkc `precompiled_charsmap`, from a tiny model trained with the sentencepiece package."""
    import io

    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    buffer = io.BytesIO()
    lines = iter(_training_texts())
    spm.SentencePieceTrainer.train(
        sentence_iterator=lines, model_writer=buffer, vocab_size=400, normalization_rule_name="nmt_nfkc", minloglevel=2
    )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(buffer.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


@functools.cache
def _trained_unigram() -> str:
    """One Unigram trained (NFKC, Metaspace) for all the Unigram configurations, which swap its stages."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    trained = Tokenizer(models.Unigram())
    trained.normalizer = normalizers.NFKC()
    trained.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=1500, special_tokens=["<pad>", "<unk>"], unk_token="<unk>", max_piece_length=12
    )
    trained.train_from_iterator(_training_texts(), trainer)
    return str(trained.to_str())


# Pieces across words (as in a vocabulary trained without Metaspace's split), scored to win where they match.
SPANNING = [["\u2581of\u2581the", -2.0], ["\u2581in\u2581the", -2.0], ["\u2581\u2581", -1.0], ["e\u2581a", -1.5]]


def _unigram(
    normalizer: Any, pre_tokenizer: Any, unk_piece: str = "<unk>", byte_fallback: bool = False, spanning: bool = False
) -> Any:
    """The trained Unigram with these stages; `unk_piece` names the piece `unk_id` points at ("." as in a
    vocabulary-quantized model, whose "<unk>" was pruned)."""
    from tokenizers import Tokenizer

    spec = json.loads(_trained_unigram())
    spec["normalizer"] = json.loads(normalizer.__getstate__())
    spec["pre_tokenizer"] = json.loads(pre_tokenizer.__getstate__())
    vocab = spec["model"]["vocab"]
    known = {p for p, _ in vocab}
    vocab += [[b, 0.0] for b in BYTES if byte_fallback and b not in known]
    vocab += [piece for piece in SPANNING if spanning and piece[0] not in known]
    if unk_piece == ".":
        vocab[:] = [v for v in vocab if v[0] != "<unk>"]
        spec["added_tokens"] = [t for t in spec["added_tokens"] if t["content"] != "<unk>"]
    pieces = [p for p, _ in vocab]
    spec["model"].update(vocab=vocab, unk_id=pieces.index(unk_piece), byte_fallback=byte_fallback)
    for token in spec["added_tokens"]:
        token["id"] = pieces.index(token["content"])
    return Tokenizer.from_str(json.dumps(spec))


# The upstream report's reproduction (docs/upstream/tokenizers-js-unigram-unk.md): unk_id 3 is the real piece ".".
REPRO_PIECES = [
    ["<s>", 0.0],
    ["</s>", 0.0],
    ["<pad>", 0.0],
    [".", -3.63],
    ["▁", -2.5],
    ["▁.", -7.0],
    ["1", -4.0],
    ["2", -4.2],
    ["▁$", -5.0],
    ["$1", -6.5],
    ["▁1", -5.5],
]


def repro_tokenizer() -> Any:
    """The few-piece Unigram of the upstream report (Metaspace, no normalizer)."""
    from tokenizers import Tokenizer, models

    tok = Tokenizer(models.Unigram([(p, s) for p, s in REPRO_PIECES], unk_id=3))
    tok.pre_tokenizer = _metaspace("always")
    return tok


def _metaspace(scheme: str, split: bool = True) -> Any:
    from tokenizers import pre_tokenizers

    return pre_tokenizers.Metaspace(prepend_scheme=scheme, split=split)


def _real(paths: list[Path]) -> Callable[[], Any]:
    def load() -> Any:
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(next(p for p in paths if p.is_file())))

    return load


# Configurations the JavaScript package must refuse to load, with the words its error names.
REFUSED = {"unigram-ws-first": "prepend_scheme"}


def configs() -> dict[str, Callable[[], Any]]:
    """Name -> builder of a `tokenizers.Tokenizer`."""
    from tokenizers import Regex, normalizers, pre_tokenizers

    def precompiled() -> Any:
        return normalizers.Precompiled(nmt_nfkc_charsmap())

    def precompiled_spaces() -> Any:  # as XLM-R's and T5's tokenizer.json
        return normalizers.Sequence([precompiled(), normalizers.Replace(Regex(" {2,}"), " ")])

    def ws_metaspace() -> Any:
        return pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), _metaspace("always")])

    return {
        "wordpiece-uncased": lambda: _wordpiece(lowercase=True, strip_accents=None, chinese=True),
        "wordpiece-cased": lambda: _wordpiece(lowercase=False, strip_accents=None, chinese=False),
        "wordpiece-strip-accents": lambda: _wordpiece(lowercase=False, strip_accents=True, chinese=True),
        "wordpiece-nfd-whitespace": lambda: _wordpiece(lowercase=True, strip_accents=True, chinese=True, tutorial=True),
        "wordpiece-potion-real": _real([POTION_TOKENIZER]),
        "bpe-gpt2": lambda: _byte_bpe(None, ["<|endoftext|>"]),
        "bpe-gpt2-split": lambda: _byte_bpe(GPT2_SPLIT, ["<|endoftext|>"]),
        "bpe-qwen": lambda: _byte_bpe(QWEN_SPLIT, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], normalizers.NFC()),
        "bpe-llama3": lambda: _byte_bpe(LLAMA3_SPLIT, ["<|begin_of_text|>", "<|end_of_text|>"]),
        "bpe-qwen-real": _real(QWEN_TOKENIZERS),
        "spbpe-byte-fallback": lambda: _sentencepiece_bpe(byte_fallback=True),
        "spbpe-unk": lambda: _sentencepiece_bpe(byte_fallback=False),
        "spbpe-metaspace-first": lambda: _sentencepiece_bpe(byte_fallback=True, metaspace=True),
        "unigram-quantized-precompiled": lambda: _unigram(precompiled(), ws_metaspace(), unk_piece="."),
        "unigram-precompiled": lambda: _unigram(precompiled_spaces(), _metaspace("always")),
        "unigram-nfkc-first": lambda: _unigram(normalizers.NFKC(), _metaspace("first")),
        "unigram-nfkc-never": lambda: _unigram(normalizers.NFKC(), _metaspace("never")),
        "unigram-nfkc-nosplit": lambda: _unigram(normalizers.NFKC(), _metaspace("always", split=False), spanning=True),
        "unigram-split-spanning": lambda: _unigram(normalizers.NFKC(), _metaspace("always"), spanning=True),
        "unigram-unk-repro": repro_tokenizer,
        # Rust prepends "first" to the piece at original offset 0, the JS library to every piece of the first
        # added-token section: the package refuses this one (REFUSED).
        "unigram-ws-first": lambda: _unigram(
            normalizers.NFKC(), pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), _metaspace("first")])
        ),
        "unigram-byte-fallback": lambda: _unigram(normalizers.NFKC(), _metaspace("always"), byte_fallback=True),
    }
