"""Optional fast tokenization through onnxruntime-extensions ops, ``m2v-edge[fast]``.

Two ops tokenize inside an onnxruntime session without building a Python ``Encoding`` per text:

- byte-level BPE models (Qwen, GPT-2, Llama-3 style): ``HfJsonTokenizer`` reads the same ``tokenizer.json``;
  the model must have no normalizer or only NFC (the op ignores normalizers, so NFC is applied here first);
  texts with NUL or with the first character of an added token (``<`` for Qwen) go to ``tokenizers``, since
  the op drops what follows such a character when no whole added token starts there;
- BERT-style WordPiece models (potion-*): ``BertTokenizer``, for **printable ASCII texts only** (plus tab and
  newlines; other texts go to ``tokenizers`` one by one): the op is wrong for Cyrillic, Greek, Arabic, Korean
  and accented Latin, and for ASCII control characters, but gave ``tokenizers``' ids on 60,000 random
  printable-ASCII strings and every ASCII STS-B text (``tests/test_fast_tokenizer.py`` fuzzes it again).
  It encodes one string per call, so a batch is joined with a separator token that none of its texts holds
  and the ids are cut there.

Either is used only when its ids equal Hugging Face ``tokenizers``' on :data:`CHECK_TEXTS` at load; otherwise
the runtime keeps ``tokenizers`` and logs why. Unigram models never use it. The portable ``model.onnx`` is not
touched: the op runs in its own small session, desktop/server only (onnxruntime-web and the mobile packages
lack it).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from m2v_edge.errors import one_line

logger = logging.getLogger("m2v_edge")

EXTRA_HINT = "install m2v-edge[fast] (onnxruntime-extensions>=0.15 and onnx)"
_DOMAIN = "ai.onnx.contrib"

# The exporter's probe texts plus the scripts, marks and whitespace where byte-level tokenizers differ first.
CHECK_TEXTS = (
    "How do I train a neural network?",
    "The quick brown fox jumps over the lazy dog.",
    "def add(a, b):\n    return a + b",
    "SELECT name FROM users WHERE age > 30;",
    "It's raining cats and dogs. I'LL SEE, they'RE here; we've, you'd",
    "Le chat est assis sur le tapis.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "机器学习是人工智能的一个分支。東京は日本の首都です。ひらがなとカタカナ。",
    "한국어 문장도 테스트합니다.",
    "مرحبا بالعالم، كيف حالك؟ שלום עולם",
    "Ελληνικά και Русский текст, Привет, как дела?",
    "देवनागरी हिन्दी पाठ और ไทย ภาษาไทย",
    "Emoji test 🚀🔥👍🏽 🧑🏽‍💻 👨‍👩‍👧‍👦 🇫🇷 1️⃣ café naïve résumé",
    "Decomposed cafe\u0301 nai\u0308ve Z\u0335\u0321a\u0336\u031b",
    "Ｆｕｌｌｗｉｄｔｈ　ＡＢＣ　１２３！ ﬁ ℌ ① ㎏",
    "[CLS] literal special tokens [SEP] <|endoftext|> <|im_start|>",
    "Zero\u200bwidth\u200cjoin\u200dchars\ufeffBOM \x00 \x7f",
    "Tabs\tand\r\nwindows\rnewlines\n\n\n   trailing   ",
    "12345678901234567890 3.14159 1,000,000 0x1F $5.99 50% #tag @user",
    "https://example.com/path?q=1&x=y user@example.org C:\\Windows\\path",
    "a " * 700,
    "",
    "   ",
)


def _has_byte_level(part: Any) -> bool:
    if not isinstance(part, dict):
        return False
    if part.get("type") == "ByteLevel":
        return True
    return any(_has_byte_level(p) for p in part.get("pretokenizers") or [])


def unsupported_reason(tokenizer_json: str | dict[str, Any]) -> str | None:
    """Why no op can stand in for this tokenizer, or ``None`` when one may (still to be checked on ids).

    :param tokenizer_json: the ``tokenizer.json`` text, or its parsed content.
    """
    spec = json.loads(tokenizer_json) if isinstance(tokenizer_json, str) else tokenizer_json
    model = spec.get("model") or {}
    if model.get("type") == "WordPiece":
        return _wordpiece_reason(spec)
    if model.get("type") != "BPE":
        return f"the tokenizer is {model.get('type')}, not byte-level BPE or BERT-style WordPiece"
    if not _has_byte_level(spec.get("pre_tokenizer")):
        return "the BPE tokenizer is not byte-level (no ByteLevel pre-tokenizer)"
    normalizer = spec.get("normalizer")
    if normalizer is not None and normalizer.get("type") != "NFC":
        return f"the tokenizer's normalizer {normalizer.get('type')} is not supported (only none or NFC)"
    return None


def _wordpiece_reason(spec: dict[str, Any]) -> str | None:
    model = spec["model"]
    if (spec.get("normalizer") or {}).get("type") != "BertNormalizer":
        return "the WordPiece tokenizer has no BertNormalizer"
    if (spec.get("pre_tokenizer") or {}).get("type") != "BertPreTokenizer":
        return "the WordPiece tokenizer has no BertPreTokenizer"
    if model.get("continuing_subword_prefix", "##") != "##" or model.get("max_input_chars_per_word", 100) != 100:
        return "the WordPiece settings differ from BERT's (## prefix, 100 characters per word)"
    vocab = model.get("vocab") or {}
    if any("\n" in token for token in vocab):
        return "a WordPiece token holds a newline"
    if sorted(vocab.values()) != list(range(len(vocab))):
        return "the WordPiece ids are not 0..n-1 (the op numbers the vocabulary by line)"
    if spec.get("added_tokens") and any(not t.get("special") for t in spec["added_tokens"]):
        return "the tokenizer has added (non-special) tokens"
    return None


class FastTokenizer:
    """Tokenizes with ``HfJsonTokenizer`` in an onnxruntime session; ids without special tokens."""

    # Fewest characters in a call worth splitting between two threads (see ``TextTokenizer._tokenize_here``):
    # Qwen-sized, 32 STS-B sentences (1.7k characters) ran 1.54x model2vec split and 1.33x whole, in two quiet
    # bench runs (2 cores; not side by side in one run).
    split_min_chars = 1024

    def __init__(self, tokenizer_json: str, spec: dict[str, Any] | None = None) -> None:
        """Build the one-op session (``spec``: ``tokenizer_json`` already parsed, to skip a second parse).

        :raises ImportError: if onnxruntime-extensions is not installed.
        :raises ValueError: if the op cannot load this tokenizer.
        """
        from onnx import helper

        spec = json.loads(tokenizer_json) if spec is None else spec
        self.nfc = (spec.get("normalizer") or {}).get("type") == "NFC"
        # The op stops reading a text at NUL, and at the first character of an added token ("<" for Qwen's
        # "<|endoftext|>") that does not start a whole one ("a<b" lost its "b"; found by fuzzing): such texts go
        # to tokenizers.
        starts = {t["content"][0] for t in spec.get("added_tokens") or [] if t.get("content")}
        self.unsafe = re.compile("[" + re.escape("".join(sorted(starts | {"\x00"}))) + "]")
        # The op reads special-token settings from a tokenizer_config.json; m2v-edge never adds special tokens.
        config = {"tokenizer_class": "PreTrainedTokenizer", "add_bos_token": False, "add_eos_token": False}
        node = helper.make_node(
            "HfJsonTokenizer",
            ["text"],
            ["ids", "mask"],
            domain=_DOMAIN,
            tokenizer_vocab=tokenizer_json,
            tokenizer_config=json.dumps(config),
        )
        self.session = _op_session(node, ("ids", "mask"))

    def supported(self, texts: Sequence[str]) -> np.ndarray:
        """Per text, whether the op tokenizes it exactly: no NUL and no first character of an added token."""
        unsafe = self.unsafe
        return np.fromiter((not unsafe.search(text) for text in texts), dtype=bool, count=len(texts))

    def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Flat ids of all texts and the count per text (int64), like :meth:`TextTokenizer.tokenize`."""
        if self.nfc:
            texts = [t if unicodedata.is_normalized("NFC", t) else unicodedata.normalize("NFC", t) for t in texts]
        ids, mask = self.session.run(None, {"text": np.array(texts, dtype=object)})
        filled = mask.astype(bool)
        return ids[filled], filled.sum(axis=1, dtype=np.int64)


