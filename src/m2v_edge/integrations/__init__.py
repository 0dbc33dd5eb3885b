"""Adapters to other libraries' interfaces (each behind its own extra, imported only when used)."""
