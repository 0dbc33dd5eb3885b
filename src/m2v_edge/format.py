"""The exported folder: the contract between the exporter and every runtime (Python, JS, mobile).

``docs/format.md`` documents every key; keep the two in step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
OPSET = 17
IR_VERSION = 8
INPUT_IDS = "input_ids"
ATTENTION_MASK = "attention_mask"
OUTPUT = "embeddings"
METADATA_KEY = "m2v_edge_config"

REQUIRED_KEYS = (
    "format_version",
    "dim",
    "vocab_size",
    "dtype",
    "normalize",
    "max_length",
    "median_token_length",
    "unk_token_id",
    "pad_token_id",
)


class DType(str, Enum):
    """Storage type of the embedding table inside ``model.onnx``."""

    INT8 = "int8"
    FLOAT16 = "float16"
    FLOAT32 = "float32"

    @classmethod
    def parse(cls, value: str | DType) -> DType:
        """Convert user input once, at the boundary, with a clear error."""
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(d.value for d in cls)
            raise ValueError(f"dtype {value!r} is not supported; choose one of: {choices}") from None


@dataclass(frozen=True)
class ExportFiles:
    """Names the files of an exported folder."""

    root: Path

    @property
    def model(self) -> Path:
        """The ONNX graph with the embedded table."""
        return self.root / "model.onnx"

    @property
    def tokenizer(self) -> Path:
        """The Hugging Face ``tokenizers`` file (padding and truncation removed)."""
        return self.root / "tokenizer.json"

    @property
    def config(self) -> Path:
        """Everything a runtime needs besides the graph and the tokenizer."""
        return self.root / "config.json"

    @property
    def card(self) -> Path:
        """A short model card."""
        return self.root / "README.md"

    @property
    def ort_model(self) -> Path:
        """Optional ORT-format graph for mobile runtimes."""
        return self.root / "model.ort"

    def is_export(self) -> bool:
        """Whether the folder looks like an m2v-edge export."""
        return self.model.is_file() and self.config.is_file()


def read_config(path: str | Path) -> dict[str, Any]:
    """Read and validate an exported ``config.json``.

    :param path: the exported folder or its ``config.json``.
    :return: the config as a dict.
    :raises FileNotFoundError: if the file is missing.
    :raises ValueError: if it is not valid JSON, lacks a required key or a value has the wrong type or range.
    """
    path = Path(path)
    file = path / "config.json" if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no config.json; export the model with `m2v-edge export` first")
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{file}: not valid JSON ({err}); re-export the model") from None
    from m2v_edge.validate import check_config  # types and ranges, format_version first

    check_config(config, file)
    return dict(config)


def write_config(path: Path, config: dict[str, Any]) -> None:
    """Write ``config.json`` with stable key order."""
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
