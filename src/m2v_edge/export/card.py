"""The short model card (``README.md``) written next to an export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from m2v_edge.export.isotropy import IsotropyResult
from m2v_edge.export.selfcheck import SelfCheck

_TEMPLATE = """\
---
library_name: m2v-edge
tags: [model2vec, static-embeddings, onnx, {dtype}]
---

# {name} ({dtype} ONNX)

A static text-embedding model exported by m2v-edge {version} from the Model2Vec model `{name}`
(table sha256 `{sha}`). A text's vector is the mean of its tokens' rows{norm}.

| | |
|---|---|
| dimensions | {dim} |
| vocabulary | {vocab} tokens ({rows} table rows) |
| table storage | {dtype}{scales} |
| max tokens per text | {max_length} |
| ONNX opset | {opset} |
| self-check vs source | min cosine {min_cos:.5f}, mean {mean_cos:.5f} on {probes} probe texts |

## Use it

```python
from m2v_edge import StaticOnnxModel
model = StaticOnnxModel.from_pretrained("path/to/this/folder")
vectors = model.encode(["How do I train a neural network?"])
```

Graph: inputs `input_ids`, `attention_mask` (int64 `[batch, sequence]`), output `embeddings`
(float32 `[batch, {dim}]`). Tokenize with `tokenizer.json` by the rules in `config.json`
(see m2v-edge's `docs/format.md`). The source model's license applies to these weights.
"""


def write_card(path: Path, config: dict[str, Any], check: SelfCheck, isotropy: IsotropyResult | None = None) -> None:
    """Write the card from the config and the self-check figures."""
    source = config["source"]
    text = _TEMPLATE.format(
        name=source["name"],
        sha=source["sha256"][:16],
        version=config["m2v_edge_version"],
        norm=", L2-normalized" if config["normalize"] else "",
        dim=config["dim"],
        vocab=config["vocab_size"],
        rows=config["table_rows"],
        dtype=config["dtype"],
        scales=" with float32 per-row scales" if config["dtype"] == "int8" else "",
        max_length=config["max_length"],
        opset=config["opset"],
        min_cos=check.min_cosine,
        mean_cos=check.mean_cosine,
        probes=check.probes,
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
            "Vectors differ from the source model2vec's: compare exports with exports.",
            "",
        ]
    return "\n".join(lines)
