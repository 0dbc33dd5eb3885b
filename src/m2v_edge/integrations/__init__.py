"""Adapters to other libraries and frameworks (each behind its own extra, imported only when used)."""
