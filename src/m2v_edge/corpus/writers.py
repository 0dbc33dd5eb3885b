"""Streaming vector writers: rows appended chunk by chunk to a work file, renamed onto the output at the end.

Every writer has ``write(ids, vectors)``, ``checkpoint() -> state`` (data flushed and fsync'ed; the state goes
into the progress file) and ``finish(output)``. A writer opened with a saved state first checks every number
in it against the work file on disk (:class:`CheckpointError` if one does not fit, before anything is cut), then
drops whatever was written after that checkpoint, so a resumed run neither redoes nor duplicates rows.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np

from m2v_edge.corpus.vectorfile import HEADER_SIZE, pack_header, quantize_rows, scales_offset

OUTPUT_FORMATS = ("npy", "parquet", "jsonl", "m2vec")
DTYPES = {
    "npy": ("float32", "float16"),
    "parquet": ("float32", "int8"),
    "jsonl": ("float32",),
    "m2vec": ("int8", "float16"),
}
_NPY_HEADER = 128  # fixed, so the row count can be rewritten in place after every chunk


class CheckpointError(ValueError):
    """A saved writer state that does not fit the work file on disk (nothing was changed)."""


def saved_count(state: Any, key: str) -> int:
    """``state[key]`` as a row or byte count: a non-negative integer (not a bool, float or string).

    :raises CheckpointError: naming the key and the value.
    """
    value = state.get(key) if isinstance(state, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CheckpointError(f"its {key} is {value!r}, not a count")
    return value


def _file_size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else -1


class Writer(Protocol):
    """What :func:`m2v_edge.corpus.stream.encode_corpus` needs from a writer."""

    def write(self, ids: list[str] | None, vectors: np.ndarray) -> None: ...  # noqa: D102
    def checkpoint(self) -> dict[str, Any]: ...  # noqa: D102
    def finish(self, output: Path) -> None: ...  # noqa: D102


def output_format(path: str, given: str | None) -> str:
    """The output format: ``given``, or the suffix of ``path``; ``.npy`` for ``-`` (stdout) and other suffixes."""
    if given is not None:
        if given not in OUTPUT_FORMATS:
            raise ValueError(f"output format {given!r} is not supported; choose one of {OUTPUT_FORMATS}")
        return given
    if path == "-":
        return "npy"
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in OUTPUT_FORMATS else "npy"  # written under exactly the name given


def check_dtype(fmt: str, dtype: str | None) -> str:
    """The vector dtype for ``fmt`` (default its first), or a clear error."""
    allowed = DTYPES[fmt]
    if dtype is None:
        return allowed[0]
    if dtype not in allowed:
        raise ValueError(f"--dtype {dtype} is not available for .{fmt} output; choose one of {list(allowed)}")
    return dtype


def _fsync(fh: IO[Any]) -> None:
    fh.flush()
    os.fsync(fh.fileno())


class _Appender:
    """A work file that grows by appends; reopening with a saved size cuts what came after it."""

    def __init__(self, path: Path, size: int | None, head: bytes = b"", check: bytes | None = None) -> None:
        self.path = path
        if size is None:
            self.fh = open(path, "wb+")  # noqa: SIM115
            self.fh.write(head)
        else:
            if _file_size(path) < size:
                raise CheckpointError(f"{path.name} is missing or shorter than the {size} bytes it says")
            with open(path, "rb") as fh:
                expect = head if check is None else check  # what the file starts with at every checkpoint
                if fh.read(len(expect)) != expect:
                    raise CheckpointError(f"{path.name} does not start as this writer's file")
            self.fh = open(path, "rb+")  # noqa: SIM115
            self.fh.truncate(size)
            self.fh.seek(size)

    def size(self) -> int:
        _fsync(self.fh)
        return self.fh.tell()


class NpyWriter:
    """A ``.npy`` whose header is rewritten with the row count after every chunk: always a valid file."""

    def __init__(self, work: Path, dim: int, dtype: str, state: dict[str, Any] | None) -> None:
        self.dim, self.dtype = dim, np.dtype(dtype).newbyteorder("<")
        self.rows, size = 0, None
        if state is not None:
            self.rows, size = saved_count(state, "rows"), saved_count(state, "bytes")
            if size != _NPY_HEADER + self.rows * dim * self.dtype.itemsize:
                raise CheckpointError(f"its {size} bytes are not {self.rows} rows of {dim} {dtype} values")
        self.file = _Appender(work, size, self._header(), check=np.lib.format.magic(1, 0))

    def _header(self) -> bytes:
        descr = np.lib.format.dtype_to_descr(self.dtype)
        text = repr({"descr": descr, "fortran_order": False, "shape": (self.rows, self.dim)}).encode("latin1")
        body = text + b" " * (_NPY_HEADER - 10 - len(text) - 1) + b"\n"
        return np.lib.format.magic(1, 0) + len(body).to_bytes(2, "little") + body

    def write(self, ids: list[str] | None, vectors: np.ndarray) -> None:
        self.file.fh.write(np.ascontiguousarray(vectors, dtype=self.dtype).tobytes())
        self.rows += len(vectors)

    def checkpoint(self) -> dict[str, Any]:
        size = self.file.size()
        self.file.fh.seek(0)
        self.file.fh.write(self._header())
        self.file.fh.seek(size)
        _fsync(self.file.fh)
        return {"rows": self.rows, "bytes": size}

    def finish(self, output: Path) -> None:
        self.checkpoint()
        self.file.fh.close()
        os.replace(self.file.path, output)


class JsonlWriter:
    """One ``{"id": ..., "vector": [...]}`` object per line (float32 values, exact when parsed back)."""

    def __init__(self, work: Path | None, stream: IO[str] | None, state: dict[str, Any] | None) -> None:
        self.rows, size = 0, None
        if state is not None and work is not None:
            self.rows, size = saved_count(state, "rows"), saved_count(state, "bytes")
            if _file_size(work) >= size and _count_lines(work, size) != self.rows:
                raise CheckpointError(f"the first {size} bytes of {work.name} are not {self.rows} whole lines")
        self.file = None if work is None else _Appender(work, size)
        self.stream = stream

    def write(self, ids: list[str] | None, vectors: np.ndarray) -> None:
        rows = vectors.astype(np.float32).tolist()
        if ids is None:
            lines = [json.dumps({"vector": row}) for row in rows]
        else:
            pairs = zip(ids, rows, strict=True)
            lines = [json.dumps({"id": key, "vector": row}, ensure_ascii=False) for key, row in pairs]
        text = "\n".join(lines) + "\n" if lines else ""
        self.rows += len(lines)
        if self.file is not None:
            self.file.fh.write(text.encode("utf-8"))
        elif self.stream is not None:
            self.stream.write(text)

    def checkpoint(self) -> dict[str, Any]:
        if self.file is None:
            if self.stream is not None:
                self.stream.flush()
            return {}
        return {"rows": self.rows, "bytes": self.file.size()}

    def finish(self, output: Path) -> None:
        if self.file is not None:
            self.checkpoint()
            self.file.fh.close()
            os.replace(self.file.path, output)


class VectorFileWriter:
    """The ``.m2vec`` app file: rows appended to the work file, scales to a side file joined at the end."""

    def __init__(self, work: Path, dim: int, dtype: str, fingerprint: bytes, state: dict[str, Any] | None) -> None:
        self.dim, self.dtype, self.fingerprint = dim, dtype, fingerprint
        self.rows = 0 if state is None else saved_count(state, "rows")
        self.row_bytes = dim * (1 if dtype == "int8" else 2)
        head = pack_header(dtype, dim, 0, fingerprint)
        self.file = _Appender(work, None if state is None else HEADER_SIZE + self.rows * self.row_bytes, head)
        self.scales = None
        if dtype == "int8":
            self.scales = _Appender(work.with_name(work.name + ".scales"), None if state is None else 4 * self.rows)

    def write(self, ids: list[str] | None, vectors: np.ndarray) -> None:
        if self.scales is None:
            self.file.fh.write(np.asarray(vectors, dtype="<f2").tobytes())
        else:
            q, scale = quantize_rows(vectors)
            self.file.fh.write(q.tobytes())
            self.scales.fh.write(scale.astype("<f4").tobytes())
        self.rows += len(vectors)

    def checkpoint(self) -> dict[str, Any]:
        self.file.size()
        if self.scales is not None:
            self.scales.size()
        return {"rows": self.rows}

    def finish(self, output: Path) -> None:
        fh = self.file.fh
        if self.scales is not None:
            fh.write(b"\0" * (scales_offset(self.dim, self.rows) - HEADER_SIZE - self.rows * self.dim))
            self.scales.fh.seek(0)
            shutil.copyfileobj(self.scales.fh, fh)
            self.scales.fh.close()
            self.scales.path.unlink()
        fh.seek(0)
        fh.write(pack_header(self.dtype, self.dim, self.rows, self.fingerprint))
        _fsync(fh)
        fh.close()
        os.replace(self.file.path, output)


class ParquetWriter:
    """Each checkpoint is one part file (written then renamed); ``finish`` joins them into one Parquet file."""

    def __init__(self, work: Path, dim: int, dtype: str, metadata: dict[str, str], state: dict[str, Any] | None):
        from m2v_edge.corpus.arrow import require_pyarrow

        require_pyarrow()
        self.work, self.dim, self.dtype, self.metadata = work, dim, dtype, metadata
        self.parts_dir = work.with_name(work.name + ".parts")
        self.parts, self.rows = 0, 0
        if state is None and self.parts_dir.exists():
            shutil.rmtree(self.parts_dir)
        if state is not None:
            self.parts, self.rows = saved_count(state, "parts"), saved_count(state, "rows")
            if self._saved_rows() != self.rows:
                raise CheckpointError(f"its {self.parts} parts ({self.parts_dir.name}) do not hold {self.rows} rows")
        self.parts_dir.mkdir(exist_ok=True)
        for stale in self.parts_dir.iterdir():  # parts written after the last checkpoint
            if not stale.name.endswith(".parquet") or int(stale.stem.split("-")[1]) >= self.parts:
                stale.unlink()
        self.pending: list[Any] = []

    def _part(self, index: int) -> Path:
        return self.parts_dir / f"part-{index:06d}.parquet"

    def _saved_rows(self) -> int | None:
        """Rows in parts ``0 .. parts - 1`` (their footers), ``None`` if one is missing or unreadable."""
        import pyarrow.parquet as pq

        try:
            return sum(pq.read_metadata(self._part(index)).num_rows for index in range(self.parts))
        except (OSError, ValueError, TypeError):  # missing, or not Parquet (pyarrow's errors are ValueErrors)
            return None

    def write(self, ids: list[str] | None, vectors: np.ndarray) -> None:
        from m2v_edge.corpus.arrow import vectors_table

        self.pending.append(vectors_table(vectors, self.dtype, ids, self.metadata))
        self.rows += len(vectors)

    def checkpoint(self) -> dict[str, Any]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.pending:
            part = self._part(self.parts)
            tmp = part.with_suffix(".tmp")
            pq.write_table(pa.concat_tables(self.pending), tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, part)
            self.parts += 1
            self.pending = []
        return {"parts": self.parts, "rows": self.rows}

    def finish(self, output: Path) -> None:
        import pyarrow.parquet as pq

        from m2v_edge.corpus.arrow import vectors_table

        self.checkpoint()
        schema = vectors_table(np.zeros((0, self.dim), np.float32), self.dtype, None, self.metadata).schema
        if self.parts:
            schema = pq.read_schema(self._part(0))
        with pq.ParquetWriter(self.work, schema) as out:
            for index in range(self.parts):  # one part in memory at a time
                out.write_table(pq.read_table(self._part(index)))
        shutil.rmtree(self.parts_dir)
        os.replace(self.work, output)


def _count_lines(path: Path, size: int) -> int:
    """Newlines in the first ``size`` bytes of ``path``, or -1 if they do not end with one (read in blocks)."""
    lines, left = 0, size
    last = b"\n"
    with open(path, "rb") as fh:
        while left > 0:
            block = fh.read(min(left, 1 << 20))
            lines, left, last = lines + block.count(b"\n"), left - len(block), block[-1:]
    return lines if last == b"\n" else -1
