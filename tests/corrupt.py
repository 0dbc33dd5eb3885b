"""Test support: corruptions of an exported folder, for tests/test_safety_load.py and scripts/make_corrupt_fixtures.py.

Each corruption is ``name -> (change(folder), expected)``: ``expected`` is a regex the load error must match,
or ``None`` when the folder must still load and give the original vectors.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from m2v_edge.contract import CHECKSUMS_KEY, ExportFiles
from m2v_edge.validate import file_sha256

# Texts short enough that any valid max_length >= 16 leaves their tokens alone.
PROBES = ["hello world", "The quick brown fox", "", "neural network training", "café naïve 🚀"]


def copy_export(src: Path, dst: Path) -> Path:
    """A copy of the export's files, in either layout (no hidden files)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".*"))
    return dst


def edit_config(folder: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    """Apply ``change`` to config.json (``change`` may mutate it or return a replacement, even a non-object)."""
    file = folder / "config.json"
    config = json.loads(file.read_text(encoding="utf-8"))
    result = change(config)
    file.write_text(json.dumps(config if result is None else result), encoding="utf-8")


def set_key(key: str, value: Any) -> Callable[[Path], None]:
    """A change that sets ``config[key] = value``."""
    return lambda folder: edit_config(folder, lambda c: c.__setitem__(key, value))


def rehash(folder: Path) -> None:
    """Record the files' current sha256 in config.json: a consistent folder, so the deeper checks are reached."""
    edit_config(folder, lambda c: c.__setitem__(CHECKSUMS_KEY, {n: file_sha256(folder / n) for n in c[CHECKSUMS_KEY]}))


def edit_graph(folder: Path, change: Callable[[Any], None]) -> None:
    """Load model.onnx with onnx, apply ``change(model)``, save it back (checksums updated)."""
    import onnx

    graph = ExportFiles(folder).model
    model = onnx.load(str(graph))
    change(model)
    onnx.save_model(model, str(graph))
    rehash(folder)


def flip_byte(folder: Path, name: str, where: float) -> None:
    """Invert the byte at fraction ``where`` of the file ``name`` (checksums left as they were)."""
    data = bytearray((folder / name).read_bytes())
    data[min(int(where * len(data)), len(data) - 1)] ^= 0xFF
    (folder / name).write_bytes(bytes(data))


def poison_tokens(folder: Path, ids: list[int]) -> None:
    """Set the int8 export's ``token_scale`` of ``ids`` to NaN: loads fine, but texts with them give NaN rows."""
    import numpy as np
    from onnx import numpy_helper

    def change(model: Any) -> None:
        for init in model.graph.initializer:
            if init.name == "token_scale":
                values = numpy_helper.to_array(init).copy()
                values[ids] = np.nan
                init.CopyFrom(numpy_helper.from_array(values, "token_scale"))
                return
        raise ValueError(f"{folder}: no token_scale initializer (export with --dtype int8)")

    edit_graph(folder, change)


def _rename_output(model: Any) -> None:
    import onnx

    old = model.graph.output[0].name
    model.graph.node.append(onnx.helper.make_node("Identity", [old], ["renamed_output"], name="rename_output"))
    model.graph.output[0].name = "renamed_output"


def _int32_inputs(model: Any) -> None:
    import onnx

    for graph_input in model.graph.input:
        graph_input.type.tensor_type.elem_type = onnx.TensorProto.INT32


def _add_token(folder: Path) -> None:
    """A tokenizer.json that can produce an id past the table (vocab_size)."""
    file = folder / "tokenizer.json"
    data = json.loads(file.read_text(encoding="utf-8"))
    size = json.loads((folder / "config.json").read_text(encoding="utf-8"))["vocab_size"]
    data["added_tokens"].append(
        {"id": size + 5, "content": "zzzextra", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": False}
    )  # fmt: skip
    file.write_text(json.dumps(data), encoding="utf-8")
    rehash(folder)


# The graph's embedded config disagrees with config.json (checked before the probe run).
_GRAPH_CONFIG = "the graph was exported for "


def catalogue(config: dict[str, Any]) -> dict[str, tuple[Callable[[Path], None], str | None]]:
    """The issue's broken folders (and a few harmless edits), for an export whose config is ``config``."""
    vocab = config["vocab_size"]
    return {
        "config_null": (lambda f: (f / "config.json").write_text("null"), "expected a JSON object"),
        "config_list": (lambda f: (f / "config.json").write_text("[1, 2]"), "expected a JSON object"),
        "format_version_null": (set_key("format_version", None), "format_version must be a positive integer"),
        "format_version_string": (set_key("format_version", "1"), "format_version must be a positive integer"),
        "format_version_newer": (set_key("format_version", 99), "newer than this m2v-edge reads"),
        "dim_wrong": (set_key("dim", config["dim"] * 2), f"dim is|{_GRAPH_CONFIG}dim"),
        "dim_string": (set_key("dim", "16"), "dim must be a positive integer"),
        "max_length_negative": (set_key("max_length", -1), "max_length must be a positive integer or null"),
        "median_token_length_zero": (set_key("median_token_length", 0), "median_token_length must be a positive"),
        "normalize_string": (set_key("normalize", "yes"), "normalize must be true or false"),
        "dtype_list": (set_key("dtype", []), "dtype must be one of"),
        "pad_out_of_range": (set_key("pad_token_id", vocab + 10), "pad_token_id must be an integer in"),
        "unk_out_of_range": (set_key("unk_token_id", -3), "unk_token_id must be null or an integer in"),
        "vocab_size_too_big": (
            set_key("vocab_size", vocab + 1000),
            f"the graph fails on ids|{_GRAPH_CONFIG}vocab_size",
        ),
        "vocab_size_too_small": (
            set_key("vocab_size", 5),
            f"tokenizer.json can produce ids up to|{_GRAPH_CONFIG}vocab_size",
        ),
        "tokenizer_more_tokens": (_add_token, "tokenizer.json can produce ids up to"),
        "output_renamed": (lambda f: edit_graph(f, _rename_output), "no 'embeddings' output|no \"embeddings\" output"),
        "inputs_int32": (lambda f: edit_graph(f, _int32_inputs), "int64|cannot load it"),
        "model_truncated": (_truncate_graph, "cannot load it"),
        "model_byte_flipped": (lambda f: flip_byte(f, ExportFiles(f).model_name, 0.5), "differs from config.json"),
        "tokenizer_edited": (_edit_token, "tokenizer.json: sha256 .* differs from config.json"),
        "checksums_not_hex": (set_key(CHECKSUMS_KEY, {"tokenizer.json": "zz"}), "files must map relative paths"),
        "checksums_escape": (_escape_checksums, "plain relative path inside the folder"),
        "checksums_miss_graph": (_unlist_graph, "not listed in config.json's files"),
        "harmless_dtype_label": (set_key("dtype", "float32"), None),
        "harmless_max_length_bigger": (set_key("max_length", 4096), None),
        "harmless_extra_key": (set_key("comment", "hello"), None),
    }


def _truncate_graph(folder: Path) -> None:
    """The graph cut to 300 bytes, checksums updated: onnxruntime's own refusal is reached."""
    graph = ExportFiles(folder).model
    graph.write_bytes(graph.read_bytes()[:300])
    rehash(folder)


def _edit_token(folder: Path) -> None:
    """An edited token string in tokenizer.json: same ids, other text -> other vectors, caught by the checksum."""
    file = folder / "tokenizer.json"
    text = file.read_text(encoding="utf-8")
    assert '"quick"' in text
    file.write_text(text.replace('"quick"', '"qu1ck"', 1), encoding="utf-8")


def _unlist_graph(folder: Path) -> None:
    name = ExportFiles(folder).model_name
    edit_config(folder, lambda c: c[CHECKSUMS_KEY].__delitem__(name))


def _escape_checksums(folder: Path) -> None:
    edit_config(folder, lambda c: c[CHECKSUMS_KEY].__setitem__("%2e%2e/other/tokenizer.json", "0" * 64))
