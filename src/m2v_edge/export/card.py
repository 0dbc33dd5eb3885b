"""The model card (``README.md``) written next to an export: Hub metadata, figures and usage everywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from m2v_edge.contract import LEGACY_MODEL_FILE, MODEL_FILE_KEY
from m2v_edge.export.isotropy import IsotropyResult
from m2v_edge.export.selfcheck import SelfCheck
from m2v_edge.runtime.facts import isotropy_fact
from m2v_edge.source.hub import is_repo_id

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
# `from_pretrained("org/name")` in a source card's usage snippet: how a local copy names its Hub id.
_FROM_PRETRAINED = re.compile(r"from_pretrained\(\s*[\"']([A-Za-z0-9][\w.-]*/[\w.-]+)[\"']")

_TEMPLATE = """\
---
{metadata}
---

# {name} ({dtype} ONNX)

A static text-embedding model exported by m2v-edge {version} from the Model2Vec model `{name}`
(table sha256 `{sha}`). A text's vector is the mean of its tokens' rows{norm}.

| | |
|---|---|
| dimensions | {dim} |
| vocabulary | {vocab} tokens ({rows} table rows) |
| table storage | {dtype}{scales} |
| graph | `{model_file}` |
| max tokens per text | {max_length} |
| ONNX opset | {opset} |
| self-check vs source | min cosine {min_cos:.5f}, mean {mean_cos:.5f} on {probes} probe texts |
| isotropy | {isotropy} |

## Use it

Python (`pip install m2v-edge`):

```python
from m2v_edge import StaticOnnxModel
model = StaticOnnxModel.from_pretrained("path/to/this/folder")
vectors = model.encode(["How do I train a neural network?"])
```

Browser and Node, with the `m2v-edge` npm package (int8 exports run on its own kernel; other dtypes need
`onnxruntime-web`, with `import {{ StaticOnnxModel }} from "m2v-edge/ort"` in a browser bundle):

```js
import {{ StaticOnnxModel }} from "m2v-edge";
const model = await StaticOnnxModel.load("path/to/this/folder/");
const vectors = await model.encode(["How do I train a neural network?"]);
```

transformers.js (`@huggingface/transformers` 4.x) loads the folder with no options
(`config.json` picks `{model_file}`):

```js
import {{ AutoModel, AutoTokenizer }} from "@huggingface/transformers";
const tokenizer = await AutoTokenizer.from_pretrained("path/to/this/folder");
const model = await AutoModel.from_pretrained("path/to/this/folder");
const inputs = tokenizer(["How do I train a neural network?"], {{ padding: true, truncation: true }});
const {{ embeddings }} = await model(inputs);
```

It logs `Unknown model class "m2v-edge-static-embedding"` once (harmless), and `{{ padding: true, truncation:
true }}` is needed. {pipeline}

Android (onnxruntime-android; iOS and React Native are alike): tokenize with `tokenizer.json`
(no special tokens), then

```kotlin
val env = OrtEnvironment.getEnvironment()
val session = env.createSession(modelBytes, OrtSession.SessionOptions())
val shape = longArrayOf(1, ids.size.toLong())
val inputs = mapOf(
    "input_ids" to OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape),
    "attention_mask" to OnnxTensor.createTensor(env, LongBuffer.wrap(LongArray(ids.size) {{ 1L }}), shape),
)
val vector = (session.run(inputs)[0].value as Array<FloatArray>)[0]
```

