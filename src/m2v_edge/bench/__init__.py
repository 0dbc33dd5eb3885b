"""Side-by-side throughput, latency, cold-start and memory benchmark (``m2v-edge bench``).

Needs the ``bench`` extra (model2vec 0.10 as the comparison, matplotlib for the plot, threadpoolctl).
"""

from __future__ import annotations

from m2v_edge.bench.runner import BenchConfig, run_bench

__all__ = ["BenchConfig", "run_bench"]
