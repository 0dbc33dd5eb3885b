"""fastembed as a consumer: an export loads as a custom ONNX model, offline, and gives our vectors.

The registration is built here from the export's config (no download: ``specific_model_path`` points at the folder,
``HF_HUB_OFFLINE`` is set); docs/integrations.md shows the same snippet. Skipped when fastembed is not installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from m2v_edge import StaticOnnxModel
from m2v_edge.contract import read_config

fastembed = pytest.importorskip("fastembed")

TEXTS = ["It's dangerous to go alone!", "", "a longer text about cats and dogs " * 40, "東京 ñandú 🙂", "x"]


@pytest.mark.parametrize("export", ["potion_int8", "potion_fp32"])
def test_fastembed_gives_our_vectors_offline(export, request, monkeypatch):
    from fastembed import TextEmbedding
    from fastembed.common.model_description import ModelSource, PoolingType

    folder: Path = request.getfixturevalue(export)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = read_config(folder)
    name = f"local/m2v-edge-{export}"
    if name not in {m["model"] for m in TextEmbedding.list_supported_models()}:
        TextEmbedding.add_custom_model(
            model=name,
            pooling=PoolingType.DISABLED,  # the graph pools (and normalizes) itself
            normalization=False,
            sources=ModelSource(hf=name),  # never fetched: specific_model_path below
            dim=config["dim"],
            model_file=config["model_file"],
        )
    model = TextEmbedding(name, specific_model_path=str(folder))
    theirs = np.stack(list(model.embed(TEXTS, batch_size=2)))
    ours = StaticOnnxModel.from_pretrained(folder).encode(TEXTS)
    assert theirs.shape == ours.shape and np.isfinite(theirs).all()
    assert np.abs(theirs - ours).max() <= 1e-6
    assert not ours[1].any() and not theirs[1].any()  # empty text: the zero vector
