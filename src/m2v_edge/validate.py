"""One validation of an exported folder at load (the JS runtime's ``web/src/validate.js`` checks the same).

A folder that does not match its contract is a ``ValueError`` naming the file and the remedy, never a vector:
config types and ranges, the graph's inputs (int64 ``input_ids``/``attention_mask``), its ``embeddings`` output
and its width (= ``dim``), and a table row for every id the tokenizer can produce.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.format import ATTENTION_MASK, FORMAT_VERSION, INPUT_IDS, OUTPUT, REQUIRED_KEYS, DType

_REEXPORT = "re-export the model with `m2v-edge export`"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_config(config: object, file: Path | str) -> dict[str, Any]:
    """Check a parsed ``config.json``: ``format_version`` first, then every key's type and range.

    :raises ValueError: naming ``file``, the key and the remedy.
    """
    if not isinstance(config, dict):
        raise ValueError(f"{file}: expected a JSON object, got {type(config).__name__}; {_REEXPORT}")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{file}: format_version must be a positive integer, got {version!r}; {_REEXPORT}")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{file}: format_version {version} is newer than this m2v-edge reads ({FORMAT_VERSION}); upgrade m2v-edge"
        )
    missing = [key for key in REQUIRED_KEYS if key not in config]
    if missing:
        raise ValueError(f"{file}: missing keys {missing}; re-export the model with this version")

    def bad(key: str, expected: str) -> ValueError:
        return ValueError(f"{file}: {key} must be {expected}, got {config[key]!r}; {_REEXPORT}")

    for key in ("dim", "vocab_size", "median_token_length"):
        if not _is_int(config[key]) or config[key] < 1:
            raise bad(key, "a positive integer")
    if config["max_length"] is not None and (not _is_int(config["max_length"]) or config["max_length"] < 1):
        raise bad("max_length", "a positive integer or null")
    if not isinstance(config["normalize"], bool):
        raise bad("normalize", "true or false")
    if config["dtype"] not in {d.value for d in DType}:
        raise bad("dtype", f"one of {[d.value for d in DType]}")
    vocab = config["vocab_size"]
    if not _is_int(config["pad_token_id"]) or not 0 <= config["pad_token_id"] < vocab:
        raise bad("pad_token_id", f"an integer in 0..{vocab - 1}")
    unk = config["unk_token_id"]
    if unk is not None and (not _is_int(unk) or not 0 <= unk < vocab):
        raise bad("unk_token_id", f"null or an integer in 0..{vocab - 1}")
    if "output" in config and config["output"] != OUTPUT:
        raise bad("output", repr(OUTPUT))
    return config


def check_source_config(config: dict[str, Any], file: Path | str) -> None:
    """Check the keys of a Model2Vec source ``config.json`` that change vectors (``max_length``, ``normalize``).

    :raises ValueError: naming ``file`` and the key.
    """
    value = config.get("max_length")
    if value is not None and (not _is_int(value) or value < 1):
        raise ValueError(f"{file}: max_length must be a positive integer or null, got {value!r}; fix the source config")
    if "normalize" in config and not isinstance(config["normalize"], bool):
        raise ValueError(f"{file}: normalize must be true or false, got {config['normalize']!r}; fix the source config")


def tokenizer_id_count(tokenizer_json: str) -> int:
    """One more than the largest id ``tokenizer.json`` can produce (vocabulary and added tokens)."""
    data = json.loads(tokenizer_json)
    vocab = data.get("model", {}).get("vocab", {})
    ids: list[int] = []
    if isinstance(vocab, dict):
        ids.extend(int(i) for i in vocab.values())
    elif isinstance(vocab, list):  # Unigram: [[token, score], ...], the id is the position
        ids.append(len(vocab) - 1)
    ids.extend(int(token["id"]) for token in data.get("added_tokens") or [])
    return max(ids, default=-1) + 1


def check_export(config: dict[str, Any], tokenizer_json: str, session: Any, where: Path | str) -> None:
    """Check the tokenizer and the graph against the config (``session``: an ``onnxruntime.InferenceSession``).

    :raises ValueError: naming ``where`` (the folder), what does not match and the remedy.
    """
    vocab = int(config["vocab_size"])
    ids = tokenizer_id_count(tokenizer_json)
    if ids > vocab:
        raise ValueError(
            f"{where}: tokenizer.json can produce ids up to {ids - 1} but the table has {vocab} rows "
            f"(vocab_size); {_REEXPORT}"
        )
    inputs = {i.name: i.type for i in session.get_inputs()}
    if INPUT_IDS not in inputs or not set(inputs) <= {INPUT_IDS, ATTENTION_MASK}:
        raise ValueError(
            f"{where}: the graph's inputs are {sorted(inputs)}, expected {INPUT_IDS!r} (+ {ATTENTION_MASK!r}); "
            + _REEXPORT
        )
    wrong = {name: kind for name, kind in inputs.items() if kind != "tensor(int64)"}
    if wrong:
        raise ValueError(f"{where}: graph inputs must be int64, got {wrong}; {_REEXPORT}")
    outputs = [o.name for o in session.get_outputs()]
    if OUTPUT not in outputs:
        raise ValueError(f"{where}: the graph has no {OUTPUT!r} output (it has {outputs}); {_REEXPORT}")
    probe = np.array([[int(config["pad_token_id"]), vocab - 1]], dtype=np.int64)
    feeds = {INPUT_IDS: probe, ATTENTION_MASK: np.ones_like(probe)}
    try:
        (out,) = session.run([OUTPUT], {k: v for k, v in feeds.items() if k in inputs})
    except Exception as err:  # onnxruntime's own error types: e.g. an index beyond the table
        reason = (str(err).splitlines() or ["unknown error"])[0][:200]
        raise ValueError(f"{where}: the graph fails on ids 0..{vocab - 1} ({reason}); {_REEXPORT}") from None
    if out.shape != (1, config["dim"]):
        raise ValueError(f"{where}: the graph outputs vectors of shape {out.shape[1:]} but dim is {config['dim']}")
    if not np.isfinite(out).all():
        raise ValueError(f"{where}: the graph outputs NaN or inf; {_REEXPORT}")
