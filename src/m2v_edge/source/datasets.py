"""The evaluation data: JSONL loaders with validation, and the vendored STS-B test split."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
STSB_TEST = DATA_DIR / "stsb" / "sts-test.csv"
LANGUAGES = ("en", "fr", "es", "de", "zh", "ar", "ru")

# dimension name (the card's JSON keys) -> data file
DIMENSIONS: dict[str, str] = {
    "semantic_similarity": "semantic_similarity.jsonl",
    "topic_clustering": "topic_clustering.jsonl",
    "multilingual_alignment": "multilingual.jsonl",
    "instruction_awareness": "instruction_awareness.jsonl",
    "conversational_understanding": "conversational.jsonl",
    "code_understanding": "code_understanding.jsonl",
}


@dataclass(frozen=True)
class Pair:
    """Two texts with a gold similarity (0-1 in the JSONL data, 0-5 in STS-B)."""

    text1: str
    text2: str
    label: float


@dataclass(frozen=True)
class Labelled:
    """One text with its topic."""

    text: str
    label: str


@dataclass(frozen=True)
class Ranking:
    """A query, its relevant document and distractors (``lang`` only in the multilingual set)."""

    query: str
    positive: str
    negatives: tuple[str, ...]
    lang: str = "en"


@dataclass(frozen=True)
class Parallel:
    """One sentence in every language of :data:`LANGUAGES`."""

    id: str
    texts: dict[str, str]


@dataclass(frozen=True)
class Dataset:
    """A validated data file: its header and its items (one item type per dimension, two for multilingual)."""

    name: str
    path: Path
    header: dict[str, Any]
    items: tuple[Any, ...]

    def of(self, kind: type) -> list[Any]:
        """Return the items of one type (e.g. ``Parallel`` or ``Ranking`` in the multilingual set)."""
        return [item for item in self.items if isinstance(item, kind)]


def _text(row: dict[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: '{key}' must be a non-empty string; fix the data file")
    return value


def _texts(row: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = row.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where}: '{key}' must be a non-empty list of non-empty strings; fix the data file")
    return tuple(value)


def _ranking(row: dict[str, Any], where: str, lang: str = "en") -> Ranking:
    return Ranking(_text(row, "query", where), _text(row, "positive", where), _texts(row, "negatives", where), lang)


def _pair(row: dict[str, Any], where: str) -> Pair:
    label = row.get("label")
    if isinstance(label, bool) or not isinstance(label, (int, float)) or not 0.0 <= label <= 1.0:
        raise ValueError(f"{where}: 'label' must be a number in [0, 1], got {label!r}; fix the data file")
    return Pair(_text(row, "text1", where), _text(row, "text2", where), float(label))


def _labelled(row: dict[str, Any], where: str) -> Labelled:
    return Labelled(_text(row, "text", where), _text(row, "label", where))


def _multilingual(row: dict[str, Any], where: str) -> Parallel | Ranking:
    kind = row.get("kind")
    if kind == "monolingual":
        lang = _text(row, "lang", where)
        if lang not in LANGUAGES:
            raise ValueError(f"{where}: 'lang' {lang!r} is not one of {', '.join(LANGUAGES)}; fix the data file")
        return _ranking(row, where, lang)
    if kind == "parallel":
        texts = row.get("texts")
        if not isinstance(texts, dict) or sorted(texts) != sorted(LANGUAGES):
            got = sorted(texts) if isinstance(texts, dict) else texts
            raise ValueError(f"{where}: 'texts' must have exactly the keys {', '.join(LANGUAGES)}, got {got}")
        return Parallel(str(row.get("id", where)), {lang: _text(texts, lang, where) for lang in LANGUAGES})
    raise ValueError(f"{where}: 'kind' must be 'parallel' or 'monolingual', got {kind!r}; fix the data file")


_PARSERS = {
    "semantic_similarity": _pair,
    "topic_clustering": _labelled,
    "multilingual_alignment": _multilingual,
    "instruction_awareness": _ranking,
    "conversational_understanding": _ranking,
    "code_understanding": _ranking,
}


def _check(name: str, path: Path, items: list[Any]) -> None:
    """Whole-file rules: enough items for every metric to be defined."""
    if not items:
        raise ValueError(f"{path}: no items after the header; add items")
    if name == "topic_clustering":
        counts: dict[str, int] = {}
        for item in items:
            counts[item.label] = counts.get(item.label, 0) + 1
        if len(counts) < 2 or min(counts.values()) < 2:
            raise ValueError(f"{path}: clustering needs at least 2 topics with at least 2 texts each, got {counts}")
    if name == "multilingual_alignment" and len([i for i in items if isinstance(i, Parallel)]) < 2:
        raise ValueError(f"{path}: needs at least 2 'parallel' items for cross-lingual retrieval")


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """Read and validate one dimension's JSONL file: a ``{"_header": {...}}`` line, then one item per line.

    :param name: a key of :data:`DIMENSIONS`.
    :param data_dir: folder holding the files (default: the data shipped in the package).
    :raises FileNotFoundError: if the file does not exist.
    :raises ValueError: if the name is unknown or a line breaks the schema (the message names file and line).
    """
    if name not in DIMENSIONS:
        raise ValueError(f"unknown dimension {name!r}; choose from {', '.join(DIMENSIONS)}")
    path = Path(data_dir if data_dir is not None else DATA_DIR) / DIMENSIONS[name]
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such data file; give --data a folder holding {DIMENSIONS[name]}")
    header: dict[str, Any] | None = None
    items: list[Any] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{where}: not valid JSON ({err.msg}); fix the data file") from None
        if not isinstance(row, dict):
            raise ValueError(f"{where}: expected a JSON object; fix the data file")
        if header is None:
            if not isinstance(row.get("_header"), dict):
                raise ValueError(f'{where}: the first line must be {{"_header": {{...}}}} describing the file')
            header = row["_header"]
            continue
        items.append(_PARSERS[name](row, where))
    if header is None:
        raise ValueError(f"{path}: empty file; it needs a header line and items")
    _check(name, path, items)
    return Dataset(name, path, header, tuple(items))


def load_stsb(path: str | Path = STSB_TEST) -> list[Pair]:
    """STS-B in its original tab-separated layout: score (0-5) in field 4, sentences in fields 5 and 6.

    Labels are kept on the 0-5 scale (Spearman does not care); rows may carry extra trailing fields.

    :raises FileNotFoundError: if the file does not exist.
    :raises ValueError: if a row has fewer than 7 fields or a non-numeric score.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such STS-B file; reinstall m2v-edge (it ships sts-test.csv)")
    pairs = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            pairs.append(Pair(fields[5], fields[6], float(fields[4])))
        except (IndexError, ValueError):
            raise ValueError(f"{file}:{number}: expected 7+ tab-separated fields with a numeric score") from None
    return pairs
