"""Byte sizes as text: one way everywhere (decimal units, as ``m2v-edge export --max-size`` reads them)."""

from __future__ import annotations


def format_size(size: int) -> str:
    """``1.56 GB``, ``7.68 MB``, ``2.1 KB`` or ``999 B`` (KB/MB/GB in 1000s, the units ``--max-size`` reads)."""
    if size >= 1_000_000_000:
        return f"{size / 1e9:.2f} GB"
    if size >= 1_000_000:
        return f"{size / 1e6:.2f} MB"
    return f"{size / 1e3:.1f} KB" if size >= 1000 else f"{size} B"
