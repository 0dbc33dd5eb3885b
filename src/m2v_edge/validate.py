"""One validation of an exported folder at load (the JS runtime's ``web/src/validate.js`` checks the same).

The messages are ``format.MESSAGES``, generated into ``web/src/contract.js`` for the JS runtime.

A folder that does not match its contract is a ``ValueError`` naming the file and the remedy, never a vector.
Config types and ranges are checked by ``m2v_edge.contract.check_config`` (run by ``read_config``); this module
checks the graph's inputs (int64 ``input_ids``/``attention_mask``), its ``embeddings`` output and its width
(= ``dim``), and that the table has a row for every id the tokenizer can produce.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.contract import ATTENTION_MASK, INPUT_IDS, MESSAGES, OUTPUT
from m2v_edge.errors import one_line


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_source_config(config: dict[str, Any], file: Path | str) -> None:
    """Check the keys of a Model2Vec source ``config.json`` that change vectors (``max_length``, ``normalize``).

    :raises ValueError: naming ``file`` and the key.
    """
    value = config.get("max_length")
    if value is not None and (not _is_int(value) or value < 1):
        raise ValueError(f"{file}: max_length must be a positive integer or null, got {value!r}; fix the source config")
    if "normalize" in config and not isinstance(config["normalize"], bool):
        raise ValueError(f"{file}: normalize must be true or false, got {config['normalize']!r}; fix the source config")


def tokenizer_id_count(tokenizer: Any) -> int:
    """One more than the largest id a ``tokenizers.Tokenizer`` can produce: its vocabulary and added tokens.

    Cheap (no walk over the vocabulary): model vocabularies are numbered 0..n-1 by every ``tokenizers`` model;
    added tokens may carry any id, so their largest one is checked.
    """
    added = tokenizer.get_added_tokens_decoder()
    return max(int(tokenizer.get_vocab_size(with_added_tokens=True)), max(added, default=-1) + 1)


def check_export(config: dict[str, Any], tokenizer: Any, session: Any, where: Path | str) -> None:
    """Check the tokenizer and the graph against the config.

    :param tokenizer: the folder's ``tokenizers.Tokenizer``.
    :param session: its ``onnxruntime.InferenceSession``.

    :raises ValueError: naming ``where`` (the folder), what does not match and the remedy.
    """
    vocab = int(config["vocab_size"])
    ids = tokenizer_id_count(tokenizer)
    if ids > vocab:
        raise ValueError(MESSAGES["tokenizer_ids"].format(where=where, most=ids - 1, rows=vocab))
    inputs = {i.name: i.type for i in session.get_inputs()}
    if INPUT_IDS not in inputs or not set(inputs) <= {INPUT_IDS, ATTENTION_MASK}:
        names = sorted(inputs)
        raise ValueError(
            MESSAGES["graph_inputs"].format(where=where, inputs=names, ids=repr(INPUT_IDS), mask=repr(ATTENTION_MASK))
        )
    wrong = {name: kind for name, kind in inputs.items() if kind != "tensor(int64)"}
    if wrong:
        raise ValueError(MESSAGES["graph_input_types"].format(where=where, got=wrong))
    outputs = [o.name for o in session.get_outputs()]
    if OUTPUT not in outputs:
        raise ValueError(MESSAGES["graph_output"].format(where=where, output=repr(OUTPUT), outputs=outputs))
    probe = np.array([[int(config["pad_token_id"]), vocab - 1]], dtype=np.int64)
    feeds = {INPUT_IDS: probe, ATTENTION_MASK: np.ones_like(probe)}
    try:
        (out,) = session.run([OUTPUT], {k: v for k, v in feeds.items() if k in inputs})
    except Exception as err:  # onnxruntime's own error types: e.g. an index beyond the table
        raise ValueError(MESSAGES["graph_fails"].format(where=where, last=vocab - 1, why=one_line(err))) from None
    if out.shape != (1, config["dim"]):
        raise ValueError(MESSAGES["graph_width"].format(where=where, shape=out.shape[1:], dim=config["dim"]))
    if not np.isfinite(out).all():
        raise ValueError(MESSAGES["graph_nan"].format(where=where))