Graph: inputs `input_ids`, `attention_mask` (int64 `[batch, sequence]`), output `embeddings`
(float32 `[batch, {dim}]`). The graph drops the unknown token itself, so the tokenizer's raw ids give
{parity}; texts longer than {max_length} tokens are cut as described in m2v-edge's
`docs/format.md`. {license_line}
"""


def source_metadata(source_dir: Path | None) -> dict[str, str]:
    """Top-level scalar keys (``license``, ``base_model``, ...) of the source's README front matter and config."""
    found: dict[str, str] = {}
    if source_dir is None:
        return found
    try:
        config = json.loads((source_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        config = {}
    if isinstance(config, dict) and isinstance(config.get("license"), str):
        found["license"] = config["license"]
    try:
        readme = (source_dir / "README.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return found
    match = _FRONT_MATTER.match(readme)
    for line in match.group(1).splitlines() if match else []:
        key, sep, value = line.partition(":")
        value = value.strip().strip("'\"")
        if sep and key and not key.startswith((" ", "-", "#")) and value:
            found.setdefault(key.strip(), value)
    return found


def base_model_id(name: str, source_dir: Path | None) -> str | None:
    """The source's Hub id for ``base_model``, or ``None`` (a bare folder name is no Hub id).

    Its name when it came from the Hub cache; for a local folder, the id its own card loads in a
    ``from_pretrained("org/NAME")`` snippet when NAME is the folder's name.
    """
    if "/" in name and is_repo_id(name):
        return name
    try:
        readme = "" if source_dir is None else (source_dir / "README.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for repo in _FROM_PRETRAINED.findall(readme):
        if repo.split("/")[1].lower() == name.lower() and is_repo_id(repo):
            return repo
    return None


def card_metadata(config: dict[str, Any], source_dir: Path | None) -> str:
    """The YAML front matter: license carried over, base model, pipeline tag, library and tags."""
    meta = source_metadata(source_dir)
    lines = []
    if "license" in meta:
        lines.append(f"license: {meta['license']}")
    if "license_name" in meta:
        lines.append(f"license_name: {meta['license_name']}")
    base = base_model_id(config["source"]["name"], source_dir)
    lines += [
        *([f"base_model: {base}"] if base else []),
        "pipeline_tag: feature-extraction",
        "library_name: m2v-edge",
        "tags:",
        *(f"- {tag}" for tag in ("model2vec", "static-embeddings", "onnx", "transformers.js", "sentence-embeddings")),
        f"- {config['dtype']}",
    ]
    return "\n".join(lines)


_PIPELINE = """This export has the `last_hidden_state` output, so transformers.js's pipeline works too:

```js
import { pipeline } from "@huggingface/transformers";
const extractor = await pipeline("feature-extraction", "path/to/this/folder");
const vectors = await extractor(["How do I train a neural network?"], { pooling: "mean", normalize: true });
```

A text with no known token (empty, blank, only unknown tokens) gives NaN with `normalize: true` (transformers.js
divides by a zero norm): use `{ pooling: "mean" }` and normalize yourself, or `AutoModel` above."""
_NO_PIPELINE = """`pipeline("feature-extraction", ...)` does not work on this folder: the graph outputs the pooled
`embeddings`, not the per-token `last_hidden_state` the pipeline pools. Re-export with `m2v-edge export
--pipeline-output` to add that output (it costs every runtime up to ~1.4× per batch; m2v-edge's docs/web.md)."""


def write_card(
    path: Path,
    config: dict[str, Any],
    check: SelfCheck,
    isotropy: IsotropyResult | None = None,
    source_dir: Path | None = None,
) -> None:
    """Write the card from the config, the source's metadata and the self-check figures."""
    source = config["source"]
    applied = config.get("isotropy", {}).get("method") == "abtt"
    license_id = source_metadata(source_dir).get("license")
    text = _TEMPLATE.format(
        metadata=card_metadata(config, source_dir),
        name=source["name"],
        sha=source["sha256"][:16],
        version=config["m2v_edge_version"],
        norm=", L2-normalized" if config["normalize"] else "",
        dim=config["dim"],
        vocab=config["vocab_size"],
        rows=config["table_rows"],
        dtype=config["dtype"],
        scales=" with float32 per-row scales" if config["dtype"] == "int8" else "",
        model_file=config.get(MODEL_FILE_KEY, LEGACY_MODEL_FILE),
        max_length=config["max_length"],
        opset=config["opset"],
        min_cos=check.min_cosine,
        mean_cos=check.mean_cosine,
        probes=check.probes,
        isotropy=isotropy_fact(config.get("isotropy")),
        parity="this export's vectors (model2vec's under the isotropy map below)" if applied else "model2vec's vectors",
        license_line=f"License: `{license_id}`, the source model's." if license_id else "The source's license applies.",
        pipeline=_PIPELINE if config.get("pipeline_output") else _NO_PIPELINE,
    )
    if isotropy is not None:
        text += _isotropy_section(isotropy)
    path.write_text(text, encoding="utf-8")


def _isotropy_section(iso: IsotropyResult) -> str:
    """Before/after figures of ``--isotropy`` and what was chosen."""
    lines = ["", "## Isotropy (all-but-the-top)", "", iso.summary() + ".", ""]
    if iso.dev_spearman:
        lines += ["| map | STS-B dev Spearman × 100 |", "|---|---:|"]
        chosen = "none" if iso.chosen is None else f"abtt:{iso.chosen.k}"
        for key, value in iso.dev_spearman.items():
            mark = " (chosen)" if key == chosen else ""
            lines.append(f"| {key}{mark} | {value:.2f} |")
        lines.append("")
    if iso.chosen is not None:
        lines += [
            f"Every pooled vector x becomes (x − μ) − (x − μ)PᵀP (μ: mean, P: top {iso.chosen.k} principal directions",
            f"of pooled vectors of the fitting corpus) before normalization, folded into the {iso.where}.",
            "Vectors differ from model2vec's by design (compare exports with exports; `m2v-edge export",
            "--isotropy none` gives model2vec's vectors exactly).",
            "",
        ]
    return "\n".join(lines)
