"""Run every metric on a model (and a reference), and put the results in one report dict."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.eval import metrics
from m2v_edge.eval.anisotropy import add_to_report, texts_seen
from m2v_edge.runtime.loader import Encoder, load_encoder
from m2v_edge.source.datasets import DIMENSIONS, STSB_TEST, Dataset, Pair, Parallel, Ranking, load_dataset, load_stsb

ModelLike = str | Path | Encoder


class CachedEmbedder:
    """Encodes each distinct text once per model (the dimensions share some texts)."""

    def __init__(self, encoder: Encoder, batch_size: int = 1024) -> None:
        self.encoder = encoder
        self.batch_size = batch_size
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """``[len(texts), dim]`` float32 vectors."""
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            vectors = np.asarray(self.encoder.encode(missing, batch_size=self.batch_size), dtype=np.float32)
            self.cache.update(zip(missing, vectors.reshape(len(missing), -1), strict=True))
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts])


def _score(dataset: Dataset, embed: metrics.Embed) -> dict[str, float]:
    if dataset.name == "semantic_similarity":
        return metrics.semantic_similarity(embed, dataset.items)
    if dataset.name == "topic_clustering":
        return metrics.topic_clustering(embed, dataset.items)
    if dataset.name == "multilingual_alignment":
        return metrics.multilingual(embed, dataset.of(Parallel), dataset.of(Ranking))
    return metrics.ranking(embed, dataset.items)


def _open(model: ModelLike) -> tuple[str, Encoder]:
    """Load a path; name an encoder object."""
    if isinstance(model, (str, Path)):
        return str(model), load_encoder(model)
    return getattr(model, "name", type(model).__name__), model


def _run(
    name: str, encoder: Encoder, datasets: list[Dataset], stsb: list[Pair], progress: Any, label: str
) -> dict[str, Any]:
    embed = CachedEmbedder(encoder)
    dimensions = {}
    for dataset in datasets:
        progress.set_description(f"{label}: {dataset.name}")
        dimensions[dataset.name] = _score(dataset, embed)
        progress.update(1)
    progress.set_description(f"{label}: sts_benchmark")
    sts = metrics.sts_benchmark(embed, stsb)
    progress.update(1)
    result = {"model": name, "dimensions": dimensions, "sts_benchmark": sts}
    add_to_report(result, texts_seen(embed.cache))
    return result


def _delta(model: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """Subtract: ``model - reference`` for every metric both have."""
    ref = reference["dimensions"]
    return {
        "dimensions": {
            dim: {m: v - ref[dim][m] for m, v in values.items() if m in ref[dim]}
            for dim, values in model["dimensions"].items()
            if dim in ref
        },
        "sts_benchmark": {"spearman": model["sts_benchmark"]["spearman"] - reference["sts_benchmark"]["spearman"]},
    }


def evaluate(
    model: ModelLike,
    reference: ModelLike | None = None,
    dimensions: Sequence[str] | None = None,
    data_dir: str | Path | None = None,
    stsb: str | Path = STSB_TEST,
    show_progress_bar: bool = False,
) -> dict[str, Any]:
    """Score ``model`` (and ``reference``) on the six dimensions and STS-B.

    :param model: an exported folder, a Model2Vec source folder, or any object with ``encode``/``dim``.
    :param reference: the same kinds; when given, the report also holds its scores and ``model - reference``.
    :param dimensions: a subset of :data:`~m2v_edge.source.datasets.DIMENSIONS` (default all).
    :param data_dir: folder with the JSONL files (default: the packaged data).
    :param stsb: the STS-B test file (tab-separated, original layout).
    :param show_progress_bar: one tqdm bar over the dimensions of each model.
    :return: ``{"model", "dimensions": {dim: {metric: value}}, "sts_benchmark": {"spearman"},
        "anisotropy": {"random_pair_mean_cosine", ...}, "warnings": [str],
        "reference": {same shape} | None, "delta": {"dimensions", "sts_benchmark"} | None}``.
    :raises FileNotFoundError: if a model, data file or the STS-B file is missing.
    :raises ValueError: if a model or data file is invalid, or a dimension name is unknown.
    """
    from tqdm.auto import tqdm

    names = list(DIMENSIONS) if dimensions is None else list(dimensions)
    datasets = [load_dataset(name, data_dir) for name in names]  # fail on bad data before any encoding
    pairs = load_stsb(stsb)
    runs = [("model", *_open(model))]
    if reference is not None:
        runs.append(("reference", *_open(reference)))
    results = []
    with tqdm(total=len(runs) * (len(datasets) + 1), disable=not show_progress_bar, unit="task") as progress:
        for label, name, encoder in runs:
            results.append(_run(name, encoder, datasets, pairs, progress, label))
    report = dict(results[0])
    report["reference"] = results[1] if reference is not None else None
    report["delta"] = _delta(results[0], results[1]) if reference is not None else None
    return report
