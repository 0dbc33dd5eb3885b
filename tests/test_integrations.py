"""The LangChain adapter, against langchain-core's own interface and vector store."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("langchain_core", reason="the langchain extra is not installed")

from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402
from langchain_core.vectorstores import InMemoryVectorStore  # noqa: E402

from m2v_edge import StaticOnnxModel  # noqa: E402
from m2v_edge.integrations.langchain import M2VEdgeEmbeddings  # noqa: E402

DOCS = [
    "Neural network training tutorial and guide",
    "Neural networks in biology",
    "A recipe for sourdough bread",
    "",
]


def test_embeddings_match_the_model(potion_int8):
    embeddings = M2VEdgeEmbeddings(potion_int8, batch_size=2)
    assert isinstance(embeddings, Embeddings)
    model = StaticOnnxModel.from_pretrained(potion_int8)
    documents = embeddings.embed_documents(DOCS)
    assert isinstance(documents, list) and all(isinstance(v, list) and len(v) == 256 for v in documents)
    assert isinstance(documents[0][0], float)
    assert np.array_equal(np.asarray(documents, dtype=np.float32), model.encode(DOCS))  # bit for bit
    query = embeddings.embed_query("How do I train a neural network?")
    assert np.array_equal(np.asarray(query, dtype=np.float32), model.encode("How do I train a neural network?"))
    assert embeddings.embed_documents([]) == []


def test_langchain_vector_store_ranks_with_it(potion_int8):
    store = InMemoryVectorStore(M2VEdgeEmbeddings(StaticOnnxModel.from_pretrained(potion_int8)))
    store.add_documents([Document(page_content=text) for text in DOCS[:3]])
    hits = store.similarity_search("how to bake bread at home", k=1)
    assert hits[0].page_content == "A recipe for sourdough bread"


def test_bad_input_is_refused(potion_int8):
    embeddings = M2VEdgeEmbeddings(potion_int8)
    with pytest.raises(ValueError, match="use embed_query for one string"):
        embeddings.embed_documents("one string")
    with pytest.raises(ValueError, match="embed_query takes a string, got int"):
        embeddings.embed_query(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        M2VEdgeEmbeddings(embeddings.model, batch_size=0)
