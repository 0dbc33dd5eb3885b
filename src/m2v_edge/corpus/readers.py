r"""Streaming corpus readers: texts (and optional ids) in chunks, never the whole file in memory.

Formats: ``txt`` (one text per line, split on ``\n`` only), ``jsonl`` (a text field per object), ``csv``/``tsv``
(a header row, a text column) and ``parquet`` (pyarrow, the ``parquet`` extra). ``-`` reads standard input.
Ids are carried through as strings.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

INPUT_FORMATS = ("txt", "jsonl", "csv", "tsv", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet"}

Chunk = tuple[list[str], list[str] | None]


@dataclass(frozen=True)
class InputSpec:
    """Where the texts come from.

    :param path: a file, or ``-`` for standard input.
    :param format: one of :data:`INPUT_FORMATS`; ``None`` guesses from the suffix (anything else is ``txt``).
    :param field: the JSON field or column holding the text (not used for ``txt``).
    :param id_field: the JSON field or column holding an id to carry through, if any.
    """

    path: str
    format: str | None = None
    field: str = "text"
    id_field: str | None = None

    @property
    def kind(self) -> str:
        """The resolved format."""
        if self.format is not None:
            if self.format not in INPUT_FORMATS:
                raise ValueError(f"input format {self.format!r} is not supported; choose one of {INPUT_FORMATS}")
            return self.format
        return "txt" if self.path == "-" else _SUFFIXES.get(Path(self.path).suffix.lower(), "txt")

    def check(self) -> None:
        """Fail early, with a clear message, on a missing input or a folder."""
        if self.path == "-":
            return
        path = Path(self.path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such input file")
        if path.is_dir():
            raise ValueError(f"{path}: is a folder; give one input file")

    def identity(self) -> dict[str, Any]:
        """What a resumed run checks is unchanged: path, size and modification time (for a file)."""
        self.check()
        if self.path == "-":
            return {"path": "-"}
        stat = os.stat(self.path)
        return {"path": str(Path(self.path).resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}

    def total(self) -> int | None:
        """Number of records when cheap to know (Parquet metadata), else ``None``."""
        if self.kind != "parquet" or self.path == "-":
            return None
        return int(_parquet_file(self.path).metadata.num_rows)


def read_chunks(spec: InputSpec, rows: int, skip: int = 0) -> Iterator[Chunk]:
    """Yield ``(texts, ids)`` chunks of at most ``rows`` records, in input order, after skipping ``skip``.

    :raises FileNotFoundError: if the input does not exist.
    :raises ValueError: for undecodable or malformed records, naming the line (or row) and the remedy.
    """
    if rows < 1:
        raise ValueError(f"chunk size must be a positive integer, got {rows}")
    kind = spec.kind
    spec.check()
    if kind == "parquet":
        records: Iterable[tuple[str, str | None]] = _parquet_records(spec, rows)
    else:
        records = _text_records(spec, kind)
    yield from _chunked(records, rows, skip, spec.id_field is not None)


def _chunked(records: Iterable[tuple[str, str | None]], rows: int, skip: int, with_ids: bool) -> Iterator[Chunk]:
    texts: list[str] = []
    ids: list[str] = []
    for index, (text, key) in enumerate(records):
        if index < skip:
            continue
        texts.append(text)
        if with_ids:
            ids.append(key if key is not None else "")
        if len(texts) == rows:
            yield texts, (ids if with_ids else None)
            texts, ids = [], []
    if texts:
        yield texts, (ids if with_ids else None)


def _open_binary(spec: InputSpec) -> IO[bytes]:
    return sys.stdin.buffer if spec.path == "-" else open(spec.path, "rb")  # noqa: SIM115


def _decode(raw: bytes, name: str, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{name}:{line}: not UTF-8 (byte {err.start}); convert the file to UTF-8") from None


def _text_records(spec: InputSpec, kind: str) -> Iterator[tuple[str, str | None]]:
    name = "<stdin>" if spec.path == "-" else spec.path
    stream = _open_binary(spec)
    try:
        if kind == "txt":
            for number, raw in enumerate(stream, start=1):  # binary files split on b"\n" only
                yield _decode(raw[:-1] if raw.endswith(b"\n") else raw, name, number), None
        elif kind == "jsonl":
            yield from _jsonl_records(stream, name, spec)
        else:
            yield from _csv_records(stream, name, spec, "\t" if kind == "tsv" else ",")
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _jsonl_records(stream: IO[bytes], name: str, spec: InputSpec) -> Iterator[tuple[str, str | None]]:
    for number, raw in enumerate(stream, start=1):
        line = _decode(raw, name, number)
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{name}:{number}: not valid JSON ({err.msg}); one JSON object per line") from None
        if not isinstance(record, dict):
            raise ValueError(f"{name}:{number}: expected a JSON object, got {type(record).__name__}")
        yield _pick(record, spec, f"{name}:{number}", "--field", list(record))


def _csv_records(stream: IO[bytes], name: str, spec: InputSpec, delimiter: str) -> Iterator[tuple[str, str | None]]:
    csv.field_size_limit(2**31 - 1)  # documents longer than the default 128 KiB limit are fine
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    try:
        rows = csv.reader(text, delimiter=delimiter)
        header = next(rows, None)
        if header is None:
            return
        for row in rows:
            if not row:
                continue
            record = dict(zip(header, row, strict=False))  # short rows lack the last fields
            yield _pick(record, spec, f"{name}:{rows.line_num}", "--column", header)
    except UnicodeDecodeError as err:
        raise ValueError(f"{name}: not UTF-8 (byte {err.start} of a block); convert the file to UTF-8") from None
    except csv.Error as err:
        raise ValueError(f"{name}: malformed {'TSV' if delimiter == chr(9) else 'CSV'} ({err})") from None
    finally:
        text.detach()


def _pick(record: dict[str, Any], spec: InputSpec, where: str, option: str, keys: list[str]) -> tuple[str, str | None]:
    if spec.field not in record:
        raise ValueError(f"{where}: no {spec.field!r} field (has {keys[:10]}); name the text with {option}")
    text = record[spec.field]
    if not isinstance(text, str):
        raise ValueError(f"{where}: {spec.field!r} is {type(text).__name__}, expected a string")
    if spec.id_field is None:
        return text, None
    if spec.id_field not in record:
        flag = option.replace("--", "--id-")
        raise ValueError(f"{where}: no {spec.id_field!r} id field (has {keys[:10]}); check {flag}")
    key = record[spec.id_field]
    return text, (key if isinstance(key, str) else json.dumps(key))


def _parquet_file(path: str) -> Any:
    from m2v_edge.extras import require

    require("parquet", "pyarrow", what="reading Parquet")
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises ArrowInvalid and friends
        raise ValueError(f"{path}: not a readable Parquet file ({str(err).splitlines()[0][:200]})") from None


def _parquet_records(spec: InputSpec, rows: int) -> Iterator[tuple[str, str | None]]:
    if spec.path == "-":
        raise ValueError("Parquet cannot be read from standard input; give the file path")
    file = _parquet_file(spec.path)
    names = file.schema_arrow.names
    wanted = [spec.field] + ([spec.id_field] if spec.id_field else [])
    for column in wanted:
        if column not in names:
            raise ValueError(f"{spec.path}: no column {column!r} (has {names[:10]}); name it with --column/--id-column")
    start = 0
    for batch in file.iter_batches(batch_size=rows, columns=wanted):
        texts = batch.column(0).to_pylist()
        keys = batch.column(1).to_pylist() if spec.id_field else [None] * len(texts)
        for offset, (text, key) in enumerate(zip(texts, keys, strict=True)):
            if not isinstance(text, str):
                row = start + offset
                raise ValueError(f"{spec.path}: row {row} of {spec.field!r} is {text!r}, expected a string")
            yield text, (None if key is None else str(key))
        start += len(texts)
