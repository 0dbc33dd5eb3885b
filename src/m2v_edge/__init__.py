"""m2v-edge: ship static (Model2Vec) text-embedding models as small int8 ONNX files.

The runtime is imported eagerly; the exporter (which needs ``onnx``) only when ``export_model`` is first used,
so a runtime-only install (Raspberry Pi, servers) never loads it; likewise ``StaticOnnxModel.from_pretrained``
imports it only when given a Model2Vec source to export.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from m2v_edge._version import __version__
from m2v_edge.runtime.compat import set_source_exporter
from m2v_edge.runtime.loader import load_encoder
from m2v_edge.runtime.model import StaticOnnxModel

if TYPE_CHECKING:
    from m2v_edge.export.exporter import export_model

__all__ = ["StaticOnnxModel", "__version__", "export_model", "load_encoder"]


def _export_source(folder: Path, dtype: str | None, normalize: bool | None) -> Path:
    """``StaticOnnxModel.from_pretrained`` of a Model2Vec source: its export in the cache (export/cache.py)."""
    from m2v_edge.export.cache import export_source

    return export_source(folder, dtype, normalize)


# The runtime may not import the exporter; the façade, imported before any runtime module, hands it over.
set_source_exporter(_export_source)


def __getattr__(name: str) -> Any:
    """Import ``export_model`` on first use (PEP 562)."""
    if name == "export_model":
        from m2v_edge.export.exporter import export_model

        return export_model
    raise AttributeError(f"module 'm2v_edge' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
