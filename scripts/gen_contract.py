"""Generate ``web/src/contract.js`` from ``m2v_edge.contract``: the exported folder's contract for JavaScript.

One source of truth for both languages: config keys, file names, graph input/output names, format version,
opset; and the sqlite-vec stores' table layout and SQL (``m2v_edge.integrations.sqlite_store.SQLITE_VEC``).
``tests/test_contract.py`` fails when the committed file differs from what this script writes.

Usage: ``.venv/bin/python scripts/gen_contract.py [--check]`` (``--check``: exit 1 if the file is stale).
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
from pathlib import Path

from m2v_edge import contract as fmt
from m2v_edge.integrations.sqlite_store import SQLITE_VEC

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "web" / "src" / "contract.js"


def _js(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return f"Object.freeze({text})" if isinstance(value, (list, dict)) else text


def _vector_file() -> dict[str, object]:
    """The header's fields at their byte offsets, from the struct format (one source for both languages)."""
    layout = fmt.VECTOR_HEADER_FORMAT
    fields = _field_codes(layout[1:])
    offsets = {
        name: struct.calcsize(layout[0] + "".join(fields[:i])) for i, name in enumerate(fmt.VECTOR_HEADER_FIELDS)
    }
    return {
        "magic": fmt.VECTOR_MAGIC.decode("latin1"),
        "version": fmt.VECTOR_VERSION,
        "headerSize": fmt.VECTOR_HEADER_SIZE,
        "offsets": offsets,
        "fingerprintBytes": struct.calcsize(fields[fmt.VECTOR_HEADER_FIELDS.index("fingerprint")]),
        "dtypeCodes": fmt.VECTOR_DTYPE_CODES,
        "scaleAlign": fmt.VECTOR_SCALE_ALIGN,
    }


def _field_codes(layout: str) -> list[str]:
    """``"8sHHIQ32s8x"`` -> ``["8s", "H", "H", "I", "Q", "32s", "8x"]``."""
    return re.findall(r"\d*[a-zA-Z?]", layout)


