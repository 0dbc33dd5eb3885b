"""Encode a corpus of any size with bounded memory: read a chunk, encode it, append it, checkpoint, repeat.

Memory holds one chunk of texts and its vectors (plus the encoder's batches), whatever the corpus size.
After every chunk the writer flushes and fsyncs, then ``OUTPUT.progress.json`` is replaced atomically
with the row count and the writer's state; ``resume=True`` continues from there, after checking every number of
that state against the work file and the model's files against their sha256. The output appears under its name
only when complete (the work file is ``OUTPUT.partial``). One run at a time writes an output: it holds an
exclusive lock on ``OUTPUT.lock`` (released by the system if the process dies; the file is removed at the end).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from m2v_edge.corpus.readers import InputSpec, read_chunks
from m2v_edge.corpus.vectorfile import model_fingerprint, require_finite
from m2v_edge.corpus.writers import (
    CheckpointError,
    JsonlWriter,
    NpyWriter,
    ParquetWriter,
    VectorFileWriter,
    Writer,
    check_dtype,
    output_format,
    saved_count,
)

PROGRESS_VERSION = 2  # 2: the model's files by sha256, a row count in every writer's state
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


def model_files_sha256(files: Any) -> dict[str, str]:
    """The sha256 of each file that makes the vectors (config, graph, tokenizer): what a resumed run must match.

    Hashed here, not taken from config.json's ``files``: a file changed on disk after the model was loaded
    would pass a check of the config alone (0.4 s for a 156 MB graph, once per run).
    """
    digests = {}
    for path in (files.config, files.model, files.tokenizer):
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        digests[path.name] = digest.hexdigest()
    return digests


def _lock_file(fd: int) -> None:
    """An exclusive, non-blocking lock on ``fd`` (:class:`OSError` if another process holds it)."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
    else:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextmanager
def output_lock(output: Path) -> Iterator[None]:
    """Hold ``OUTPUT.lock`` while writing ``output``; another holder means another run writes it.

    :raises ValueError: ``another encode is writing OUTPUT``.
    """
    path = output.with_name(output.name + ".lock")
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock_file(fd)
        except OSError:
            os.close(fd)
            raise ValueError(f"another encode is writing {output}; wait for it to finish or write elsewhere") from None
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break  # the file we locked is still the lock file (its last holder may have removed it meanwhile)
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.ftruncate(fd, 0)  # a killed run's file: its pid goes
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        path.unlink(missing_ok=True)  # still holding the lock: the next run creates a fresh file
        os.close(fd)


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
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: unreadable progress file ({err}); delete it to start again") from None
    if not isinstance(state, dict) or not isinstance(state.get("writer"), dict):
        raise ValueError(f"{path}: not a progress file of this m2v-edge; delete it to start again")
    for key, value in expected.items():
        if key == "model_files" and state.get(key) != value:
            saved: dict[str, Any] = state[key] if isinstance(state.get(key), dict) else {}
            changed = [name for name, digest in value.items() if saved.get(name) != digest]
            raise ValueError(
                f"{path}: the model's {', '.join(changed)} changed since the interrupted run (sha256); "
                "resume with the same export or delete the progress file to start again"
            )
        if state.get(key) != value:
            raise ValueError(
                f"{path}: the interrupted run had a different {key} ({state.get(key)!r}, now {value!r}); "
                "run it with the same settings or delete the progress file to start again"
            )
    try:
        rows = saved_count(state, "rows")
        if saved_count(state["writer"], "rows") != rows:
            raise CheckpointError(f"its rows ({rows}) and its writer's rows ({state['writer']['rows']}) differ")
    except CheckpointError as err:
        raise ValueError(f"{path}: {err}; delete it to start again") from None
    return dict(state)


def _make_writer(fmt: str, work: Path, dim: int, dtype: str, fingerprint: bytes, state: dict[str, Any] | None) -> Any:
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
        "model_files": model_files_sha256(model.files),
    }
    if to_stdout:  # JSON lines streamed: nothing to lock, nothing to resume
        writer = JsonlWriter(None, stdout or sys.stdout, None)
        rows = _run(model, source, writer, chunk_rows, batch_size, 0, on_chunk, lambda state: None)
        writer.finish(Path(output))
        return EncodeReport(output, fmt, dtype, rows, 0, model.dim)
    out = Path(output)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"{out.parent}: output folder does not exist")
    if source.path != "-" and out.resolve() == Path(source.path).resolve():
        raise ValueError(f"{out}: the output is the input file; write somewhere else")
    if out.is_dir():
        raise ValueError(f"{out}: is a folder; name the output file")
    work, progress = work_paths(out)
    with output_lock(out):
        state: dict[str, Any] | None = None
        if progress.exists():
            if not resume:
                raise ValueError(f"{progress}: an interrupted run left this; add --resume to continue it, or delete it")
            state = _load_progress(progress, expected)
        done = 0 if state is None else state["rows"]
        try:
            writer = _make_writer(fmt, work, model.dim, dtype, fingerprint, None if state is None else state["writer"])
        except CheckpointError as err:
            raise ValueError(f"{progress}: {err}; delete it and {work.name}* to start again") from None

        def save(writer_state: dict[str, Any]) -> None:
            _write_progress(progress, {**expected, "rows": writer_state["rows"], "writer": writer_state})

        try:
            rows = _run(model, source, writer, chunk_rows, batch_size, done, on_chunk, save)
            writer.finish(out)
        except BaseException:
            if not progress.exists():  # nothing to resume: leave no work files behind
                _remove_work_files(work)
            raise
        progress.unlink(missing_ok=True)
    return EncodeReport(output, fmt, dtype, rows, done, model.dim)


def _run(
    model: Any,
    source: InputSpec,
    writer: Writer,
    chunk_rows: int,
    batch_size: int,
    done: int,
    on_chunk: Callable[[int], None] | None,
    save: Callable[[dict[str, Any]], None],
) -> int:
    """Read, encode, append and checkpoint chunk by chunk after ``done`` rows; the row count at the end."""
    rows = done
    for texts, ids in read_chunks(source, chunk_rows, skip=done):
        vectors = model.encode(texts, batch_size=batch_size).reshape(len(texts), model.dim)
        require_finite(vectors, "the model's vectors", "the export is corrupt: export it again", first_row=rows)
        writer.write(ids, vectors)
        state = writer.checkpoint()
        rows += len(texts)
        save(state)
        if on_chunk is not None:
            on_chunk(len(texts))
    return rows
