"""m2v-edge: ship static (Model2Vec) text-embedding models as small int8 ONNX files."""

from __future__ import annotations

__version__ = "0.1.0"

from m2v_edge.export.exporter import export_model  # noqa: E402
from m2v_edge.loader import load_encoder  # noqa: E402
from m2v_edge.runtime.model import StaticOnnxModel  # noqa: E402

__all__ = ["StaticOnnxModel", "__version__", "export_model", "load_encoder"]
