"""The source reader: what m2v-edge reads before anything runs or is exported.

A Model2Vec source folder (:mod:`~m2v_edge.source.folder`: ``SourceModel``, ``load_source``), a Hugging Face
Hub id resolved to a local snapshot (:mod:`~m2v_edge.source.hub`), the embedded potion-base-8M
(:mod:`~m2v_edge.source.embedded`) and the vendored text data (:mod:`~m2v_edge.source.datasets`: STS-B and the
evaluation sets). The runtime side (loader, eval) and the exporter both read through here; this layer imports
only the contract layer below it (``contract``, ``validate``, ``errors``, ``extras``).
"""
