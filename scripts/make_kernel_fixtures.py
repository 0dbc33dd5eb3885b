"""Write the graph variants the JavaScript pooling kernel is checked against (``web/test/kernel.test.js``).

Every option of ``m2v_edge.export.graph.build_graph`` (vocabulary keep mask, unknown-token id, row map, model2vec
weights, isotropy shift, normalize, the pipeline's ``last_hidden_state`` output; a pooling spec declared before its
``hidden`` flag existed), on small seeded int8 tables, plus graphs the kernel must refuse (a float32
table, a changed epsilon). For each: ``<name>.onnx`` and, in ``cases.json``, id/mask batches (padding, unknown
ids, empty rows) with the outputs of Python's onnxruntime on them.

Usage: ``.venv/bin/python scripts/make_kernel_fixtures.py [--out web/.fixtures/kernel]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.contract import OUTPUT, POOLING_SPEC_KEY
from m2v_edge.export.graph import build_graph
from m2v_edge.export.quantize import StoredTable, quantize_int8

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "web" / ".fixtures" / "kernel"
VOCAB = 60
UNK = 3

# name: (dim, options, the kernel runs it)
VARIANTS: dict[str, tuple[int, dict[str, bool], bool]] = {
    "scale-normalize": (32, {"normalize": True}, True),
    "keep-rowmap-dim20": (20, {"normalize": True, "keep": True, "row_map": True}, True),
    "unk-bias": (48, {"normalize": True, "unk": True, "bias": True}, True),
    "keep-bias-raw": (16, {"normalize": False, "keep": True, "bias": True}, True),
    "unk-rowmap-bias-dim20": (20, {"normalize": True, "unk": True, "row_map": True, "bias": True}, True),
    "no-scale-raw": (24, {"normalize": False, "no_scale": True}, True),
    "unk-hidden": (16, {"normalize": True, "unk": True, "hidden": True}, True),
    "keep-spec-before-hidden": (16, {"normalize": True, "keep": True, "old_spec": True}, True),
    "float32-table": (16, {"normalize": True, "float": True}, False),
    "other-epsilon": (16, {"normalize": True, "epsilon": True}, False),
}


def variant(dim: int, opts: dict[str, bool], rng: np.random.Generator) -> Any:
    """One graph, built by the exporter's own ``build_graph``."""
    rows = VOCAB - 10 if opts.get("row_map") else VOCAB
    source = rng.normal(size=(rows, dim)).astype(np.float32)
    table = StoredTable(source, None) if opts.get("float") else quantize_int8(source)
    scale = None if opts.get("no_scale") or table.scales is None else table.scales.copy()
    row_map = rng.integers(0, rows, size=VOCAB).astype(np.int32) if opts.get("row_map") else None
    if row_map is not None and scale is not None:
        scale = scale[row_map] * rng.uniform(0.5, 2.0, size=VOCAB).astype(np.float32)  # model2vec weights too
    keep = None
    if opts.get("keep"):
        keep = (rng.uniform(size=VOCAB) > 0.2).astype(np.float32)
        keep[UNK] = 0.0
    model = build_graph(
        table,
        normalize=opts["normalize"],
        config={"variant": True},
        token_scale=scale,
        row_map=row_map,
        token_keep=keep,
        unk_token_id=UNK if opts.get("unk") else None,
        bias=rng.normal(size=dim).astype(np.float32) if opts.get("bias") else None,
        pipeline_output=opts.get("hidden", False),
    )
    if opts.get("old_spec"):  # as exports before the ``hidden`` flag declared it
        prop = next(p for p in model.metadata_props if p.key == POOLING_SPEC_KEY)
        prop.value = json.dumps({k: v for k, v in json.loads(prop.value).items() if k != "hidden"}, sort_keys=True)
    if opts.get("epsilon"):
        tiny = next(init for init in model.graph.initializer if init.name == "tiny")
        tiny.raw_data = np.array(1e-12, dtype=np.float32).tobytes()
    return model


def batches(rng: np.random.Generator) -> list[dict[str, Any]]:
    """Padded batches: random ids, an empty row, a row of unknown ids only, repeats."""
    out = []
    for batch, width in [(1, 1), (5, 9), (7, 23)]:
        ids = rng.integers(0, VOCAB, size=(batch, width))
        lengths = rng.integers(0, width + 1, size=batch)
        if batch > 1:
            lengths[0] = 0
            ids[1, :] = UNK
            lengths[1] = width
        mask = (np.arange(width)[None, :] < lengths[:, None]).astype(np.int64)
        ids = np.where(mask == 1, ids, 0)
        out.append({"ids": ids.tolist(), "mask": mask.tolist()})
    return out


def main(argv: list[str] | None = None) -> int:
    """Write every variant and its cases."""
    import onnx
    import onnxruntime as ort

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder (default web/.fixtures/kernel)")
    out: Path = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2026)
    cases = []
    for name, (dim, opts, supported) in VARIANTS.items():
        model = variant(dim, opts, rng)
        path = out / f"{name}.onnx"
        onnx.save_model(model, str(path))
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        runs = []
        for feed in batches(rng):
            ids, mask = np.array(feed["ids"], dtype=np.int64), np.array(feed["mask"], dtype=np.int64)
            (vectors,) = session.run([OUTPUT], {"input_ids": ids, "attention_mask": mask})
            runs.append({**feed, "vectors": vectors.astype(float).tolist()})
        cases.append(
            {"name": name, "file": path.name, "dim": dim, "vocab": VOCAB, "supported": supported, "runs": runs}
        )
    (out / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
    print(f"make_kernel_fixtures: {len(cases)} graph variants in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
