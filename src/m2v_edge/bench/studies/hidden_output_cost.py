"""What the `last_hidden_state` output of `export --pipeline-output` costs the runtimes that never ask for it.

transformers.js's `pipeline("feature-extraction", dir, {pooling: "mean"})` pools a per-token
`last_hidden_state` [batch, tokens, dim]; `--pipeline-output` adds one (contract.HIDDEN_NODES: the pooled vector
times the attention mask, so its masked mean is the vector). onnxruntime does not skip nodes whose outputs are
not requested (the profiler run below shows it), so this script measures, side by side in one run, a default
export's graph and the same graph with exactly those nodes, both run for `embeddings` only (what the Python
runtime and the npm package's ORT backend request): on unseen STS-B sentences and ~500-character passages
(a fresh slice of `--rows` texts per repeat, tokenized by the export's tokenizer, padded to the longest), then on
fresh random ids at fixed widths. The two graphs alternate which runs first. The variant is written to a
temporary folder; the export is not touched.

    python -m m2v_edge.bench.studies.hidden_output_cost out/potion-int8 [--rows 128] [--repeats 20]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from m2v_edge.bench.studies import study_parser


def with_hidden_output(graph_path: Path, out_path: Path) -> None:
    """The graph plus the nodes `--pipeline-output` adds (contract.HIDDEN_NODES, as graph.build_graph adds them)."""
    import onnx
    from onnx import TensorProto, helper

    from m2v_edge.contract import HIDDEN_NODES, HIDDEN_OUTPUT

    model = onnx.load(str(graph_path))
    graph = model.graph
    if any(o.name == HIDDEN_OUTPUT for o in graph.output):
        raise SystemExit(f"{graph_path}: already has {HIDDEN_OUTPUT}; give a default export")
    dim = graph.output[0].type.tensor_type.shape.dim[1].dim_value
    graph.initializer.append(helper.make_tensor("axis2", TensorProto.INT64, [1], [2]))
    graph.node.extend(helper.make_node(op, list(ins), [out], name=out, **at) for op, ins, out, at in HIDDEN_NODES)
    shape = ["batch", "sequence", dim]
    graph.output.append(helper.make_tensor_value_info(HIDDEN_OUTPUT, TensorProto.FLOAT, shape))
    onnx.checker.check_model(model)
    onnx.save(model, str(out_path))


Batch = tuple[np.ndarray, np.ndarray]


def text_batches(export: Path, rows: int, repeats: int) -> dict[str, list[Batch]]:
    """Per kind of text, up to `repeats` padded (ids, mask) batches of `rows` unseen texts each (no text repeats)."""
    from m2v_edge.bench.data import unseen_pools
    from m2v_edge.contract import read_config
    from m2v_edge.runtime.tokenize import TextTokenizer

    config = read_config(export)
    tokenizer = TextTokenizer.from_tokenizer_json(
        (export / "tokenizer.json").read_text(encoding="utf-8"), config["max_length"]
    )
    out: dict[str, list[Batch]] = {}
    for kind, pool in unseen_pools().items():
        batches = []
        for start in range(0, min(len(pool), rows * repeats) - rows + 1, rows):
            ids = tokenizer.encode_ids(pool[start : start + rows])
            width = max(1, *map(len, ids))
            padded = np.array([row + [config["pad_token_id"]] * (width - len(row)) for row in ids], np.int64)
            batches.append((padded, np.array([[1] * len(row) + [0] * (width - len(row)) for row in ids], np.int64)))
        out[kind] = batches
    return out


def ran_nodes(graph_path: Path) -> list[str]:
    """The outputs of the nodes onnxruntime's profiler saw run for a request of `embeddings` only."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.enable_profiling = True
    options.profile_file_prefix = str(graph_path.with_suffix(""))
    session = ort.InferenceSession(str(graph_path), options)
    ids = np.full((2, 4), 2, np.int64)
    session.run(["embeddings"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    events = json.loads(Path(session.end_profiling()).read_text(encoding="utf-8"))
    return sorted({e["name"].removesuffix("_kernel_time") for e in events if e.get("cat") == "Node"})


def main(argv: list[str] | None = None) -> int:
    parser = study_parser(__file__, __doc__)
    parser.add_argument("export", type=Path, help="an exported folder (int8, as `m2v-edge export` writes)")
    parser.add_argument("--rows", type=int, default=128, help="rows per batch (the runtime's MAX_GRAPH_ROWS)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 64, 512])
    args = parser.parse_args(argv)

    import onnxruntime as ort

    config = json.loads((args.export / "config.json").read_text(encoding="utf-8"))
    graph = args.export / config.get("model_file", "model.onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    with tempfile.TemporaryDirectory() as tmp:
        variant = Path(tmp) / "with_hidden.onnx"
        with_hidden_output(graph, variant)
        sessions = {
            "as exported": ort.InferenceSession(str(graph), options),
            "+ last_hidden_state": ort.InferenceSession(str(variant), options),
        }
        from m2v_edge.contract import HIDDEN_NODES

        added = [name for name in ran_nodes(variant) if name in {node[2] for node in HIDDEN_NODES}]
        print(f"added nodes onnxruntime ran for `embeddings` alone: {added}")
        rng = np.random.default_rng(0)
        print(f"{graph}: {args.rows} rows per batch, 1 thread, only `embeddings` requested; ms per batch")
        cases = {
            f"unseen {kind} ({len(b)} batches)": b
            for kind, b in text_batches(args.export, args.rows, args.repeats).items()
        }
        for width in args.widths:
            shape = (args.rows, width)
            cases[f"random ids, width {width}"] = [
                (rng.integers(2, config["vocab_size"], size=shape).astype(np.int64), np.ones(shape, np.int64))
                for _ in range(args.repeats)
            ]
        for label, batches in cases.items():
            seconds = dict.fromkeys(sessions, 0.0)
            same = True
            for i, (ids, mask) in enumerate(batches):  # a fresh batch per repeat; the graphs alternate going first
                feeds = {"input_ids": ids, "attention_mask": mask}
                outs = {}
                for name in list(sessions)[:: 1 if i % 2 == 0 else -1]:
                    started = time.perf_counter()
                    outs[name] = sessions[name].run(["embeddings"], feeds)[0]
                    seconds[name] += time.perf_counter() - started
                same = same and np.array_equal(*outs.values())
            plain, hidden = (s / len(batches) * 1e3 for s in seconds.values())
            print(
                f"{label:34s}: as exported {plain:8.2f}, + last_hidden_state {hidden:8.2f}, "
                f"ratio {hidden / plain:.2f}, same embeddings: {same}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
