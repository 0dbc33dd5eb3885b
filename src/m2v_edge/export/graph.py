"""Build the lookup + masked-mean ONNX graph with ``onnx.helper`` (no torch)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from m2v_edge._version import __version__
from m2v_edge.contract import (
    ATTENTION_MASK,
    HIDDEN_OUTPUT,
    INPUT_IDS,
    IR_VERSION,
    METADATA_KEY,
    NORM_EPSILON,
    OPSET,
    OUTPUT,
    POOLING_SPEC_KEY,
    POOLING_SPEC_VERSION,
    pooling_nodes,
)
from m2v_edge.export.quantize import StoredTable


def build_graph(
    table: StoredTable,
    *,
    normalize: bool,
    config: dict[str, Any],
    token_scale: np.ndarray | None = None,
    row_map: np.ndarray | None = None,
    token_keep: np.ndarray | None = None,
    unk_token_id: int | None = None,
    bias: np.ndarray | None = None,
    pipeline_output: bool = False,
) -> Any:
    """Make the model: ``embeddings[b] = sum_t w[b,t] * table[row(ids[b,t])]``, then L2-normalized.

    ``w = attention_mask * keep[id] * token_scale[id]``; the weighted sum is divided by ``max(count, 1)``,
    ``count`` being the number of kept, unmasked tokens, so an all-padding row gives a zero vector, never NaN.

    :param table: stored table (int8, float16 or float32).
    :param normalize: divide each output row by its L2 norm (+1e-32, as model2vec does).
    :param config: written to ``metadata_props`` (whole, under ``m2v_edge_config``, and key by key).
    :param token_scale: float32 per token id: per-row int8 scale and model2vec ``weights`` folded in.
    :param row_map: int32 per token id: the table row (model2vec ``mapping``, vocabulary pruning).
    :param token_keep: float32 0/1 per token id: 0 sends the token to "unknown" (ignored in the mean).
    :param unk_token_id: the unknown token's id, dropped inside the graph (format 2), so callers that feed the
        tokenizer's raw ids get model2vec's vectors. With ``token_keep``, its entry must already be 0.
    :param bias: float32 ``[dim]`` added to the mean of every row with a token, before normalizing
        (the isotropy map's shift when model2vec ``weights`` keep it out of the table).
    :param pipeline_output: add the output ``last_hidden_state`` [batch, tokens, dim] = ``embeddings`` × mask,
        which transformers.js's ``pipeline("feature-extraction", …, {pooling: "mean"})`` pools back to
        ``embeddings`` (onnxruntime computes it on every run, asked for or not: docs/web.md has the cost).
    :return: an ``onnx.ModelProto``.
    """
    from onnx import TensorProto, helper, numpy_helper

    spec = pooling_spec(table, normalize, token_scale, row_map, token_keep, unk_token_id, bias)
    spec["hidden"] = pipeline_output
    consts: list[tuple[str, np.ndarray | None]] = [
        ("table", table.values),
        ("axis1", np.array([1], dtype=np.int64)),
        ("token_keep", None if token_keep is None else token_keep.astype(np.float32)),
        ("unk_token_id", np.array(unk_token_id, dtype=np.int64) if spec["unk"] else None),
        ("one", np.array(1.0, dtype=np.float32)),
        ("token_scale", None if token_scale is None else token_scale.astype(np.float32)),
        ("row_map", None if row_map is None else row_map.astype(np.int32)),
        ("isotropy_bias", None if bias is None else bias.astype(np.float32)),
        ("tiny", np.array(NORM_EPSILON, dtype=np.float32) if normalize else None),
        ("axis2", np.array([2], dtype=np.int64) if pipeline_output else None),
    ]
    inits = [numpy_helper.from_array(value, name) for name, value in consts if value is not None]
    nodes = [
        helper.make_node(op, inputs, [output], name=output, **attrs)
        for op, inputs, output, attrs in pooling_nodes(spec)
    ]

    dim = int(table.values.shape[1])
    outputs = [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", dim])]
    if pipeline_output:
        outputs.append(helper.make_tensor_value_info(HIDDEN_OUTPUT, TensorProto.FLOAT, ["batch", "sequence", dim]))
    graph = helper.make_graph(
        nodes,
        "m2v_edge_static_embedding",
        inputs=[
            helper.make_tensor_value_info(INPUT_IDS, TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info(ATTENTION_MASK, TensorProto.INT64, ["batch", "sequence"]),
        ],
        outputs=outputs,
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="m2v-edge",
        producer_version=__version__,
        doc_string="Static (Model2Vec) text embedding: token lookup + masked mean pooling.",
    )
    model.ir_version = IR_VERSION
    props = {METADATA_KEY: json.dumps(config, ensure_ascii=False)}
    props[POOLING_SPEC_KEY] = json.dumps({"version": POOLING_SPEC_VERSION, **spec}, sort_keys=True)
    props.update({key: json.dumps(value, ensure_ascii=False) for key, value in config.items()})
    helper.set_model_props(model, props)
    return model


def pooling_spec(
    table: StoredTable,
    normalize: bool,
    token_scale: np.ndarray | None,
    row_map: np.ndarray | None,
    token_keep: np.ndarray | None,
    unk_token_id: int | None,
    bias: np.ndarray | None,
) -> dict[str, bool]:
    """The declared pooling spec (``format.POOLING_FLAGS``): which nodes of ``format.POOLING_NODES`` the graph has."""
    return {
        "token_keep": token_keep is not None,
        "unk": token_keep is None and unk_token_id is not None,  # a keep mask already drops the unknown token
        "token_scale": token_scale is not None,
        "row_map": row_map is not None,
        "cast": table.values.dtype != np.float32,
        "bias": bias is not None,
        "normalize": normalize,
    }
