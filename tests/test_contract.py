"""One exported-folder contract for Python and JavaScript: web/src/contract.js is generated from contract.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from m2v_edge import StaticOnnxModel
from m2v_edge.contract import FORMAT_VERSION, INPUT_IDS, OUTPUT, REQUIRED_KEYS, read_config

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
