"""The exported folder: the contract between the exporter and every runtime (Python, JS, mobile).

``docs/format.md`` documents every key; keep the two in step.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import unquote

# 2: the graph drops the unknown token itself; Hugging Face layout (``model_file``, ``onnx/``). 1 still loads.
FORMAT_VERSION = 2
OPSET = 17
IR_VERSION = 8
INPUT_IDS = "input_ids"
ATTENTION_MASK = "attention_mask"
OUTPUT = "embeddings"
METADATA_KEY = "m2v_edge_config"

REQUIRED_KEYS = ("format_version", "dim", "vocab_size", "dtype", "normalize", "max_length", "median_token_length",
                 "unk_token_id", "pad_token_id")  # fmt: skip


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


# Rows per graph call in every runtime (texts are sorted by token count, smaller calls pad less).
MAX_GRAPH_ROWS = 128
# The width rule (docs/format.md, "One text, one vector"): a text of n tokens always runs at n rounded up to
# step = max(PAD_MIN_STEP, 2 ** (bit_length(n - 1) - PAD_STEP_BITS)), so at most 1/8 of padding past 64 tokens.
PAD_MIN_STEP = 4
PAD_STEP_BITS = 4
# Added to each L2 norm before dividing (model2vec's 1e-32), stored as a float32 initializer ``tiny``.
NORM_EPSILON = 1e-32
# Cosine (search, rank): each vector is divided by max(norm, this), so a zero vector scores 0.
COSINE_NORM_FLOOR = 1e-12

# The `.m2vec` vector file (docs/scale.md): a 64-byte little-endian header, rows, then (int8) 4-aligned scales.
VECTOR_MAGIC = b"M2VEVEC\0"
VECTOR_VERSION = 1
VECTOR_HEADER_SIZE = 64
VECTOR_HEADER_FORMAT = "<8sHHIQ32s8x"  # magic, version, dtype code, dim, count, config.json sha256, padding
VECTOR_HEADER_FIELDS = ("magic", "version", "dtype", "dim", "count", "fingerprint")
VECTOR_DTYPE_CODES = {"int8": 1, "float16": 2}
VECTOR_SCALE_ALIGN = 4

# The pooling a graph computes, declared by the exporter in the graph's metadata_props (JSON under this key) and
# checked by the JS pooling kernel against the nodes: each flag switches nodes of POOLING_NODES on.
POOLING_SPEC_KEY = "m2v_edge_pooling"
POOLING_SPEC_VERSION = 1
# "hidden" (optional: a spec without it has it false) adds HIDDEN_NODES, the second output HIDDEN_OUTPUT.
POOLING_FLAGS = ("token_keep", "unk", "token_scale", "row_map", "cast", "bias", "normalize", "hidden")
POOLING_OPTIONAL_FLAGS = ("hidden",)
_FLOAT = 1  # onnx.TensorProto.FLOAT
# (op, inputs, output, attributes, flag or None). "$slot" reads a slot's latest value; output "slot=name" sets it.
# The last node's output is renamed to OUTPUT. Slot defaults: POOLING_SLOT_DEFAULTS.
POOLING_NODES: tuple[tuple[str, tuple[str, ...], str, dict[str, Any], str | None], ...] = (
    ("Cast", (ATTENTION_MASK,), "mask=mask_f", {"to": _FLOAT}, None),
    ("Gather", ("token_keep", INPUT_IDS), "keep", {}, "token_keep"),
    ("Mul", ("$mask", "keep"), "mask=mask_kept", {}, "token_keep"),
    ("Equal", (INPUT_IDS, "unk_token_id"), "is_unk", {}, "unk"),
    ("Not", ("is_unk",), "is_known", {}, "unk"),
    ("Cast", ("is_known",), "known_f", {"to": _FLOAT}, "unk"),
    ("Mul", ("$mask", "known_f"), "mask=mask_kept", {}, "unk"),
    ("ReduceSum", ("$mask", "axis1"), "count", {"keepdims": 1}, None),
    ("Max", ("count", "one"), "count_safe", {}, None),
    ("Gather", ("token_scale", INPUT_IDS), "scale", {}, "token_scale"),
    ("Mul", ("$mask", "scale"), "weight=weight", {}, "token_scale"),
    ("Gather", ("row_map", INPUT_IDS), "rows=rows", {}, "row_map"),
    ("Gather", ("table", "$rows"), "vectors=vectors", {}, None),
    ("Cast", ("$vectors",), "vectors=vectors_f", {"to": _FLOAT}, "cast"),
    ("Unsqueeze", ("$weight", "axis1"), "weight3", {}, None),
    ("MatMul", ("weight3", "$vectors"), "pooled", {}, None),
    ("Squeeze", ("pooled", "axis1"), "summed", {}, None),
    ("Div", ("summed", "count_safe"), "mean=mean", {}, None),
    ("Min", ("count", "one"), "has_token", {}, "bias"),  # the raw token count: an empty text stays zero
    ("Mul", ("has_token", "isotropy_bias"), "shift", {}, "bias"),
    ("Add", ("$mean", "shift"), "mean=mean_shifted", {}, "bias"),
    ("ReduceL2", ("$mean",), "norm", {"axes": [1], "keepdims": 1}, "normalize"),
    ("Add", ("norm", "tiny"), "norm_safe", {}, "normalize"),
    ("Div", ("$mean", "norm_safe"), "mean=normalized", {}, "normalize"),
)
POOLING_SLOT_DEFAULTS = {"weight": "$mask", "rows": INPUT_IDS}
# transformers.js's pipeline("feature-extraction") mean-pools this [batch, tokens, dim] output: OUTPUT × mask.
HIDDEN_OUTPUT = "last_hidden_state"
HIDDEN_NODES: tuple[tuple[str, tuple[str, ...], str, dict[str, Any]], ...] = (
    ("Unsqueeze", (OUTPUT, "axis1"), "embeddings3", {}),
    ("Unsqueeze", ("mask_f", "axis2"), "mask3", {}),
    ("Mul", ("embeddings3", "mask3"), HIDDEN_OUTPUT, {}),
)


def pooling_nodes(flags: dict[str, bool]) -> list[tuple[str, list[str], str, dict[str, Any]]]:
    """The graph's nodes for a pooling spec: (op, inputs, output, attributes), POOLING_NODES expanded.

    The JS kernel (web/src/graph-spec.js) expands the same generated table and compares it to a graph's nodes.
    """
    slots: dict[str, str] = {}

    def resolve(name: str) -> str:
        if not name.startswith("$"):
            return name
        slot = name[1:]
        return slots[slot] if slot in slots else resolve(POOLING_SLOT_DEFAULTS[slot])

    out: list[tuple[str, list[str], str, dict[str, Any]]] = []
    for op, inputs, output, attrs, flag in POOLING_NODES:
        if flag is not None and not flags[flag]:
            continue
        slot, _, name = output.rpartition("=")
        out.append((op, [resolve(i) for i in inputs], name, attrs))
        if slot:
            slots[slot] = name
    out[-1] = (*out[-1][:2], OUTPUT, out[-1][3])
    return out + [(op, list(ins), name, attrs) for op, ins, name, attrs in HIDDEN_NODES if flags.get("hidden")]


# Remedies and messages every runtime prints ({placeholders} filled in by Python's str.format and JS's message()).
REMEDY_REEXPORT = "re-export the model with `m2v-edge export`"
MESSAGES = {
    "not_object": "{where}: expected a JSON object{got}; " + REMEDY_REEXPORT,
    "format_version": "{where}: format_version must be a positive integer, got {got}; " + REMEDY_REEXPORT,
    "newer": "{where}: format_version {version} is newer than this m2v-edge reads ({newest}); upgrade m2v-edge",
    "missing_keys": "{where}: missing keys {missing}; re-export the model with this version",
    "bad_key": "{where}: {key} must be {expected}, got {got}; " + REMEDY_REEXPORT,
    "tokenizer_ids": "{where}: tokenizer.json can produce ids up to {most} but the table has {rows} rows (vocab_size); "
    + REMEDY_REEXPORT,
    "graph_inputs": "{where}: the graph's inputs are {inputs}, expected {ids} (+ {mask}); " + REMEDY_REEXPORT,
    "graph_input_types": "{where}: graph inputs must be int64, got {got}; " + REMEDY_REEXPORT,
    "graph_output": "{where}: the graph has no {output} output (it has {outputs}); " + REMEDY_REEXPORT,
    "graph_fails": "{where}: the graph fails on ids 0..{last} ({why}); " + REMEDY_REEXPORT,
    "graph_width": "{where}: the graph outputs vectors of shape {shape} but dim is {dim}",
    "graph_nan": "{where}: the graph outputs NaN or inf; " + REMEDY_REEXPORT,
}
# config.json's checked keys (after format_version and REQUIRED_KEYS): key -> rule; CONFIG_RULE_TEXT says each.
CONFIG_RULES = {
    "dim": "positive_int",
    "vocab_size": "positive_int",
    "median_token_length": "positive_int",
    "max_length": "positive_int_or_null",
    "normalize": "bool",
    "dtype": "dtype",
    "pad_token_id": "token_id",
    "unk_token_id": "token_id_or_null",
    "output": "output",
    "pipeline_output": "bool",
}
CONFIG_RULE_TEXT = {
    "positive_int": "a positive integer",
    "positive_int_or_null": "a positive integer or null",
    "bool": "true or false",
    "dtype": "one of {dtypes}",
    "token_id": "an integer in 0..{last}",
    "token_id_or_null": "null or an integer in 0..{last}",
    "output": "{output}",
}


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
        check_folder_path(name, MODEL_FILE_KEY, self.config)
        if not name.endswith(".onnx"):
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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _follows(rule: str, value: object, config: dict[str, Any]) -> bool:
    """Whether ``value`` follows a CONFIG_RULES rule (ids are checked against ``vocab_size``)."""
    if rule.endswith("_or_null") and value is None:
        return True
    rule = rule.removesuffix("_or_null")
    if rule == "positive_int":
        return _is_int(value) and value >= 1  # type: ignore[operator]
    if rule == "token_id":
        return _is_int(value) and 0 <= value < config["vocab_size"]  # type: ignore[operator]
    if rule == "bool":
        return isinstance(value, bool)
    if rule == "dtype":
        return isinstance(value, str) and value in {d.value for d in DType}
    return value == OUTPUT


def check_config(config: object, file: Path | str) -> dict[str, Any]:
    """Check a parsed ``config.json``: ``format_version`` first, then every key's type and range.

    :raises ValueError: naming ``file``, the key and the remedy.
    """
    if not isinstance(config, dict):
        raise ValueError(MESSAGES["not_object"].format(where=file, got=f", got {type(config).__name__}"))
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(MESSAGES["format_version"].format(where=file, got=repr(version)))
    if version > FORMAT_VERSION:
        raise ValueError(MESSAGES["newer"].format(where=file, version=version, newest=FORMAT_VERSION))
    missing = [key for key in REQUIRED_KEYS if key not in config]
    if missing:
        raise ValueError(MESSAGES["missing_keys"].format(where=file, missing=missing))
    for key, rule in CONFIG_RULES.items():
        if key in config and not _follows(rule, config[key], config):
            vocab = config["vocab_size"]  # checked before the ids: only the ids' messages use ``last``
            last = vocab - 1 if _is_int(vocab) else None
            expected = CONFIG_RULE_TEXT[rule].format(last=last, dtypes=[d.value for d in DType], output=repr(OUTPUT))
            raise ValueError(MESSAGES["bad_key"].format(where=file, key=key, expected=expected, got=repr(config[key])))
    return config


def write_config(path: Path, config: dict[str, Any]) -> None:
    """Write ``config.json`` with stable key order."""
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- Integrity (docs/format.md, "Checksums" and "Paths"). config.json's CHECKSUMS_KEY: every other file's sha256
# by relative path; CHECKED_GRAPH_KEYS: what config.json and the config embedded in the graph must agree on.
CHECKSUMS_KEY = "files"
CHECKED_GRAPH_KEYS = ("dim", "vocab_size", "table_rows", "normalize", "unk_token_id", "median_token_length",
                      "source.sha256")  # fmt: skip
INTEGRITY_MESSAGES = {
    "checksum": "{file}: sha256 {got} differs from config.json's {expected} (the file was changed, corrupted or "
    "copied from another model); " + REMEDY_REEXPORT + " or copy the whole folder again",
    "unlisted": "{file}: not listed in config.json's files (a file copied into the folder?); " + REMEDY_REEXPORT,
    "bad_list": "{where}: files must map relative paths to sha256 hex strings, got {got}; " + REMEDY_REEXPORT,
    "graph_config": "{file}: the graph was exported for {key} {got}, config.json says {expected} (another model's "
    "graph?); " + REMEDY_REEXPORT,
    "no_checksums": "{where}: no checksums in config.json (exported before m2v-edge recorded them), so changed or "
    "mixed files cannot be detected; re-export the model to get them",
}
# A path config.json gives: percent-decoded up to FOLDER_PATH_DECODES times, no stage may match a rule's regex
# (the same in Python's re and JavaScript's RegExp). Python: check_folder_path; JS: checkFolderPath (config.js).
FOLDER_PATH_DECODES = 8
FOLDER_PATH_RULES = (
    ("%(?![0-9A-Fa-f]{2})", "has a malformed percent-escape"),
    ("[\\\\?#\\x00-\\x1f\\x7f]", "holds a backslash, ?, # or a control character"),
    ("^/|^[A-Za-z][A-Za-z0-9+.-]*:", "is absolute or a URL"),
    ("(^|/)[.]{0,2}(/|$)", "has an empty, . or .. segment"),
)
FOLDER_PATH_MESSAGE = "{where}: {key} {path} {why}; it must be a plain relative path inside the folder (" + (
    REMEDY_REEXPORT + ")"
)


def check_folder_path(path: str, key: str, where: Path | str) -> str:
    """``path`` unchanged if a plain relative path inside the folder (FOLDER_PATH_RULES), else a ValueError."""

    def refuse(why: str) -> ValueError:
        return ValueError(FOLDER_PATH_MESSAGE.format(where=where, key=key, path=json.dumps(path), why=why))

    seen = [path]
    for _ in range(FOLDER_PATH_DECODES):
        if re.search(FOLDER_PATH_RULES[0][0], seen[-1]):
            raise refuse(FOLDER_PATH_RULES[0][1])
        try:
            decoded = unquote(seen[-1], errors="strict")
        except UnicodeDecodeError:
            raise refuse(FOLDER_PATH_RULES[0][1]) from None
        if decoded == seen[-1]:
            break
        seen.append(decoded)
    else:
        raise refuse("is percent-encoded too many times")
    for text in seen:
        for pattern, why in FOLDER_PATH_RULES[1:]:
            if re.search(pattern, text):
                raise refuse(why)
    return path
