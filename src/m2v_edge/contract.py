"""The exported folder: the contract between the exporter and every runtime (Python, JS, mobile).

``docs/format.md`` documents every key; keep the two in step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

# 2: the graph drops the unknown token itself; Hugging Face layout (``model_file``, ``onnx/``). 1 still loads.
FORMAT_VERSION = 2
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


MODEL_FILE_KEY = "model_file"
LEGACY_MODEL_FILE = "model.onnx"
LAYOUTS = ("hf", "flat")
# The Hugging Face layout's names (what transformers.js, optimum and the Hub expect) and transformers.js dtypes.
HF_MODEL_FILES = {
    DType.INT8: "onnx/model_quantized.onnx",
    DType.FLOAT16: "onnx/model_fp16.onnx",
    DType.FLOAT32: "onnx/model.onnx",
}
TRANSFORMERS_JS_DTYPES = {DType.INT8: "q8", DType.FLOAT16: "fp16", DType.FLOAT32: "fp32"}


def model_file_name(dtype: DType, layout: str = "hf") -> str:
    """The graph's path inside an export: ``onnx/model_quantized.onnx`` (``hf``, int8) or ``model.onnx`` (``flat``).

    :raises ValueError: for an unknown layout.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout {layout!r} is not supported; choose one of: {', '.join(LAYOUTS)}")
    return HF_MODEL_FILES[dtype] if layout == "hf" else LEGACY_MODEL_FILE


@dataclass(frozen=True)
class ExportFiles:
    """Names the files of an exported folder.

    The graph's name comes from ``model_file`` (given, else ``config.json``'s ``model_file``, else the
    format-1 name ``model.onnx``), so both layouts resolve here and nowhere else.
    """

    root: Path
    model_file: str = ""

    @property
    def model_name(self) -> str:
        """The graph's path relative to ``root`` (POSIX separators)."""
        name = self.model_file or self._configured_model_file() or LEGACY_MODEL_FILE
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts or not name.endswith(".onnx"):
            raise ValueError(f"{self.config}: model_file {name!r} must be a relative .onnx path inside the folder")
        return name

    def _configured_model_file(self) -> str | None:
        try:
            value = json.loads(self.config.read_text(encoding="utf-8")).get(MODEL_FILE_KEY)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            return None  # read_config reports a bad or missing config.json
        return value if isinstance(value, str) and value else None

    @property
    def model(self) -> Path:
        """The ONNX graph with the embedded table."""
        return self.root / self.model_name

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
    def tokenizer_config(self) -> Path:
        """``transformers``/transformers.js tokenizer settings (class, special tokens, max length)."""
        return self.root / "tokenizer_config.json"

    @property
    def special_tokens_map(self) -> Path:
        """The special tokens, as ``transformers`` saves them."""
        return self.root / "special_tokens_map.json"

    @property
    def ort_model(self) -> Path:
        """Optional ORT-format graph for mobile runtimes, next to the ONNX graph (``onnx/model_quantized.ort``)."""
        return self.model.with_suffix(".ort")

    def is_export(self) -> bool:
        """Whether the folder looks like an m2v-edge export."""
        try:
            return self.config.is_file() and self.model.is_file()
        except ValueError:
            return True  # a config naming a bad model_file: let read_config/loaders say what is wrong

    def sizes(self) -> dict[str, int]:
        """Every file's size in bytes, by path relative to ``root`` (POSIX), sorted."""
        files = sorted(p for p in self.root.rglob("*") if p.is_file())
        return {p.relative_to(self.root).as_posix(): p.stat().st_size for p in files}


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
    check_config(config, file)
    return dict(config)


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
    if not isinstance(config["dtype"], str) or config["dtype"] not in {d.value for d in DType}:
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


def write_config(path: Path, config: dict[str, Any]) -> None:
    """Write ``config.json`` with stable key order."""
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
