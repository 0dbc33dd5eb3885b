"""Read a local Model2Vec model folder (the three layouts model2vec reads)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.errors import one_line
from m2v_edge.validate import check_source_config

# (config, tensors, tokenizer, embedding tensor name), in model2vec's order of preference.
_LAYOUTS = (
    ("config.json", "model.safetensors", "tokenizer.json", "embeddings"),
    ("config_sentence_transformers.json", "model.safetensors", "tokenizer.json", "embedding.weight"),
    (
        "config_sentence_transformers.json",
        "0_StaticEmbedding/model.safetensors",
        "0_StaticEmbedding/tokenizer.json",
        "embedding.weight",
    ),
)
_PICKLE_FILES = ("pytorch_model.bin", "model.bin", "model.pt", "model.pth", "model.pkl", "embeddings.npy")
_FLOAT_DTYPES = (np.float16, np.float32, np.float64, np.int8)
DEFAULT_MAX_LENGTH = 512


@dataclass
class SourceModel:
    """A Model2Vec model as read from disk: table, optional weights and mapping, tokenizer, config."""

    path: Path
    embeddings: np.ndarray
    tokenizer_json: str
    config: dict[str, Any]
    weights: np.ndarray | None = None
    mapping: np.ndarray | None = None
    sha256: str = ""
    tensor_file: Path = field(default_factory=Path)
    keep: np.ndarray | None = None  # bool per token id; False: pruned, ignored like the unknown token

    @property
    def name(self) -> str:
        """A human name: the Hub id for a folder in the Hugging Face cache, else the folder's name."""
        from m2v_edge.source.hub import repo_id_from_path

        return repo_id_from_path(self.path) or self.path.resolve().name

    @property
    def dim(self) -> int:
        """Embedding width."""
        return int(self.embeddings.shape[1])

    @property
    def normalize(self) -> bool:
        """Whether model2vec L2-normalizes this model's output (its config's ``normalize``)."""
        return bool(self.config.get("normalize", False))

    @property
    def max_length(self) -> int | None:
        """Token limit, as model2vec resolves it (config, else 512)."""
        value = self.config.get("max_length", DEFAULT_MAX_LENGTH)
        return None if value is None else int(value)


def _find_layout(folder: Path) -> tuple[Path, Path, Path, str]:
    for config, tensors, tokenizer, name in _LAYOUTS:
        paths = (folder / config, folder / tensors, folder / tokenizer)
        if all(p.is_file() for p in paths):
            return paths[0], paths[1], paths[2], name
    pickles = [p for p in _PICKLE_FILES if (folder / p).exists() or (folder / "0_StaticEmbedding" / p).exists()]
    if pickles:
        raise ValueError(
            f"{folder}: found {pickles[0]} but no model.safetensors; pickle files are refused for safety. "
            "Convert the table to safetensors first"
        )
    if not (folder / "tokenizer.json").is_file() and not (folder / "0_StaticEmbedding/tokenizer.json").is_file():
        raise FileNotFoundError(f"{folder}: no tokenizer.json; a Model2Vec folder needs tokenizer.json")
    raise FileNotFoundError(
        f"{folder}: not a Model2Vec folder; expected config.json + model.safetensors + tokenizer.json "
        "(or the sentence-transformers / 0_StaticEmbedding layouts)"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_tensors(file: Path, name: str) -> dict[str, np.ndarray]:
    from m2v_edge.extras import require

    require("export", "safetensors", what="reading a Model2Vec folder")
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        tensors = load_file(str(file))
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"{file}: unreadable safetensors file ({err}); re-download or re-save the model") from None
    if name not in tensors:
        raise ValueError(f"{file}: no '{name}' tensor (found {sorted(tensors)}); not a Model2Vec table")
    return tensors


def load_source(path: str | Path) -> SourceModel:
    """Read a Model2Vec folder and check it is consistent.

    :param path: a local folder in the model2vec, sentence-transformers or ``0_StaticEmbedding`` layout.
    :return: the source model.
    :raises FileNotFoundError: if the folder or a needed file does not exist.
    :raises ValueError: if a file is unreadable, pickled, or the table does not fit the tokenizer.
    """
    from tokenizers import Tokenizer

    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such folder; give a local Model2Vec model folder")
    if not folder.is_dir():
        raise ValueError(f"{folder}: is a file; give the model's folder")
    config_file, tensor_file, tokenizer_file, name = _find_layout(folder)

    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{config_file}: not valid JSON ({err}); re-download the model") from None
    try:
        tokenizer_json = tokenizer_file.read_text(encoding="utf-8")
        tokenizer = Tokenizer.from_str(tokenizer_json)
    except Exception as err:  # tokenizers raises a bare Exception on a bad file
        reason = one_line(err)
        raise ValueError(f"{tokenizer_file}: unreadable tokenizer ({reason}); re-download the model") from None
    if not isinstance(config, dict):
        raise ValueError(f"{config_file}: expected a JSON object")
    check_source_config(config, config_file)

    tensors = _read_tensors(tensor_file, name)
    table = tensors[name]
    if table.ndim != 2 or table.dtype.type not in _FLOAT_DTYPES:
        raise ValueError(f"{tensor_file}: '{name}' must be a 2-D float or int8 table, got {table.dtype}{table.shape}")
    if table.dtype != np.int8 and not np.isfinite(table).all():
        raise ValueError(f"{tensor_file}: the embedding table contains NaN or inf values; the model is corrupt")
    weights, mapping = tensors.get("weights"), tensors.get("mapping")
    vocab = tokenizer.get_vocab_size(with_added_tokens=True)
    if mapping is None and table.shape[0] != vocab:
        raise ValueError(
            f"{tensor_file}: table has {table.shape[0]} rows but the tokenizer has {vocab} tokens and there is "
            "no 'mapping' tensor; use the tokenizer the table was made with"
        )
    if mapping is not None:
        mapping = mapping.astype(np.int64).reshape(-1)
        if mapping.shape[0] != vocab or mapping.min() < 0 or mapping.max() >= table.shape[0]:
            raise ValueError(f"{tensor_file}: 'mapping' must map each of the {vocab} tokens to a table row")
    if weights is not None:
        weights = weights.astype(np.float64).reshape(-1)
        if weights.shape[0] != vocab or not np.isfinite(weights).all():
            raise ValueError(f"{tensor_file}: 'weights' must hold one finite value per token ({vocab})")
    return SourceModel(
        path=folder,
        embeddings=table,
        tokenizer_json=tokenizer_json,
        config=config,
        weights=weights,
        mapping=mapping,
        sha256=_sha256(tensor_file),
        tensor_file=tensor_file,
    )