def render() -> str:
    """The text of ``contract.js``."""
    files = fmt.ExportFiles(Path("."), fmt.LEGACY_MODEL_FILE)  # format-1 names; format 2 names the graph in config
    names = {
        "model": files.model.name,
        "tokenizer": files.tokenizer.name,
        "config": files.config.name,
        "card": files.card.name,
        "ortModel": files.ort_model.name,
    }
    constants = [
        ("FORMAT_VERSION", fmt.FORMAT_VERSION, "Newest config.json format_version this package reads"),
        ("OPSET", fmt.OPSET, "ONNX opset of the exported graph"),
        ("IR_VERSION", fmt.IR_VERSION, "ONNX IR version of the exported graph"),
        ("INPUT_IDS", fmt.INPUT_IDS, "Graph input: int64 [batch, sequence] token ids"),
        ("ATTENTION_MASK", fmt.ATTENTION_MASK, "Graph input: int64 [batch, sequence], 1 for a token, 0 for padding"),
        ("INPUTS", [fmt.INPUT_IDS, fmt.ATTENTION_MASK], "Graph inputs, in order"),
        ("OUTPUT", fmt.OUTPUT, "Graph output: float32 [batch, dim]"),
        ("METADATA_KEY", fmt.METADATA_KEY, "The model.onnx metadata_props key holding the whole config"),
        ("REQUIRED_KEYS", list(fmt.REQUIRED_KEYS), "The config.json keys every runtime needs"),
        ("DTYPES", [d.value for d in fmt.DType], "Table storage types"),
        ("FILES", names, "File names of an exported folder"),
        ("MODEL_FILE_KEY", fmt.MODEL_FILE_KEY, "config.json key naming the graph's path in the folder (format 2)"),
        ("HF_MODEL_FILES", {d.value: f for d, f in fmt.HF_MODEL_FILES.items()}, "Graph path per dtype, hf layout"),
        ("MAX_GRAPH_ROWS", fmt.MAX_GRAPH_ROWS, "Rows per graph call in every runtime"),
        ("PAD_MIN_STEP", fmt.PAD_MIN_STEP, "Width rule: the smallest padding step (docs/format.md)"),
        ("PAD_STEP_BITS", fmt.PAD_STEP_BITS, "Width rule: step = max(PAD_MIN_STEP, 2^(bitlength(n - 1) - this))"),
        ("NORM_EPSILON", fmt.NORM_EPSILON, "Added to each L2 norm before dividing (a float32 in the graph)"),
        ("COSINE_NORM_FLOOR", fmt.COSINE_NORM_FLOOR, "Cosine divides each vector by max(norm, this): zero scores 0"),
        ("VECTOR_FILE", _vector_file(), "The .m2vec vector file: header layout (byte offsets), dtype codes"),
        ("SQLITE_VEC", SQLITE_VEC, "sqlite-vec stores (sqlite_store.py): table layout, SQL with {table} and {dim}"),
        ("POOLING_SPEC_KEY", fmt.POOLING_SPEC_KEY, "metadata_props key of the graph's declared pooling spec"),
        ("POOLING_SPEC_VERSION", fmt.POOLING_SPEC_VERSION, "Newest pooling spec version"),
        ("POOLING_FLAGS", list(fmt.POOLING_FLAGS), "The pooling spec's flags"),
        ("POOLING_OPTIONAL_FLAGS", list(fmt.POOLING_OPTIONAL_FLAGS), "Flags a spec may lack (then false)"),
        ("POOLING_NODES", [list(n) for n in fmt.POOLING_NODES], "Node table [op, inputs, output, attrs, flag]"),
        ("POOLING_SLOT_DEFAULTS", fmt.POOLING_SLOT_DEFAULTS, "Value of a slot no node has set yet"),
        ("HIDDEN_OUTPUT", fmt.HIDDEN_OUTPUT, "Optional graph output: float32 [batch, sequence, dim], for pipelines"),
        ("HIDDEN_NODES", [list(n) for n in fmt.HIDDEN_NODES], "Nodes of HIDDEN_OUTPUT [op, inputs, output, attrs]"),
        ("REMEDY_REEXPORT", fmt.REMEDY_REEXPORT, "The remedy for a folder that breaks its contract"),
        ("MESSAGES", fmt.MESSAGES, "Messages with {placeholders}, the same in every runtime"),
        ("CONFIG_RULES", fmt.CONFIG_RULES, "config.json key -> rule"),
        ("CONFIG_RULE_TEXT", fmt.CONFIG_RULE_TEXT, "What each rule asks for, in messages"),
        ("CHECKSUMS_KEY", fmt.CHECKSUMS_KEY, "config.json key: relative path -> sha256 hex of every other file"),
        ("CHECKED_GRAPH_KEYS", list(fmt.CHECKED_GRAPH_KEYS), "Keys config.json and the graph's config must agree on"),
        ("INTEGRITY_MESSAGES", fmt.INTEGRITY_MESSAGES, "Checksum and consistency messages, with {placeholders}"),
        ("FOLDER_PATH_DECODES", fmt.FOLDER_PATH_DECODES, "Percent-decodings applied before the path rules"),
        (
            "FOLDER_PATH_RULES",
            [list(r) for r in fmt.FOLDER_PATH_RULES],
            "[regex, why]: a config path matching one is refused",
        ),
        ("FOLDER_PATH_MESSAGE", fmt.FOLDER_PATH_MESSAGE, "The refusal of a config path, with {placeholders}"),
    ]
    lines = [
        "/**",
        " * The exported folder's contract (docs/format.md), shared with Python's `m2v_edge.contract`.",
        " *",
        " * GENERATED by scripts/gen_contract.py from src/m2v_edge/contract.py: do not edit by hand; edit contract.py",
        " * and run `.venv/bin/python scripts/gen_contract.py` (tests/test_contract.py checks the two agree).",
        " */",
        "",
    ]
    for name, value, doc in constants:
        lines += [f"/** {doc}. */", f"export const {name} = {_js(value)};"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file differs")
    args = parser.parse_args(argv)
    text = render()
    current = TARGET.read_text(encoding="utf-8") if TARGET.is_file() else None
    if args.check:
        if current != text:
            print(f"{TARGET}: stale; run .venv/bin/python scripts/gen_contract.py", file=sys.stderr)
            return 1
        print(f"{TARGET}: up to date")
        return 0
    if current != text:
        TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