# Texts the BertTokenizer op is exact for: printable ASCII, tab, newlines (checked; see the module docstring).
_NOT_PLAIN = re.compile(r"[^\t\n\r\x20-\x7e]")
# Separator candidates: punctuation, always a token of its own; the first in the vocabulary is used.
_SEPARATORS = ("~", "^", "|", "`", "\\", "@", "#")


class WordPieceFast:
    """Tokenizes printable-ASCII texts with ``BertTokenizer`` in an onnxruntime session; ids without specials."""

    # Higher than the BPE op's: potion, 32 STS-B sentences ran 1.73x model2vec whole vs 1.21x split, 32 passages
    # (16k characters) 1.65x split vs 1.27x whole (2 cores, paired repeats).
    split_min_chars = 4096

    def __init__(self, tokenizer_json: str, spec: dict[str, Any] | None = None) -> None:
        """Build the one-op session (``spec``: ``tokenizer_json`` already parsed, to skip a second parse).

        :raises ImportError: if onnxruntime-extensions is not installed.
        :raises ValueError: if the op cannot load this vocabulary or no separator token exists.
        """
        from onnx import helper

        spec = json.loads(tokenizer_json) if spec is None else spec
        model, normalizer = spec["model"], spec["normalizer"]
        vocab: dict[str, int] = model["vocab"]
        self.separator = next((c for c in _SEPARATORS if c in vocab), "")
        if not self.separator:
            raise ValueError("no separator token (~ ^ | ` \\ @ #) in the vocabulary")
        self.separator_id = vocab[self.separator]
        # tokenizers matches added tokens ([CLS], [MASK], ...) in the raw text; the op splits them: such texts go
        # to tokenizers (case-insensitive, in case a token is matched after lowercasing).
        added = [re.escape(t["content"]) for t in spec.get("added_tokens") or [] if t.get("content")]
        self.added = re.compile("|".join(added), re.IGNORECASE) if added else None
        node = helper.make_node(
            "BertTokenizer",
            ["text"],
            ["ids", "types", "mask"],
            domain=_DOMAIN,
            vocab_file="\n".join(sorted(vocab, key=vocab.__getitem__)),
            do_lower_case=int(bool(normalizer.get("lowercase", True))),
            strip_accents=int(normalizer.get("strip_accents") is not False),
            unk_token=str(model.get("unk_token", "[UNK]")),
        )
        self.session = _op_session(node, ("ids", "types", "mask"), batch=False)

    def supported(self, texts: Sequence[str]) -> np.ndarray:
        """Per text, whether the op tokenizes it exactly.

        That is: printable ASCII, tab and newlines only, without the separator or an added token's text.
        """
        sep, added = self.separator, self.added
        return np.fromiter(
            (
                t.isascii() and sep not in t and not _NOT_PLAIN.search(t) and not (added and added.search(t))
                for t in texts
            ),
            dtype=bool,
            count=len(texts),
        )

    def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Flat ids of all texts and the count per text (int64), like :meth:`TextTokenizer.tokenize`."""
        if not texts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        joined = f" {self.separator} ".join(texts)
        ids = self.session.run(["ids"], {"text": np.array([joined], dtype=object)})[0][1:-1]  # [CLS] ... [SEP]
        cuts = np.flatnonzero(ids == self.separator_id)
        if len(cuts) != len(texts) - 1:
            raise RuntimeError(f"BertTokenizer op: {len(cuts) + 1} texts back for {len(texts)} sent")
        counts = np.diff(np.concatenate([[-1], cuts, [len(ids)]])) - 1
        return ids[ids != self.separator_id].astype(np.int64, copy=False), counts.astype(np.int64)


def _op_session(node: Any, outputs: tuple[str, ...], batch: bool = True) -> Any:
    """An onnxruntime session of one onnxruntime-extensions op: strings in, int64 tensors out, one thread."""
    import onnxruntime as ort
    from onnx import TensorProto, helper
    from onnxruntime_extensions import get_library_path

    shape = ["batch", "sequence"] if batch else ["sequence"]
    graph = helper.make_graph(
        [node],
        "m2v_edge_fast_tokenizer",
        [helper.make_tensor_value_info("text", TensorProto.STRING, ["batch"] if batch else [1])],
        [helper.make_tensor_value_info(name, TensorProto.INT64, shape) for name in outputs],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(_DOMAIN, 1)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.register_custom_ops_library(get_library_path())
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(model.SerializeToString(), sess_options=options)
    except Exception as err:  # onnxruntime wraps the op's own load errors
        raise ValueError(f"onnxruntime-extensions cannot load this tokenizer ({one_line(err)})") from None


def interleave(*parts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Merge ``(text indices, flat ids, counts)`` parts that cover the texts into one ``(flat, counts)``."""
    counts = np.empty(sum(len(index) for index, _, _ in parts), dtype=np.int64)
    for index, _, part_counts in parts:
        counts[index] = part_counts
    starts = np.cumsum(counts) - counts
    flat = np.empty(int(counts.sum()), dtype=np.int64)
    for index, part_flat, part_counts in parts:
        shift = starts[index] - (np.cumsum(part_counts) - part_counts)  # where each text's run moves to
        flat[np.repeat(shift, part_counts) + np.arange(len(part_flat))] = part_flat
    return flat, counts


