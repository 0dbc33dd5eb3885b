"""The runtime: tokenization, onnxruntime session, encoder."""

from __future__ import annotations

from m2v_edge.runtime.model import StaticOnnxModel
from m2v_edge.runtime.similarity import Hit, cosine_matrix

__all__ = ["Hit", "StaticOnnxModel", "cosine_matrix"]
