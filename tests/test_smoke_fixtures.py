from __future__ import annotations

import json

from safetensors.numpy import load_file


def test_tiny_sources_have_expected_tensors(tiny_source):
    tensors = load_file(str(tiny_source / "model.safetensors"))
    assert "embeddings" in tensors
    cfg = json.loads((tiny_source / "config.json").read_text())
    if tiny_source.name.startswith("tiny-quantized"):
        assert {"weights", "mapping"} <= set(tensors)
        assert cfg["vocabulary_quantization"] == 24
