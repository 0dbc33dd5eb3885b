"""Build the lookup + masked-mean ONNX graph with ``onnx.helper`` (no torch)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from m2v_edge._version import __version__
from m2v_edge.contract import ATTENTION_MASK, INPUT_IDS, IR_VERSION, METADATA_KEY, OPSET, OUTPUT
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
    :return: an ``onnx.ModelProto``.
    """
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits = [numpy_helper.from_array(table.values, "table")]

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(value, name))
        return name

    axis1 = const("axis1", np.array([1], dtype=np.int64))
    mask = node("Cast", [ATTENTION_MASK], "mask_f", to=TensorProto.FLOAT)
    if token_keep is not None:
        keep = node("Gather", [const("token_keep", token_keep.astype(np.float32)), INPUT_IDS], "keep")
        mask = node("Mul", [mask, keep], "mask_kept")
    elif unk_token_id is not None:
        unk = const("unk_token_id", np.array(unk_token_id, dtype=np.int64))
        known = node("Not", [node("Equal", [INPUT_IDS, unk], "is_unk")], "is_known")
        mask = node("Mul", [mask, node("Cast", [known], "known_f", to=TensorProto.FLOAT)], "mask_kept")
    count = node("ReduceSum", [mask, axis1], "count", keepdims=1)
    count = node("Max", [count, const("one", np.array(1.0, dtype=np.float32))], "count_safe")
    weight = mask
    if token_scale is not None:
        scale = node("Gather", [const("token_scale", token_scale.astype(np.float32)), INPUT_IDS], "scale")
        weight = node("Mul", [mask, scale], "weight")
    rows = INPUT_IDS
    if row_map is not None:
        rows = node("Gather", [const("row_map", row_map.astype(np.int32)), INPUT_IDS], "rows")
    vectors = node("Gather", ["table", rows], "vectors")
    if table.values.dtype != np.float32:
        vectors = node("Cast", [vectors], "vectors_f", to=TensorProto.FLOAT)
    weight3 = node("Unsqueeze", [weight, axis1], "weight3")
    pooled = node("MatMul", [weight3, vectors], "pooled")
    summed = node("Squeeze", [pooled, axis1], "summed")
    last = not normalize and bias is None
    mean = node("Div", [summed, count], OUTPUT if last else "mean")
    if bias is not None:  # 0 for a row without tokens: an empty text stays the zero vector
        has = node("Min", ["count", "one"], "has_token")  # the raw token count, not count_safe
        shift = node("Mul", [has, const("isotropy_bias", bias.astype(np.float32))], "shift")
        mean = node("Add", [mean, shift], OUTPUT if not normalize else "mean_shifted")
    if normalize:
        norm = node("ReduceL2", [mean], "norm", axes=[1], keepdims=1)
        norm = node("Add", [norm, const("tiny", np.array(1e-32, dtype=np.float32))], "norm_safe")
        node("Div", [mean, norm], OUTPUT)

    dim = int(table.values.shape[1])
    graph = helper.make_graph(
        nodes,
        "m2v_edge_static_embedding",
        inputs=[
            helper.make_tensor_value_info(INPUT_IDS, TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info(ATTENTION_MASK, TensorProto.INT64, ["batch", "sequence"]),
        ],
        outputs=[helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", dim])],
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
    props.update({key: json.dumps(value, ensure_ascii=False) for key, value in config.items()})
    helper.set_model_props(model, props)
    return model
