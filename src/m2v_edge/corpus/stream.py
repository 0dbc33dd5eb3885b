"""Encode a corpus of any size with bounded memory: read a chunk, encode it, append it, checkpoint, repeat.

Memory holds one chunk of texts and its vectors (plus the encoder's batches), whatever the corpus size.
After every chunk the writer flushes and fsyncs, then ``OUTPUT.progress.json`` is replaced atomically
with the row count and the writer's state; ``resume=True`` continues from there. The output appears under
its name only when complete (the work file is ``OUTPUT.partial``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from m2v_edge.corpus.readers import InputSpec, read_chunks
from m2v_edge.corpus.vectorfile import model_fingerprint
from m2v_edge.corpus.writers import (
    JsonlWriter,
    NpyWriter,
    ParquetWriter,
    VectorFileWriter,
    Writer,
    check_dtype,
    output_format,
)

PROGRESS_VERSION = 1
DEFAULT_CHUNK_ROWS = 8192


@dataclass(frozen=True)
class EncodeReport:
    """What :func:`encode_corpus` did."""

    output: str
    format: str
    dtype: str
    rows: int
    resumed_from: int
    dim: int


def work_paths(output: Path) -> tuple[Path, Path]:
    """``(work file, progress file)`` beside the output."""
    return output.with_name(output.name + ".partial"), output.with_name(output.name + ".progress.json")


def _write_progress(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _remove_work_files(work: Path) -> None:
    for path in (work, work.with_name(work.name + ".scales")):
        path.unlink(missing_ok=True)
    shutil.rmtree(work.with_name(work.name + ".parts"), ignore_errors=True)


def _load_progress(path: Path, expected: dict[str, Any]) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: unreadable progress file ({err}); delete it to start again") from None
    for key, value in expected.items():
        if state.get(key) != value:
            raise ValueError(
                f"{path}: the interrupted run had a different {key} ({state.get(key)!r}, now {value!r}); "
                "run it with the same settings or delete the progress file to start again"
            )
    return dict(state)


def _make_writer(
    fmt: str, work: Path | None, dim: int, dtype: str, fingerprint: bytes, state: dict[str, Any] | None, stdout: Any
) -> Writer:
    if work is None:
        return JsonlWriter(None, stdout, None)
    if fmt == "npy":
        return NpyWriter(work, dim, dtype, state)
    if fmt == "jsonl":
        return JsonlWriter(work, None, state)
    if fmt == "m2vec":
        return VectorFileWriter(work, dim, dtype, fingerprint, state)
    meta = {"m2v_edge": json.dumps({"model_fingerprint": fingerprint.hex(), "dim": dim, "dtype": dtype})}
    return ParquetWriter(work, dim, dtype, meta, state)


def encode_corpus(
    model: Any,
    source: InputSpec,
    output: str,
    *,
    output_format_name: str | None = None,
    dtype: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    batch_size: int = 1024,
    resume: bool = False,
    on_chunk: Callable[[int], None] | None = None,
    stdout: IO[str] | None = None,
) -> EncodeReport:
    """Stream ``source`` through ``model`` into ``output``.

    :param model: a loaded :class:`~m2v_edge.runtime.model.StaticOnnxModel`.
    :param output: ``.npy``, ``.parquet``, ``.jsonl`` or ``.m2vec`` file, or ``-`` for ``stdout`` (JSON lines
        stream; other formats are built in a temporary folder, then copied).
    :param dtype: vector dtype (``npy``: float32/float16, ``parquet``: float32/int8, ``m2vec``: int8/float16).
    :param chunk_rows: texts read, encoded and checkpointed together (memory scales with this, not the corpus).
    :param resume: continue from ``OUTPUT.progress.json`` if present.
    :param on_chunk: called with the number of texts after each checkpointed chunk (progress bars).
    :raises ValueError: for bad settings, bad input, or a progress file that does not match.
    """
    fmt = output_format(output, output_format_name)
    dtype = check_dtype(fmt, dtype)
    fingerprint = model_fingerprint(model.files.root)
    to_stdout = output == "-"
    if to_stdout and resume:
        raise ValueError("--resume needs an output file (standard output cannot be continued)")
    if to_stdout and fmt != "jsonl":  # the format needs its row count or a footer: build it, then copy it
        with tempfile.TemporaryDirectory(prefix="m2v-edge-encode-") as tmp:
            built = Path(tmp) / f"stdout.{fmt}"
            report = encode_corpus(
                model, source, str(built), output_format_name=fmt, dtype=dtype, chunk_rows=chunk_rows,
                batch_size=batch_size, on_chunk=on_chunk,
            )  # fmt: skip
            sink: Any = stdout or sys.stdout
            sink.flush()
            with open(built, "rb") as fh:
                shutil.copyfileobj(fh, sink.buffer)
            sink.buffer.flush()
        return replace(report, output="-")
    expected = {
        "version": PROGRESS_VERSION,
        "input": source.identity(),
        "input_format": source.kind,
        "field": source.field,
        "id_field": source.id_field,
        "format": fmt,
        "dtype": dtype,
        "model_fingerprint": fingerprint.hex(),
    }
    out = Path(output)
    work, progress = work_paths(out)
    if not to_stdout:
        if not out.parent.is_dir():
            raise FileNotFoundError(f"{out.parent}: output folder does not exist")
        if source.path != "-" and out.resolve() == Path(source.path).resolve():
            raise ValueError(f"{out}: the output is the input file; write somewhere else")
        if out.is_dir():
            raise ValueError(f"{out}: is a folder; name the output file")
    state: dict[str, Any] | None = None
    if not to_stdout and progress.exists():
        if not resume:
            raise ValueError(f"{progress}: an interrupted run left this; add --resume to continue it, or delete it")
        state = _load_progress(progress, expected)
    done = 0 if state is None else int(state["rows"])
    writer = _make_writer(
        fmt, None if to_stdout else work, model.dim, dtype, fingerprint, None if state is None else state["writer"],
        stdout or sys.stdout,
    )  # fmt: skip
    rows = done
    try:
        for texts, ids in read_chunks(source, chunk_rows, skip=done):
            writer.write(ids, model.encode(texts, batch_size=batch_size).reshape(len(texts), model.dim))
            writer_state = writer.checkpoint()
            rows += len(texts)
            if not to_stdout:
                _write_progress(progress, {**expected, "rows": rows, "writer": writer_state})
            if on_chunk is not None:
                on_chunk(len(texts))
        writer.finish(out)
    except BaseException:
        if not to_stdout and not progress.exists():  # nothing to resume: leave no work files behind
            _remove_work_files(work)
        raise
    if not to_stdout:
        progress.unlink(missing_ok=True)
    return EncodeReport(output, fmt, dtype, rows, done, model.dim)
