"""The package version, in its own module so nothing inside the package imports the package root."""

from __future__ import annotations

__version__ = "0.1.0"
