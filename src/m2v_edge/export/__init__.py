"""The exporter: source reader, table storage, graph builder."""

from __future__ import annotations

from m2v_edge.export.exporter import ExportReport, export_model
from m2v_edge.export.reference import ReferenceModel
from m2v_edge.export.source import SourceModel, load_source

__all__ = ["ExportReport", "ReferenceModel", "SourceModel", "export_model", "load_source"]
