"""A thin onnxruntime session: checked providers, settable threads, only the declared inputs sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.contract import OUTPUT
from m2v_edge.errors import one_line
from m2v_edge.runtime import mapped_table

DEFAULT_PROVIDERS = ("CPUExecutionProvider",)
_ORT_FATAL = 4  # onnxruntime's log severities: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal


class OrtSession:
    """Runs ``model.onnx`` (or ``model.ort``) on onnxruntime."""

    def __init__(
        self,
        model_path: str | Path,
        threads: int | None = None,
        providers: tuple[str, ...] | list[str] | None = None,
    ) -> None:
        """Open a session.

        :param model_path: the ONNX or ORT file.
        :param threads: onnxruntime intra-op threads; ``None`` means 1. The graph is a lookup and a mean, and the
            tokenizer's own thread pool works on the next batch meanwhile, so one thread measured fastest
            (2 cores: 58.9k vs 54.6k STS-B sentences/s with 2 threads).
        :param providers: execution providers, in order of preference; default CPU.
        :raises ValueError: for an unavailable provider, a bad thread count or a corrupt model file.
        :raises FileNotFoundError: if the file does not exist.
        """
        import onnxruntime as ort

        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file; export the model with `m2v-edge export`")
        chosen = list(providers or DEFAULT_PROVIDERS)
        available = ort.get_available_providers()
        missing = [p for p in chosen if p not in available]
        if missing:
            raise ValueError(f"execution provider(s) {missing} not available here; available: {available}")
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
        # Fatal only, before any session: onnxruntime's own [E:onnxruntime:...] lines never reach users; its errors
        # come back as exceptions, which become our one-line messages.
        ort.set_default_logger_severity(_ORT_FATAL)
        self.path = path
        self.mapped_reason = "an .ort file (onnxruntime reads it whole)"
        self._table: Any = None  # the mapped table and its OrtValue, alive as long as the session
        if path.suffix == ".onnx":
            self.session = self._open_mapped(ort, self._options(ort, threads), chosen)
        if self._table is None:
            try:
                self.session = ort.InferenceSession(
                    str(path), sess_options=self._options(ort, threads), providers=chosen
                )
            except Exception as err:  # onnxruntime raises its own Fail/InvalidProtobuf types
                reason = one_line(err)
                raise ValueError(f"{path}: onnxruntime cannot load it ({reason}); re-export the model") from None
        self.input_names = frozenset(i.name for i in self.session.get_inputs())
        self._outputs = [OUTPUT]
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)

    @staticmethod
    def _options(ort: Any, threads: int | None) -> Any:
        """Fresh session options (onnxruntime keeps an initializer added to options: never reused)."""
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = _ORT_FATAL
        # Idle intra-op threads sleep instead of spinning: spinning steals the cores that tokenization
        # (tokenizers' own thread pool) needs between graph calls; measured faster on a busy 2-core machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = 1 if threads is None else threads
        options.inter_op_num_threads = 1
        return options

    @property
    def mapped(self) -> bool:
        """Whether the table is memory-mapped from the file (``mapped_reason`` says why not)."""
        return self._table is not None

    def _open_mapped(self, ort: Any, options: Any, providers: list[str]) -> Any:
        """A session over the mapped table (:mod:`m2v_edge.runtime.mapped_table`), or ``None`` with the reason.

        Any failure leaves the plain load to run (and to report a corrupt file as before): the vectors are the
        same either way, only the memory differs.
        """
        try:
            mapped = mapped_table.map_graph(self.path)
            value = ort.OrtValue.ortvalue_from_numpy(mapped.table)
            options.add_initializer(mapped_table.TABLE, value)
            options.add_session_config_entry(mapped_table.FOLDER_KEY, mapped.folder)
            session = ort.InferenceSession(mapped.graph, sess_options=options, providers=providers)
        except Exception as err:  # NotMappable, or an onnxruntime without the API: load the file as usual
            self.mapped_reason = one_line(err)
            return None
        self._table = (mapped.table, value)
        self.mapped_reason = "mapped"
        return session

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """Run the graph with those of ``feeds`` it declares; return the ``embeddings`` output."""
        declared: dict[str, Any] = feeds
        if not self.input_names.issuperset(feeds):
            declared = {k: v for k, v in feeds.items() if k in self.input_names}
        return self.session.run(self._outputs, declared)[0]
