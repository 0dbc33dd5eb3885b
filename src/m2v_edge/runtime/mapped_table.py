"""The int8 table memory-mapped from ``model.onnx`` instead of copied into onnxruntime (issue 25, memory).

onnxruntime opening a ``model.onnx`` parses the whole file and copies every initializer out of it: for the
Qwen-sized export (149 MB table) the load peaks 306 MB above the imports and settles 159 MB above them
(docs/bench.md). Here onnxruntime gets the graph without the table's bytes, and the table as an ``OrtValue`` over a
read-only ``numpy.memmap`` of the same file (``SessionOptions.add_initializer``: onnxruntime uses that memory and
copies nothing). The pages are read on first use, shared with the page cache, and the kernel may drop and re-read
them under memory pressure. Same file, same bytes, same graph: the vectors are bit-identical to a plain load,
and the export format is unchanged (every runtime reads the same ``model.onnx``).

onnxruntime accepts a separately given initializer only where the graph marks it as external data, so the graph
handed over is the file with the table's ``raw_data`` field replaced by an external-data reference to its own
bytes (location, offset, length): a few hundred kB of protobuf, edited at the wire level (no ``onnx`` needed).
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

TABLE = "table"
_INT8 = 3  # onnx.TensorProto.INT8
_EXTERNAL = 1  # onnx.TensorProto.EXTERNAL
# ModelProto.graph, GraphProto.initializer, TensorProto.{dims, data_type, name, raw_data, external_data, data_location}
_GRAPH, _INITIALIZER = 7, 5
_DIMS, _DATA_TYPE, _NAME, _RAW, _EXTERNAL_DATA, _LOCATION = 1, 2, 8, 9, 13, 14
# onnxruntime resolves external data of a graph given as bytes against this folder (an onnxruntime without this
# key refuses the mapped graph, and the file is loaded as before).
FOLDER_KEY = "session.model_external_initializers_file_folder_path"


class NotMappable(Exception):
    """Why the table cannot be mapped (the caller loads the file as usual)."""


@dataclass(frozen=True)
class MappedGraph:
    """The graph without its table's bytes, and the table mapped from the file."""

    graph: bytes
    table: np.ndarray
    folder: str


def _varint(buf: Any, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(buf) or shift > 63:
            raise NotMappable("truncated or malformed protobuf")
        byte = buf[at]
        value |= (byte & 0x7F) << shift
        at += 1
        shift += 7
        if byte < 0x80:
            return value, at


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _fields(buf: Any, start: int, stop: int) -> Any:
    """``(field, wire, key_at, value_at, end, number)`` per field of the message in ``buf[start:stop]``."""
    at = start
    while at < stop:
        key_at = at
        key, at = _varint(buf, at)
        field, wire = key >> 3, key & 7
        number = 0
        if wire == 0:
            number, end = _varint(buf, at)
        elif wire == 1:
            end = at + 8
        elif wire == 5:
            end = at + 4
        elif wire == 2:
            length, at = _varint(buf, at)
            end = at + length
        else:
            raise NotMappable(f"protobuf wire type {wire}")
        if end > stop:
            raise NotMappable("truncated protobuf")
        yield field, wire, key_at, at, end, number
        at = end


def _field(field: int, payload: bytes) -> bytes:
    return _encode_varint(field << 3 | 2) + _encode_varint(len(payload)) + payload


def _only(buf: Any, start: int, stop: int, number: int) -> tuple[int, int, int]:
    """The one length-delimited field ``number`` of a message: ``(key_at, value_at, end)``."""
    found = [(k, v, e) for f, w, k, v, e, _ in _fields(buf, start, stop) if f == number and w == 2]
    if len(found) != 1:
        raise NotMappable(f"{len(found)} copies of field {number}")
    return found[0]


@dataclass(frozen=True)
class _Table:
    """Where the table initializer lies in the file: its field, its raw_data field, its shape."""

    key_at: int
    value_at: int
    end: int
    raw_key_at: int
    raw_at: int
    raw_end: int
    rows: int
    dim: int


def _table(buf: Any, start: int, stop: int) -> _Table:
    """The table initializer inside the graph."""
    hits = []
    for field, wire, key_at, value_at, end, _ in _fields(buf, start, stop):
        if field != _INITIALIZER or wire != 2:
            continue
        name = [bytes(buf[v:e]) for f, w, _k, v, e, _n in _fields(buf, value_at, end) if f == _NAME and w == 2]
        if name == [TABLE.encode()]:
            hits.append((key_at, value_at, end))
    if len(hits) != 1:
        raise NotMappable(f"{len(hits)} initializers named {TABLE!r}")
    key_at, value_at, end = hits[0]
    dims: list[int] = []
    dtype: int | None = None
    raws: list[tuple[int, int, int]] = []
    for field, wire, k, v, e, number in _fields(buf, value_at, end):
        if field == _DIMS and wire == 0:
            dims.append(number)
        elif field == _DIMS and wire == 2:
            at = v
            while at < e:
                dim, at = _varint(buf, at)
                dims.append(dim)
        elif field == _DATA_TYPE:
            dtype = number
        elif field == _RAW and wire == 2:
            raws.append((k, v, e))
        elif field not in (_NAME,):
            raise NotMappable(f"the table's TensorProto has field {field}")
    if dtype != _INT8 or len(dims) != 2 or len(raws) != 1 or raws[0][2] - raws[0][1] != dims[0] * dims[1]:
        raise NotMappable("the table is not one int8 [rows, dim] raw_data field of its size")
    return _Table(key_at, value_at, end, *raws[0], dims[0], dims[1])


def map_graph(path: Path) -> MappedGraph:
    """Read ``path``'s structure (not its table) and map the table.

    :raises NotMappable: for a graph that is not an exported int8 graph laid out as the exporter writes it.
    """
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        g_key, g_at, g_end = _only(buf, 0, len(buf), _GRAPH)
        t = _table(buf, g_at, g_end)
        reference = b"".join(
            _field(_EXTERNAL_DATA, _field(1, key.encode()) + _field(2, value.encode()))
            for key, value in (
                ("location", path.name),
                ("offset", str(t.raw_at)),
                ("length", str(t.raw_end - t.raw_at)),
            )
        )
        reference += _encode_varint(_LOCATION << 3) + _encode_varint(_EXTERNAL)
        tensor = buf[t.value_at : t.raw_key_at] + buf[t.raw_end : t.end] + reference
        graph = buf[g_at : t.key_at] + _field(_INITIALIZER, tensor) + buf[t.end : g_end]
        model = buf[:g_key] + _field(_GRAPH, graph) + buf[g_end:]
    table = np.memmap(path, dtype=np.int8, mode="r", offset=t.raw_at, shape=(t.rows, t.dim))
    return MappedGraph(model, table, str(path.resolve().parent))