def is_candidate(tokenizer: Any) -> bool:
    """Cheap pre-check (no JSON parse): a BPE or WordPiece model and onnxruntime-extensions importable."""
    import importlib.util

    model = type(tokenizer.model).__name__
    return model in ("BPE", "WordPiece") and importlib.util.find_spec("onnxruntime_extensions") is not None


def load_fast(tokenizer_json: str, reference: Any, required: bool) -> tuple[FastTokenizer | WordPieceFast | None, str]:
    """The fast tokenizer when it is exact for this model, else ``None``; and a one-line reason.

    :param reference: a :class:`TextTokenizer` without fast path, whose ids the op must reproduce.
    :param required: raise instead of returning ``None``.
    :raises ValueError: when ``required`` and the fast path cannot be used (the message says why).
    """
    spec = json.loads(tokenizer_json)  # once: Qwen's tokenizer.json is 6 MB
    reason = unsupported_reason(spec) or ""
    fast: FastTokenizer | WordPieceFast | None = None
    wordpiece = (spec.get("model") or {}).get("type") == "WordPiece"
    if not reason:
        try:
            fast = WordPieceFast(tokenizer_json, spec) if wordpiece else FastTokenizer(tokenizer_json, spec)
        except ImportError as err:
            reason = f"{err.name or 'onnxruntime-extensions'} is not installed; {EXTRA_HINT}"
        except ValueError as err:
            reason = str(err)
    if fast is not None:
        texts = [text for text, ok in zip(CHECK_TEXTS, fast.supported(CHECK_TEXTS), strict=True) if ok]
        want_flat, want_counts = reference.tokenize(texts, None)
        got_flat, got_counts = fast.tokenize(texts)
        want = np.split(want_flat, np.cumsum(want_counts)[:-1])
        got = np.split(got_flat, np.cumsum(got_counts)[:-1])
        bad = [i for i, (a, b) in enumerate(zip(want, got, strict=True)) if not np.array_equal(a, b)]
        if bad:
            reason, fast = f"its ids differ from tokenizers' on check text {bad[0]} ({texts[bad[0]][:30]!r})", None
    if fast is None:
        if required:
            raise ValueError(f"fast tokenizer unavailable: {reason}")
        logger.info("m2v-edge: fast tokenizer off: %s", reason)
        return None, reason
    op = "BertTokenizer (printable-ASCII texts)" if wordpiece else "HfJsonTokenizer"
    return fast, f"onnxruntime-extensions {op}, ids identical on the check texts"
