"""LangChain: an exported model as ``langchain_core.embeddings.Embeddings`` (the ``langchain`` extra).

```python
from m2v_edge.integrations.langchain import M2VEdgeEmbeddings
embeddings = M2VEdgeEmbeddings("path/to/export")
vectors = embeddings.embed_documents(["first text", "second text"])
```
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from m2v_edge.extras import require
from m2v_edge.runtime.model import StaticOnnxModel

try:
    from langchain_core.embeddings import Embeddings
except ImportError:
    require("langchain", "langchain_core", what="the LangChain adapter")  # one line naming the extra
    raise


class M2VEdgeEmbeddings(Embeddings):
    """LangChain embeddings backed by an m2v-edge export (onnxruntime; no torch, no network).

    :param model: an exported folder, or an already loaded :class:`StaticOnnxModel`.
    :param batch_size: texts per ``encode`` call (see ``StaticOnnxModel.encode``).
    :param threads: onnxruntime intra-op threads when loading a folder (``None``: 1).
    """

    def __init__(self, model: str | Path | StaticOnnxModel, batch_size: int = 1024, threads: int | None = None):
        self.model = (
            model if isinstance(model, StaticOnnxModel) else StaticOnnxModel.from_pretrained(model, threads=threads)
        )
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = batch_size

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:  # type: ignore[override]
        """One vector (a list of floats) per text, in order."""
        if isinstance(texts, str):
            raise ValueError("embed_documents takes a list of strings; use embed_query for one string")
        vectors = self.model.encode(list(texts), batch_size=self.batch_size)
        return vectors.reshape(len(texts), self.model.dim).tolist()

    def embed_query(self, text: str) -> list[float]:
        """The vector of one query text."""
        if not isinstance(text, str):
            raise ValueError(f"embed_query takes a string, got {type(text).__name__}")
        return self.model.encode(text).tolist()
