"""What a `last_hidden_state` graph output would cost the runtimes that never ask for it.

transformers.js's `pipeline("feature-extraction", dir, {pooling: "mean"})` pools a per-token
`last_hidden_state` [batch, tokens, dim]; an export could add one (the pooled vector times the attention mask,
so its masked mean is the vector). onnxruntime does not skip nodes whose outputs are not requested, so this
script measures, side by side in one run, the export's graph as it is and the same graph with that output,
both run for `embeddings` only (what the Python runtime and the npm package's ORT backend request), on fresh
batches of random ids at several widths. The variant is written to a temporary folder; the export is not touched.

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
    """The graph plus last_hidden_state = Unsqueeze(embeddings, 1) * Unsqueeze(mask_f, 2)."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(graph_path))
    graph = model.graph
    dim = graph.output[0].type.tensor_type.shape.dim[1].dim_value
    graph.initializer.append(helper.make_tensor("axis2", TensorProto.INT64, [1], [2]))
    graph.node.extend(
        [
            helper.make_node("Unsqueeze", ["embeddings", "axis1"], ["embeddings3"]),
            helper.make_node("Unsqueeze", ["mask_f", "axis2"], ["mask3"]),
            helper.make_node("Mul", ["embeddings3", "mask3"], ["last_hidden_state"]),
        ]
    )
    shape = ["batch", "sequence", dim]
    graph.output.append(helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, shape))
    onnx.checker.check_model(model)
    onnx.save(model, str(out_path))


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
        added = [name for name in ran_nodes(variant) if name.startswith(("Unsqueeze", "Mul"))]
        print(f"added nodes onnxruntime ran for `embeddings` alone: {added}")
        rng = np.random.default_rng(0)
        print(f"{graph}: {args.rows} rows per batch, 1 thread, only `embeddings` requested; ms per batch")
        for width in args.widths:
            seconds = dict.fromkeys(sessions, 0.0)
            mask = np.ones((args.rows, width), np.int64)
            same = True
            for _ in range(args.repeats):  # a fresh batch per repeat, the two graphs alternating
                ids = rng.integers(2, config["vocab_size"], size=(args.rows, width)).astype(np.int64)
                outs = []
                for name, session in sessions.items():
                    started = time.perf_counter()
                    outs.append(session.run(["embeddings"], {"input_ids": ids, "attention_mask": mask})[0])
                    seconds[name] += time.perf_counter() - started
                same = same and np.array_equal(outs[0], outs[1])
            ms = {name: s / args.repeats * 1e3 for name, s in seconds.items()}
            plain, hidden = ms.values()
            print(
                f"width {width:4d}: as exported {plain:8.2f}, + last_hidden_state {hidden:8.2f}, "
                f"ratio {hidden / plain:.2f}, same embeddings: {same}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
