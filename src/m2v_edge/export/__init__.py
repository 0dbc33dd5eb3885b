"""The exporter: table storage, graph builder, pruning, the exported folder.

Names are imported on first use (PEP 562), so importing one export module does not load the others.
``SourceModel``/``load_source`` (now :mod:`m2v_edge.source.folder`) and ``ReferenceModel`` (now
:mod:`m2v_edge.runtime.reference`) are still reachable here, as before the re-layering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from m2v_edge.export.exporter import ExportReport, export_model
    from m2v_edge.runtime.reference import ReferenceModel
    from m2v_edge.source.folder import SourceModel, load_source

__all__ = ["ExportReport", "ReferenceModel", "SourceModel", "export_model", "load_source"]


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first use."""
    # plain import statements (not importlib), so the import-graph test sees these edges
    if name in ("ExportReport", "export_model"):
        from m2v_edge.export import exporter

        return getattr(exporter, name)
    if name == "ReferenceModel":
        from m2v_edge.runtime import reference

        return reference.ReferenceModel
    if name in ("SourceModel", "load_source"):
        from m2v_edge.source import folder

        return getattr(folder, name)
    raise AttributeError(f"module 'm2v_edge.export' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
