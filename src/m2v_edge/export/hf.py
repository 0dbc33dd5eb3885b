"""The Hugging Face side of an export: tokenizer files and ``config.json`` keys transformers.js reads.

With them, ``AutoTokenizer.from_pretrained(folder)`` and ``AutoModel.from_pretrained(folder)`` (transformers.js
4.x) load an export with no options: the model file is found by the dtype in ``transformers.js_config``, the
tokenizer by ``tokenizer_config.json``. The exported ``tokenizer.json`` has no post-processor, so the
tokenizer's default output carries no special tokens, and the graph drops the unknown token itself: a raw
``model(tokenizer(texts, {padding: true}))`` gives m2v-edge's (and model2vec's) vectors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from m2v_edge.contract import MODEL_FILE_KEY, TRANSFORMERS_JS_DTYPES, DType, model_file_name

# Keys of a source tokenizer_config.json that point at files or code we do not ship.
_DROPPED_KEYS = ("auto_map", "tokenizer_file", "name_or_path", "chat_template")
TRANSFORMERS_JS_ARCHITECTURE = "PreTrainedModel"
_SPECIAL_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def layout_config(dtype: DType, layout: str) -> dict[str, Any]:
    """``config.json`` keys naming the graph file and, in the ``hf`` layout, transformers.js's default dtype."""
    keys: dict[str, Any] = {MODEL_FILE_KEY: model_file_name(dtype, layout)}
    if layout == "hf":
        keys["transformers.js_config"] = {"dtype": TRANSFORMERS_JS_DTYPES[dtype]}
        # transformers.js's generic class: the single-graph loader it falls back to anyway, minus its warning
        # "Architecture(s) not found". "Unknown model class" stays: only a known model_type silences it.
        keys["architectures"] = [TRANSFORMERS_JS_ARCHITECTURE]
    return keys


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _token(tokenizer_json: dict[str, Any], token_id: int | None) -> str | None:
    """The text of ``token_id`` in a ``tokenizer.json`` (added tokens first, then the model's vocabulary)."""
    if token_id is None:
        return None
    for added in tokenizer_json.get("added_tokens") or []:
        if added.get("id") == token_id:
            return str(added.get("content"))
    vocab = (tokenizer_json.get("model") or {}).get("vocab")
    if isinstance(vocab, dict):
        for text, index in vocab.items():
            if index == token_id:
                return str(text)
    elif isinstance(vocab, list) and 0 <= token_id < len(vocab):  # Unigram: [[piece, score], ...]
        entry = vocab[token_id]
        return str(entry[0] if isinstance(entry, list) else entry)
    return None


def tokenizer_files(
    source_dir: Path | None, tokenizer_json: str, config: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``tokenizer_config.json`` and ``special_tokens_map.json`` for an export.

    The source's own files are carried over (minus keys naming files or code not shipped); the tokenizer
    class defaults to ``PreTrainedTokenizerFast``, ``model_max_length`` is the export's ``max_length``, and
    the unknown and padding tokens are named so ``tokenizer(texts, {padding: true})`` works.
    """
    data = json.loads(tokenizer_json)
    tok_config = _read_json_object(source_dir / "tokenizer_config.json") if source_dir else {}
    special = _read_json_object(source_dir / "special_tokens_map.json") if source_dir else {}
    for key in _DROPPED_KEYS:
        tok_config.pop(key, None)
    tok_config.setdefault("tokenizer_class", "PreTrainedTokenizerFast")
    tok_config["model_max_length"] = config["max_length"] if config["max_length"] is not None else 10**30
    tok_config.setdefault("clean_up_tokenization_spaces", False)
    named = {
        "unk_token": _token(data, config["unk_token_id"]),
        "pad_token": tok_config.get("pad_token") or _token(data, config["pad_token_id"]),
    }
    for key, value in named.items():
        if value is not None and not tok_config.get(key):
            tok_config[key] = value
    for key in _SPECIAL_KEYS:
        if key in tok_config and tok_config[key] is not None and key not in special:
            special[key] = tok_config[key]
    return tok_config, special


def unk_post_processor(tokenizer_json: dict[str, Any], unk_token_id: int | None) -> dict[str, Any] | None:
    """A post-processor that appends the unknown token to every text (``pipeline_output`` exports), or ``None``.

    Callers that add special tokens (transformers.js's default) then always get one token, which the graph
    drops, so ``pipeline("feature-extraction", …, {pooling: "mean"})`` of a text with no other token is the zero
    vector, not 0/0. m2v-edge's runtimes (and model2vec) tokenize with ``add_special_tokens=False``: unchanged.
    ``None`` when the tokenizer has no unknown token (byte-level BPE): nothing the graph drops can be appended.
    """
    unk = _token(tokenizer_json, unk_token_id)
    if unk is None or unk_token_id is None:
        return None
    special = {"SpecialToken": {"id": unk, "type_id": 0}}
    return {
        "type": "TemplateProcessing",
        "single": [{"Sequence": {"id": "A", "type_id": 0}}, special],
        "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 0}}, special],
        "special_tokens": {unk: {"id": unk, "ids": [unk_token_id], "tokens": [unk]}},
    }
