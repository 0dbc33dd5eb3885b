"""Metrics per dimension: the model card's own (mean cosine of positives) next to discriminative ones.

Every function takes ``embed`` (texts -> ``[n, dim]`` vectors) and a dataset's items, and returns a flat
``{metric: float}``. Ties in a ranking get chance credit (the expected score under a random tie-break),
so an encoder that returns the same vector for every text scores exactly chance, never 1 or 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np

from m2v_edge.runtime.similarity import cosine_matrix, normalize_rows, row_cosine
from m2v_edge.source.datasets import LANGUAGES, Labelled, Pair, Parallel, Ranking

Embed = Callable[[Sequence[str]], np.ndarray]
TIE = 1e-6  # scores closer than this count as a tie

# dimension -> (the card-style metric, the headline discriminative metric): what the plot shows
HEADLINE: dict[str, tuple[str, str]] = {
    "semantic_similarity": ("mean_cosine", "spearman"),
    "topic_clustering": ("mean_cosine", "v_measure"),
    "multilingual_alignment": ("mean_cosine", "p_at_1"),
    "instruction_awareness": ("mean_cosine", "accuracy"),
    "conversational_understanding": ("mean_cosine", "accuracy"),
    "code_understanding": ("mean_cosine", "accuracy"),
}


def metric_kind(metric: str) -> str:
    """Classify a metric name: ``card``, ``cosine``, ``discr.`` or ``chance``.

    ``card``: mean cosine of positives (the card's metric); ``cosine``: mean cosine of negatives (context);
    ``discr.``: a discriminative metric (ranking, correlation or clustering); ``chance``: what random scores get.
    """
    if metric.startswith("chance_"):
        return "chance"
    if metric.startswith(("random_pair", "hard_negative")):
        return "cosine"
    if metric == "positive_mean_cosine":
        return "card"
    if "mean_cosine" not in metric:
        return "discr."
    return "cosine" if metric.endswith("negative") else "card"


def retrieval_credit(scores: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy@1 and reciprocal rank of ``target[i]`` in row ``i`` of ``scores``, ties broken at random.

    With ``g`` candidates strictly above the target and ``t`` tied with it, the target's rank is uniform
    on ``g+1 .. g+t+1``: accuracy credit ``1/(t+1)`` when ``g == 0``, reciprocal rank the mean of ``1/r``.

    :return: two float arrays of length ``len(scores)``.
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    rows = np.arange(len(scores))
    own = scores[rows, target][:, None]
    others = np.ones_like(scores, dtype=bool)
    others[rows, target] = False
    greater = ((scores > own + TIE) & others).sum(axis=1)
    ties = ((np.abs(scores - own) <= TIE) & others).sum(axis=1)
    harmonic = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, scores.shape[1] + 1))])
    accuracy = np.where(greater == 0, 1.0 / (ties + 1), 0.0)
    reciprocal = (harmonic[greater + ties + 1] - harmonic[greater]) / (ties + 1)
    return accuracy, reciprocal


def _mean(values: Sequence[float] | np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else 0.0


def ranking(embed: Embed, items: Sequence[Ranking]) -> dict[str, float]:
    """Query vs its positive and its negatives.

    ``mean_cosine``: mean cosine of query and positive (the card's metric); ``mean_cosine_negative``:
    mean cosine of query and negatives; ``accuracy``: share of queries whose positive beats every negative;
    ``mrr``: mean reciprocal rank of the positive; ``margin``: mean of cos(query, positive) minus the
    highest cos(query, negative); ``chance_accuracy``: the accuracy of random scores.
    """
    queries = embed([item.query for item in items])
    positives, negatives, margins, accuracy, reciprocal = [], [], [], [], []
    for query, item in zip(queries, items, strict=True):
        scores = cosine_matrix(query, embed([item.positive, *item.negatives]))[0]
        hit, rr = retrieval_credit(scores[None, :], np.zeros(1, dtype=int))
        positives.append(scores[0])
        negatives.extend(scores[1:])
        margins.append(scores[0] - scores[1:].max())
        accuracy.append(hit[0])
        reciprocal.append(rr[0])
    return {
        "mean_cosine": _mean(positives),
        "mean_cosine_negative": _mean(negatives),
        "accuracy": _mean(accuracy),
        "mrr": _mean(reciprocal),
        "margin": _mean(margins),
        "chance_accuracy": _mean([1 / (1 + len(item.negatives)) for item in items]),
    }


def semantic_similarity(embed: Embed, items: Sequence[Pair], high: float = 0.75, low: float = 0.25) -> dict[str, float]:
    """Graded pairs.

    ``spearman``: rank correlation of cosine with the gold label (0 when the cosines are all equal);
    ``mean_cosine``: mean cosine of the pairs labelled ``>= high`` (the card's metric);
    ``mean_cosine_negative``: mean cosine of the pairs labelled ``<= low``.
    """
    from scipy.stats import spearmanr

    cos = row_cosine(embed([p.text1 for p in items]), embed([p.text2 for p in items]))
    labels = np.array([p.label for p in items])
    rho = 0.0 if np.ptp(cos) <= TIE or np.ptp(labels) == 0 else float(spearmanr(cos, labels).statistic)
    return {
        "spearman": rho,
        "mean_cosine": _mean(cos[labels >= high]),
        "mean_cosine_negative": _mean(cos[labels <= low]),
    }


def sts_benchmark(embed: Embed, items: Sequence[Pair]) -> dict[str, float]:
    """STS-B: Spearman x 100 of cosine vs the gold score (the usual MTEB-style figure)."""
    return {"spearman": 100.0 * semantic_similarity(embed, items)["spearman"]}


def topic_clustering(embed: Embed, items: Sequence[Labelled], seeds: int = 10, n_init: int = 30) -> dict[str, float]:
    """Texts with topic labels.

    ``mean_cosine``: mean cosine of same-topic pairs (card-style); ``mean_cosine_negative``: of pairs from
    different topics; ``silhouette``: cosine silhouette of the gold topics; ``v_measure`` and ``ari``:
    scikit-learn KMeans (k = number of topics, ``n_init`` starts, on L2-normalized vectors) against the
    gold topics, averaged over ``random_state`` 0 .. ``seeds - 1``: one seed's result on ~100 texts moves by
    ±0.05 under tiny perturbations (an int8 table), the mean over seeds by ~0.005.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, silhouette_score, v_measure_score

    vectors = embed([item.text for item in items]).astype(np.float64)
    vectors = normalize_rows(vectors)
    names = sorted({item.label for item in items})
    gold = np.array([names.index(item.label) for item in items])
    cos = vectors @ vectors.T
    same = gold[:, None] == gold[None, :]
    off_diagonal = ~np.eye(len(items), dtype=bool)
    with warnings.catch_warnings():  # degenerate encoders give fewer distinct points than clusters
        warnings.simplefilter("ignore")
        runs = [KMeans(len(names), random_state=s, n_init=n_init).fit_predict(vectors) for s in range(seeds)]
        silhouette = float(silhouette_score(vectors, gold, metric="cosine"))
    return {
        "mean_cosine": _mean(cos[same & off_diagonal]),
        "mean_cosine_negative": _mean(cos[~same]),
        "silhouette": silhouette,
        "v_measure": _mean([v_measure_score(gold, predicted) for predicted in runs]),
        "ari": _mean([adjusted_rand_score(gold, predicted) for predicted in runs]),
    }


def multilingual(embed: Embed, parallel: Sequence[Parallel], monolingual: Sequence[Ranking]) -> dict[str, float]:
    """Cross-lingual alignment and same-language search.

    ``mean_cosine``: mean cosine of an English sentence and its translation (card-style);
    ``mean_cosine_negative``: of an English sentence and the other sentences' translations;
    ``p_at_1_<x>``: translation retrieval P@1 among all parallel items, EN->X and X->EN averaged;
    ``p_at_1``: its mean over the six languages (``chance_p_at_1``: 1 / items);
    ``mono_<metric>[_<lang>]``: :func:`ranking` on the same-language query sets, per language and
    macro-averaged over the languages present.
    """
    english = embed([item.texts["en"] for item in parallel])
    target = np.arange(len(parallel))
    result: dict[str, float] = {}
    positives: list[float] = []
    negatives: list[float] = []
    p_at_1: dict[str, float] = {}
    for lang in LANGUAGES[1:]:
        scores = cosine_matrix(english, embed([item.texts[lang] for item in parallel]))
        positives.extend(np.diag(scores))
        negatives.extend(scores[~np.eye(len(parallel), dtype=bool)])
        forward, _ = retrieval_credit(scores, target)
        backward, _ = retrieval_credit(scores.T, target)
        p_at_1[lang] = (_mean(forward) + _mean(backward)) / 2
    result["mean_cosine"] = _mean(positives)
    result["mean_cosine_negative"] = _mean(negatives)
    result["p_at_1"] = _mean(list(p_at_1.values()))
    result["chance_p_at_1"] = 1 / len(parallel)
    result.update({f"p_at_1_{lang}": value for lang, value in p_at_1.items()})
    per_lang = {
        lang: ranking(embed, [item for item in monolingual if item.lang == lang])
        for lang in LANGUAGES
        if any(item.lang == lang for item in monolingual)
    }
    if per_lang:
        result["mono_mean_cosine"] = _mean([m["mean_cosine"] for m in per_lang.values()])
        result["mono_accuracy"] = _mean([m["accuracy"] for m in per_lang.values()])
        result["mono_mrr"] = _mean([m["mrr"] for m in per_lang.values()])
        result["chance_mono_accuracy"] = _mean([m["chance_accuracy"] for m in per_lang.values()])
        result.update({f"mono_accuracy_{lang}": m["accuracy"] for lang, m in per_lang.items()})
    return result
