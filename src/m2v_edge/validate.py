"""One validation of an exported folder at load (the JS runtime's ``web/src/validate.js`` checks the same).

The messages are ``format.MESSAGES``, generated into ``web/src/contract.js`` for the JS runtime.

A folder that does not match its contract is a ``ValueError`` naming the file and the remedy, never a vector.
Config types and ranges are checked by ``m2v_edge.contract.check_config`` (run by ``read_config``); this module
checks the graph's inputs (int64 ``input_ids``/``attention_mask``), its ``embeddings`` output and its width
(= ``dim``), and that the table has a row for every id the tokenizer can produce.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.contract import (
    ATTENTION_MASK,
    CHECKED_GRAPH_KEYS,
    CHECKSUMS_KEY,
    INPUT_IDS,
    INTEGRITY_MESSAGES,
    MESSAGES,
    METADATA_KEY,
    OUTPUT,
    check_folder_path,
)
from m2v_edge.errors import one_line

_log = logging.getLogger(__name__)
_noticed: list[bool] = []  # the "no checksums" notice is logged once per process
_HEX64 = re.compile("[0-9a-f]{64}")
_CHUNK = 1 << 22


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

    The largest id, not the count: a vocabulary may skip ids (``"dog": 50000`` in a 100-token file). When the
    ids are exactly 0..count-1 (every export) that is the count; otherwise the whole vocabulary is read.
    ``tokenizers`` reads ids as unsigned, so a negative id already fails to load.
    """
    count = int(tokenizer.get_vocab_size(with_added_tokens=True))
    if all(tokenizer.id_to_token(i) is not None for i in range(count)):
        return count  # count distinct ids fill 0..count-1: none can lie beyond (~0.1 s for Qwen's 151,669)
    return max(tokenizer.get_vocab(with_added_tokens=True).values(), default=-1) + 1


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


def file_sha256(path: Path) -> str:
    """The file's sha256, lowercase hex (read in 4 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def listed_checksums(config: dict[str, Any], where: Path | str) -> dict[str, str] | None:
    """config.json's ``files`` (relative path -> sha256), checked; ``None`` (and a one-time notice) when absent.

    :raises ValueError: for a list that is not an object of plain relative paths to sha256 hex strings.
    """
    listed = config.get(CHECKSUMS_KEY)
    if listed is None:
        if not _noticed:
            _noticed.append(True)
            _log.warning(INTEGRITY_MESSAGES["no_checksums"].format(where=where))
        return None
    good = isinstance(listed, dict) and all(
        isinstance(name, str) and isinstance(sha, str) and _HEX64.fullmatch(sha) for name, sha in listed.items()
    )
    if not good:
        raise ValueError(INTEGRITY_MESSAGES["bad_list"].format(where=where, got=json.dumps(listed)[:120]))
    for name in listed:
        check_folder_path(name, CHECKSUMS_KEY, where)
    return dict(listed)


def verify_files(root: Path, config: dict[str, Any], names: list[str]) -> None:
    """Hash the files ``names`` (relative to ``root``) a runtime reads and compare with config.json's ``files``.

    Every load does this (docs/format.md, "Checksums"); an export without ``files`` loads with a notice.

    :raises ValueError: one line naming the file that differs (or is not listed) and the remedy.
    """
    listed = listed_checksums(config, root / "config.json")
    if listed is None:
        return
    for name in names:
        if name not in listed:
            raise ValueError(INTEGRITY_MESSAGES["unlisted"].format(file=root / name))
        got = file_sha256(root / name)
        if got != listed[name]:
            raise ValueError(
                INTEGRITY_MESSAGES["checksum"].format(file=root / name, got=got[:16], expected=listed[name][:16])
            )


def _dotted(config: dict[str, Any], key: str) -> object:
    value: object = config
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check_graph_config(config: dict[str, Any], metadata: dict[str, str], file: Path | str) -> None:
    """The config the graph was exported with (its ``m2v_edge_config`` metadata) must agree with config.json.

    Catches another model's graph of the same width copied into a folder, with or without checksums. A graph
    without that metadata (not written by m2v-edge) is left to the other checks.

    :raises ValueError: naming the graph file and the key that differs.
    """
    try:
        embedded = json.loads(metadata[METADATA_KEY])
    except (KeyError, ValueError):
        return
    if not isinstance(embedded, dict):
        return
    for key in CHECKED_GRAPH_KEYS:
        got, expected = _dotted(embedded, key), _dotted(config, key)
        if got is not None and expected is not None and got != expected:
            raise ValueError(
                INTEGRITY_MESSAGES["graph_config"].format(
                    file=file, key=key, got=json.dumps(got), expected=json.dumps(expected)
                )
            )
