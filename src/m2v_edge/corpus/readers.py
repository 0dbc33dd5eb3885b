r"""Streaming corpus readers: texts (and optional ids) in chunks, never the whole file in memory.

Formats: ``txt`` (one text per line, split on ``\n`` only), ``jsonl`` (a text field per object), ``csv`` (a
header row; quoting read strictly: a malformed quote is an error naming its line, never rows merged), ``tsv`` (a
header row, one record per line split on tabs, no quoting: ``"`` is an ordinary character; a ``\r`` before the
``\n`` is dropped) and ``parquet`` (pyarrow, the ``parquet`` extra). ``-`` reads standard input. A CSV/TSV
record must have as many fields as the header. Ids are carried through as strings.

A line (a CSV record) longer than ``max_line_chars`` characters is an error, and the reader never holds more than
one such line (``4 x max_line_chars`` bytes): a file without newlines (``/dev/zero``) cannot exhaust memory.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

DEFAULT_MAX_LINE_CHARS = 1_000_000
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
    :param max_line_chars: the longest line (CSV record) accepted, in characters; a longer one is an error.
    """

    path: str
    format: str | None = None
    field: str = "text"
    id_field: str | None = None
    max_line_chars: int = DEFAULT_MAX_LINE_CHARS

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
    :raises ValueError: for undecodable or malformed records, naming the line (or row) and the remedy; if the
        input has fewer than ``skip`` records (a resumed run's count does not fit it).
    """
    if rows < 1:
        raise ValueError(f"chunk size must be a positive integer, got {rows}")
    cap = spec.max_line_chars
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise ValueError(f"--max-line-chars must be a positive integer, got {cap!r}")
    kind = spec.kind
    spec.check()
    if kind == "parquet":
        records: Iterable[tuple[str, str | None]] = _parquet_records(spec, rows)
    else:
        records = _text_records(spec, kind)
    texts: list[str] = []
    ids: list[str] = []
    with_ids = spec.id_field is not None
    seen = 0
    for seen, (text, key) in enumerate(records, start=1):
        if seen <= skip:
            continue
        texts.append(text)
        if with_ids:
            ids.append(key if key is not None else "")
        if len(texts) == rows:
            yield texts, (ids if with_ids else None)
            texts, ids = [], []
    if seen < skip:
        raise ValueError(f"{spec.path}: has {seen} records, fewer than the {skip} the run to resume counted done")
    if texts:
        yield texts, (ids if with_ids else None)


def _open_binary(spec: InputSpec) -> IO[bytes]:
    return sys.stdin.buffer if spec.path == "-" else open(spec.path, "rb")  # noqa: SIM115


def _too_long(name: str, line: int, cap: int) -> ValueError:
    return ValueError(
        f"{name}:{line}: longer than {cap:,} characters (--max-line-chars); split the text or raise the limit"
    )


def _lines(stream: IO[bytes], name: str, cap: int) -> Iterator[tuple[int, str]]:
    r"""``(line number, text)`` split on ``\n`` only (removed); never reads more than one capped line at once."""
    limit = 4 * cap + 1  # a character is at most 4 UTF-8 bytes: a longer read is over the cap for sure
    number = 0
    while raw := stream.readline(limit):
        number += 1
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        elif len(raw) == limit:
            raise _too_long(name, number, cap)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"{name}:{number}: not UTF-8 (byte {err.start}); convert the file to UTF-8") from None
        if len(text) > cap:
            raise _too_long(name, number, cap)
        yield number, text


def _text_records(spec: InputSpec, kind: str) -> Iterator[tuple[str, str | None]]:
    name = "<stdin>" if spec.path == "-" else spec.path
    stream = _open_binary(spec)
    try:
        lines = _lines(stream, name, spec.max_line_chars)
        if kind == "txt":
            for _, text in lines:
                yield text, None
        elif kind == "jsonl":
            yield from _jsonl_records(lines, name, spec)
        elif kind == "tsv":
            yield from _tsv_records(lines, name, spec)
        else:
            yield from _csv_records(lines, name, spec)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _jsonl_records(lines: Iterator[tuple[int, str]], name: str, spec: InputSpec) -> Iterator[tuple[str, str | None]]:
    for number, line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{name}:{number}: not valid JSON ({err.msg}); one JSON object per line") from None
        if not isinstance(record, dict):
            raise ValueError(f"{name}:{number}: expected a JSON object, got {type(record).__name__}")
        yield _pick(record, spec, f"{name}:{number}", "--field", list(record))


def _fields(header: list[str], row: list[str], where: str, kind: str) -> dict[str, Any]:
    if len(row) != len(header):
        hint = "quote fields that hold a comma" if kind == "CSV" else "TSV has no quoting: a text cannot hold a tab"
        raise ValueError(f"{where}: {len(row)} fields, the header has {len(header)}; {hint}")
    return dict(zip(header, row, strict=True))


def _tsv_records(lines: Iterator[tuple[int, str]], name: str, spec: InputSpec) -> Iterator[tuple[str, str | None]]:
    header: list[str] | None = None
    for number, line in lines:
        line = line.removesuffix("\r")  # a CRLF line ending
        if not line:
            continue
        if header is None:
            header = line.split("\t")
            continue
        record = _fields(header, line.split("\t"), f"{name}:{number}", "TSV")
        yield _pick(record, spec, f"{name}:{number}", "--column", header)


def _csv_records(lines: Iterator[tuple[int, str]], name: str, spec: InputSpec) -> Iterator[tuple[str, str | None]]:
    """RFC 4180 read strictly: an unclosed quote or text after a closing quote is an error at the record's line.

    A record (a quoted field may span lines) is capped like a line, so an unclosed quote cannot run on forever.
    """
    cap = spec.max_line_chars
    at = {"line": 0, "chars": 0, "start": 1}

    def feed() -> Iterator[str]:
        for number, text in lines:
            at["line"], at["chars"] = number, at["chars"] + len(text)
            if at["chars"] > cap:  # an unclosed quote runs on until the cap
                raise _too_long(name, at["start"], cap)
            yield text + "\n"

    csv.field_size_limit(2**31 - 1)  # the record cap above is the limit
    rows = csv.reader(feed(), strict=True)
    header: list[str] | None = None
    while True:
        at["start"], at["chars"] = at["line"] + 1, 0
        try:
            row = next(rows, None)
        except csv.Error as err:
            raise ValueError(
                f"{name}:{at['start']}: malformed CSV in the record starting here ({err}); quote a field whole "
                'and double the quotes inside it ("")'
            ) from None
        if row is None:
            return
        if not row:
            continue
        if header is None:
            header = row
            continue
        where = f"{name}:{at['start']}"
        yield _pick(_fields(header, row, where, "CSV"), spec, where, "--column", header)


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
