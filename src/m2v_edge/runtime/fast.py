"""Optional fast tokenization for byte-level BPE models (Qwen, GPT-2, Llama-3 style), ``m2v-edge[fast]``.

onnxruntime-extensions' ``HfJsonTokenizer`` op reads the same ``tokenizer.json`` and tokenizes inside an
onnxruntime session (strings in, padded ids out) without building a Python ``Encoding`` per text. It is used
only when it is known to be exact: the model must be byte-level BPE with no normalizer or only NFC (the op
ignores normalizers, so NFC is applied here first), and its ids must equal Hugging Face ``tokenizers``' on
:data:`CHECK_TEXTS` at load; otherwise the runtime keeps ``tokenizers`` and logs why. WordPiece and Unigram
models never use it (the op's WordPiece is wrong for non-Latin scripts). The portable ``model.onnx`` is not
touched: the op runs in its own small session, desktop/server only (onnxruntime-web and the mobile
packages lack it).
"""

from __future__ import annotations

import json
import logging
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


def unsupported_reason(tokenizer_json: str) -> str | None:
    """Why the op cannot stand in for this tokenizer, or ``None`` when it may (still to be checked on ids)."""
    spec = json.loads(tokenizer_json)
    model_type = (spec.get("model") or {}).get("type")
    if model_type != "BPE":
        return f"the tokenizer is {model_type}, not byte-level BPE"
    if not _has_byte_level(spec.get("pre_tokenizer")):
        return "the BPE tokenizer is not byte-level (no ByteLevel pre-tokenizer)"
    normalizer = spec.get("normalizer")
    if normalizer is not None and normalizer.get("type") != "NFC":
        return f"the tokenizer's normalizer {normalizer.get('type')} is not supported (only none or NFC)"
    return None


class FastTokenizer:
    """Tokenizes with ``HfJsonTokenizer`` in an onnxruntime session; ids without special tokens."""

    def __init__(self, tokenizer_json: str) -> None:
        """Build the one-op session.

        :raises ImportError: if onnxruntime-extensions is not installed.
        :raises ValueError: if the op cannot load this tokenizer.
        """
        import onnxruntime as ort
        from onnx import TensorProto, helper
        from onnxruntime_extensions import get_library_path

        spec = json.loads(tokenizer_json)
        self.nfc = (spec.get("normalizer") or {}).get("type") == "NFC"
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
        graph = helper.make_graph(
            [node],
            "m2v_edge_fast_tokenizer",
            [helper.make_tensor_value_info("text", TensorProto.STRING, ["batch"])],
            [
                helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "sequence"]),
                helper.make_tensor_value_info("mask", TensorProto.INT64, ["batch", "sequence"]),
            ],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(_DOMAIN, 1)])
        model.ir_version = 8
        options = ort.SessionOptions()
        options.register_custom_ops_library(get_library_path())
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(model.SerializeToString(), sess_options=options)
        except Exception as err:  # onnxruntime wraps the op's own load errors
            raise ValueError(f"onnxruntime-extensions cannot load this tokenizer ({one_line(err)})") from None

    @staticmethod
    def supports(texts: Sequence[str]) -> bool:
        """Whether the op tokenizes all of ``texts`` exactly: it reads strings up to a NUL character only."""
        return not any("\x00" in text for text in texts)

    def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Flat ids of all texts and the count per text (int64), like :meth:`TextTokenizer.tokenize`."""
        if self.nfc:
            texts = [t if unicodedata.is_normalized("NFC", t) else unicodedata.normalize("NFC", t) for t in texts]
        ids, mask = self.session.run(None, {"text": np.array(texts, dtype=object)})
        filled = mask.astype(bool)
        return ids[filled], filled.sum(axis=1, dtype=np.int64)


def is_candidate(tokenizer: Any) -> bool:
    """Cheap pre-check (no JSON parse): a BPE model and onnxruntime-extensions importable."""
    import importlib.util

    return type(tokenizer.model).__name__ == "BPE" and importlib.util.find_spec("onnxruntime_extensions") is not None


def load_fast(tokenizer_json: str, reference: Any, required: bool) -> tuple[FastTokenizer | None, str]:
    """The fast tokenizer when it is exact for this model, else ``None``; and a one-line reason.

    :param reference: a :class:`TextTokenizer` without fast path, whose ids the op must reproduce.
    :param required: raise instead of returning ``None``.
    :raises ValueError: when ``required`` and the fast path cannot be used (the message says why).
    """
    reason = unsupported_reason(tokenizer_json) or ""
    fast = None
    if not reason:
        try:
            fast = FastTokenizer(tokenizer_json)
        except ImportError as err:
            reason = f"{err.name or 'onnxruntime-extensions'} is not installed; {EXTRA_HINT}"
        except ValueError as err:
            reason = str(err)
    if fast is not None:
        texts = [text for text in CHECK_TEXTS if fast.supports([text])]  # the others go to tokenizers anyway
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
    return fast, "onnxruntime-extensions HfJsonTokenizer, ids identical on the check texts"
