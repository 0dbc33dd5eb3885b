"""One exported-folder contract for Python and JavaScript: web/src/contract.js is generated from contract.py."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from m2v_edge import StaticOnnxModel
from m2v_edge.contract import (
    COSINE_NORM_FLOOR,
    FORMAT_VERSION,
    INPUT_IDS,
    MAX_GRAPH_ROWS,
    NORM_EPSILON,
    OUTPUT,
    POOLING_FLAGS,
    POOLING_SPEC_KEY,
    POOLING_SPEC_VERSION,
    REQUIRED_KEYS,
    VECTOR_HEADER_SIZE,
    VECTOR_MAGIC,
    pooling_nodes,
    read_config,
)

ROOT = Path(__file__).resolve().parents[1]
WEB_SRC = ROOT / "web" / "src"


def test_committed_contract_js_is_what_the_script_generates() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_contract.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr.strip() or done.stdout.strip()


def test_contract_js_holds_the_python_values() -> None:
    text = (WEB_SRC / "contract.js").read_text(encoding="utf-8")
    assert f"export const FORMAT_VERSION = {FORMAT_VERSION};" in text
    assert f"export const REQUIRED_KEYS = Object.freeze({json.dumps(list(REQUIRED_KEYS))});" in text
    assert f'export const INPUT_IDS = "{INPUT_IDS}";' in text and f'export const OUTPUT = "{OUTPUT}";' in text


def test_web_sources_read_the_contract_instead_of_copying_it() -> None:
    for name in ("config.js", "sources.js", "model.js", "kernel.js", "graph-spec.js"):
        text = (WEB_SRC / name).read_text(encoding="utf-8")
        assert 'from "./contract.js"' in text, f"{name} does not import the contract"
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("*", "/", "//")))
        literals = re.findall(r'"(input_ids|attention_mask|embeddings|model\.onnx|config\.json|tokenizer\.json)"', code)
        assert not literals, f"{name} hard-codes {literals}; use contract.js"
        assert "REQUIRED_KEYS = [" not in text, f"{name} copies REQUIRED_KEYS"


def _future_folder(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    config = json.loads((dst / "config.json").read_text(encoding="utf-8"))
    config["format_version"] = FORMAT_VERSION + 1
    del config["median_token_length"]  # a future format may rename keys: the version must be checked first
    (dst / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return dst


def test_future_format_version_says_upgrade_in_python(tmp_path: Path, potion_int8: Path) -> None:
    folder = _future_folder(potion_int8, tmp_path / "future")
    message = f"format_version {FORMAT_VERSION + 1} is newer than this m2v-edge reads .*; upgrade m2v-edge"
    with pytest.raises(ValueError, match=message):
        read_config(folder)
    with pytest.raises(ValueError, match=message):
        StaticOnnxModel.from_pretrained(folder)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_future_format_version_says_upgrade_in_node(tmp_path: Path, potion_int8: Path) -> None:
    folder = _future_folder(potion_int8, tmp_path / "future")
    script = (
        f'import {{ parseConfig }} from "{(WEB_SRC / "config.js").as_uri()}";\n'
        f"const raw = process.argv[1];\n"
        "try { parseConfig(raw, 'config.json'); console.log('accepted'); } catch (err) { console.log(err.message); }\n"
    )
    raw = (folder / "config.json").read_text(encoding="utf-8")
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script, raw], capture_output=True, text=True, check=True
    )
    assert re.search(f"format_version {FORMAT_VERSION + 1} is newer .*upgrade m2v-edge", done.stdout), done.stdout


def test_generated_contract_holds_the_shared_constants() -> None:
    from m2v_edge.corpus import vectorfile
    from m2v_edge.runtime import model, similarity

    text = (WEB_SRC / "contract.js").read_text(encoding="utf-8")
    assert f"export const MAX_GRAPH_ROWS = {MAX_GRAPH_ROWS};" in text and f"NORM_EPSILON = {NORM_EPSILON};" in text
    assert model.MAX_GRAPH_ROWS == MAX_GRAPH_ROWS, "runtime/model.py must use contract.MAX_GRAPH_ROWS"
    tiny = similarity.normalize_rows(np.array([[COSINE_NORM_FLOOR / 10, 0.0]]))
    assert tiny[0, 0] == pytest.approx(0.1), "runtime/similarity.py must floor norms at contract.COSINE_NORM_FLOOR"
    assert vectorfile._HEADER.size == VECTOR_HEADER_SIZE and vectorfile.MAGIC == VECTOR_MAGIC
    for name in ("validate.js", "vectors.js", "model.js"):
        source = (WEB_SRC / name).read_text(encoding="utf-8")
        assert 'from "./contract.js"' in source, name
        assert "re-export the model with `m2v-edge export`" not in source, f"{name} writes the remedy by hand"
    assert "M2VEVEC" not in (WEB_SRC / "vectors.js").read_text(encoding="utf-8")


def test_exported_graph_declares_its_pooling_spec_and_holds_exactly_its_nodes(potion_int8: Path) -> None:
    import onnx

    from m2v_edge.contract import ExportFiles

    model = onnx.load(str(ExportFiles(potion_int8).model))
    props = {p.key: p.value for p in model.metadata_props}
    spec = json.loads(props[POOLING_SPEC_KEY])
    assert spec.pop("version") == POOLING_SPEC_VERSION and set(spec) == set(POOLING_FLAGS)
    got = [(n.op_type, list(n.input), n.output[0]) for n in model.graph.node]
    assert got == [(op, inputs, output) for op, inputs, output, _ in pooling_nodes(spec)]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_js_expands_the_node_table_as_python_does() -> None:
    combos = [
        dict(zip(POOLING_FLAGS, bits, strict=True))
        for bits in itertools.product([False, True], repeat=len(POOLING_FLAGS))
    ]
    script = (
        f'import {{ poolingNodes }} from "{(WEB_SRC / "graph-spec.js").as_uri()}";\n'
        "const combos = JSON.parse(process.argv[1]);\n"
        "const rows = (f) => poolingNodes(f).map((n) => [n.op, n.inputs, n.output, n.attrs]);\n"
        "console.log(JSON.stringify(combos.map(rows)));\n"
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script, json.dumps(combos)], capture_output=True, text=True, check=True
    )
    want = [[[op, inputs, output, attrs] for op, inputs, output, attrs in pooling_nodes(f)] for f in combos]
    assert json.loads(done.stdout) == want
