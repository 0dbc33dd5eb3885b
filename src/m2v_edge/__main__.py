"""``python -m m2v_edge`` runs the CLI."""

from __future__ import annotations

import sys

from m2v_edge.cli import main

sys.exit(main())
