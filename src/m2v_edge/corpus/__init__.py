"""Corpus scale: streaming readers and writers, the resumable ``encode_corpus``, the ``.m2vec`` vector file."""

from __future__ import annotations

from m2v_edge.corpus.readers import InputSpec, read_chunks
from m2v_edge.corpus.stream import EncodeReport, encode_corpus
from m2v_edge.corpus.vectorfile import VectorFile, VectorHit, model_fingerprint, write_vector_file

__all__ = [
    "EncodeReport",
    "InputSpec",
    "VectorFile",
    "VectorHit",
    "encode_corpus",
    "model_fingerprint",
    "read_chunks",
    "write_vector_file",
]
