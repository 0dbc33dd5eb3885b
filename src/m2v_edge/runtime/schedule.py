"""Who runs what during ``encode``: the calling thread and, with ``pipeline``, one helper thread.

Scheduling never changes a number. Every text runs at the width its own token count gives
(:mod:`m2v_edge.runtime.batching`), and a row's vector does not depend on the other rows of its call, on the
thread that runs it or on the order of calls; so a text gets the same bits in whichever part, batch or lane
it lands. Nothing here reads the machine's load: ``pipeline`` is a setting (default: off, measured slower than
the serial loop on 2 cores), and docs/bench.md holds the A/Bs that retired the load probe and chose the default.

With ``pipeline``:

- the input is tokenized in parts, the next part on the helper thread while the graph runs on this one
  (``tokenizers`` and onnxruntime both release the GIL);
- once nothing is left to tokenize, the graph calls are shared between the two threads (two lanes, one
  intra-op thread each, on the same onnxruntime session);
- the single-threaded onnxruntime-extensions tokenizer op tokenizes each part in two halves, one per thread.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from m2v_edge.runtime.batching import Batch

Tokenize = Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray]]
Graph = Callable[[np.ndarray, np.ndarray], np.ndarray]
Cut = Callable[[np.ndarray, np.ndarray], Iterator[Batch]]

# Texts tokenized per part at most, in graph batches: 16 (2,048 texts at 128 rows): on a quiet 2-core VM,
# STS-B sentences at batch 1024 and 2 threads went from 0.96x to 1.15-1.27x model2vec against 4 (larger
# tokenizers calls spread better over its thread pool); memory stays a few MB.
CHUNK_BATCHES = 16
# With the pipeline, an input of more than one batch is tokenized in at least this many equal parts, so the
# graph calls of one part overlap the tokenization of the next. Paired repeats (2 cores, 61 per cell, graph
# shared): 279 STS-B passages at batch 1024 ran 1.05x model2vec in one part, 1.08x in 3 and 1.09x in 5.
MIN_PARTS = 3
# Fewest texts per part (a part costs a hand-off of tens of microseconds).
MIN_PART_TEXTS = 32
# Graph work (table cells read: tokens x dim) worth sharing between the two lanes: a hand-off costs tens of
# microseconds, a cell a fraction of a nanosecond.
SHARE_MIN_CELLS = 1 << 19


class Scheduler:
    """Runs an encode's tokenization and graph calls on the calling thread and, optionally, one helper thread.

    Thread safety: one instance serves concurrent ``encode`` calls (their helper jobs queue on the one helper
    thread). After :meth:`close` every call runs on its calling thread; a call running during ``close`` finishes.
    """

    def __init__(self, pipeline: bool) -> None:
        self.pipeline = bool(pipeline)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._finalizer: weakref.finalize | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future | None:
        """Run ``fn(*args)`` on the helper thread (created on first use); ``None`` when there is none."""
        if not self.pipeline:
            return None
        with self._lock:  # close() flips _closed under this lock before it shuts the pool down
            if self._closed:
                return None
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="m2v-edge-helper")
                self._finalizer = weakref.finalize(self, self._pool.shutdown, wait=False)
            return self._pool.submit(fn, *args)

    def close(self) -> None:
        """Stop the helper thread after its queued jobs; later calls run on their calling thread."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            if self._finalizer is not None:
                self._finalizer.detach()
        if pool is not None:
            pool.shutdown(wait=True)

    def run(
        self,
        texts: Sequence[str],
        batch_size: int,
        tokenize: Tokenize,
        cut: Cut,
        graph: Graph,
        *,
        split_min_chars: int | None = None,
        dim: int = 1,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Tokenize ``texts``, cut them into batches and run the graph: yields ``(positions, vectors)``.

        :param tokenize: texts -> ``(flat ids, counts)``, pure.
        :param cut: ``(flat, counts)`` -> batches whose positions index that part.
        :param split_min_chars: set when ``tokenize`` is single-threaded (the onnxruntime-extensions op):
            parts holding that many characters are tokenized in two halves, one per thread, instead of the
            next part ahead.
        :param dim: the graph's output width (sizes the work when deciding to share graph calls).
        """
        count = -(-len(texts) // (batch_size * CHUNK_BATCHES))
        if self.pipeline and split_min_chars is None and len(texts) > batch_size:
            count = max(count, min(MIN_PARTS, len(texts) // MIN_PART_TEXTS))
        size = -(-len(texts) // max(count, 1))
        parts = [texts[start : start + size] for start in range(0, len(texts), size)]
        job = None if split_min_chars is not None else self.submit(tokenize, parts[0]) if len(parts) > 1 else None
        for index, part in enumerate(parts):
            if split_min_chars is not None:
                flat, counts = self._halves(tokenize, part, split_min_chars)
            else:
                flat, counts = job.result() if job is not None else tokenize(part)
                job = self.submit(tokenize, parts[index + 1]) if job is not None and index + 1 < len(parts) else None
            batches = [(rows + index * size, ids, mask) for rows, ids, mask in cut(flat, counts)]
            yield from self._graph_calls(batches, graph, share=job is None, dim=dim)

    def _halves(self, tokenize: Tokenize, texts: Sequence[str], min_chars: int) -> tuple[np.ndarray, np.ndarray]:
        """``tokenize(texts)``, its first half on the helper thread when the texts are long enough."""
        half = len(texts) // 2
        job = self.submit(tokenize, texts[:half]) if half and sum(map(len, texts)) >= min_chars else None
        if job is None:
            return tokenize(texts)
        flat_b, counts_b = tokenize(texts[half:])
        flat_a, counts_a = job.result()
        return np.concatenate([flat_a, flat_b]), np.concatenate([counts_a, counts_b])

    def _graph_calls(
        self, batches: list[Batch], graph: Graph, share: bool, dim: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Run the batches' graph calls; with ``share`` and enough work, about half on the helper thread.

        Batches holding more than a quarter of the work are halved by rows first, so the lanes end together.
        """
        cells = sum(ids.size for _, ids, _ in batches) * dim
        if not (share and self.pipeline and cells >= SHARE_MIN_CELLS):
            for positions, ids, mask in batches:
                yield positions, graph(ids, mask)
            return
        pieces: list[Batch] = []
        total = cells // dim
        for positions, ids, mask in batches:
            half = len(positions) // 2 if ids.size * 4 > total else 0
            if half:
                pieces.append((positions[:half], ids[:half], mask[:half]))
            pieces.append((positions[half:], ids[half:], mask[half:]))
        lanes: tuple[list[Batch], list[Batch]] = ([], [])
        load = [0, 0]
        for batch in sorted(pieces, key=lambda b: -b[1].size):  # largest first, each to the lighter lane
            lane = int(load[1] < load[0])
            lanes[lane].append(batch)
            load[lane] += batch[1].size
        job = self.submit(lambda: [(positions, graph(ids, mask)) for positions, ids, mask in lanes[1]])
        for positions, ids, mask in lanes[0] if job is not None else pieces:
            yield positions, graph(ids, mask)
        if job is not None:
            yield from job.result()
