"""Memory (issue 25): the int8 table mapped from model.onnx, not copied; graph calls of bounded size; same bits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from m2v_edge import StaticOnnxModel
from m2v_edge.contract import ExportFiles
from m2v_edge.export.exporter import export_model
from m2v_edge.runtime import batching, mapped_table
from m2v_edge.runtime.session import OrtSession
from m2v_edge.source.datasets import STSB_TEST, load_stsb

TEXTS = [text for pair in load_stsb(STSB_TEST)[:300] for text in (pair.text1, pair.text2)] + ["", "x " * 900]


def _encode_plain(folder: Path, monkeypatch: pytest.MonkeyPatch, texts: list[str]) -> np.ndarray:
    with monkeypatch.context() as patch:
        patch.setattr(OrtSession, "_open_mapped", lambda self, ort, options, providers: None)
        model = StaticOnnxModel.from_pretrained(folder)
        assert not model.session.mapped
        return model.encode(texts)


def test_mapped_table_gives_the_same_bits(potion_int8: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = StaticOnnxModel.from_pretrained(potion_int8)
    assert model.session.mapped, model.session.mapped_reason
    mapped = model.encode(TEXTS)
    assert np.array_equal(mapped, _encode_plain(potion_int8, monkeypatch, TEXTS))
    assert np.abs(mapped).sum() > 0


def test_mapped_graph_points_at_its_own_bytes(potion_int8: Path) -> None:
    path = ExportFiles(potion_int8).model
    mapped = mapped_table.map_graph(path)
    original = onnx.load(str(path))
    edited = onnx.load_from_string(mapped.graph)
    table = {t.name: t for t in original.graph.initializer}["table"]
    reference = {t.name: t for t in edited.graph.initializer}["table"]
    assert reference.data_location == onnx.TensorProto.EXTERNAL and not reference.raw_data
    where = {entry.key: entry.value for entry in reference.external_data}
    assert where["location"] == path.name and mapped.folder == str(path.resolve().parent)
    offset, length = int(where["offset"]), int(where["length"])
    assert path.read_bytes()[offset : offset + length] == table.raw_data
    assert mapped.table.tobytes() == table.raw_data and mapped.table.shape == tuple(table.dims)
    # everything else is the file's own: nodes, metadata, the other initializers
    assert edited.graph.node == original.graph.node and edited.metadata_props == original.metadata_props
    others = [t for t in original.graph.initializer if t.name != "table"]
    assert [t for t in edited.graph.initializer if t.name != "table"] == others


def _graph_with(path: Path, out: Path, change) -> Path:  # type: ignore[no-untyped-def]
    model = onnx.load(str(path))
    change(model)
    out.write_bytes(model.SerializeToString())
    return out


def _duplicate_table(model: onnx.ModelProto) -> None:
    model.graph.initializer.append(model.graph.initializer[0])


def _float_table(model: onnx.ModelProto) -> None:
    table = model.graph.initializer[0]
    table.data_type = onnx.TensorProto.FLOAT
    table.dims[0] //= 4


@pytest.mark.parametrize(
    ("change", "why"), [(_duplicate_table, "2 initializers named 'table'"), (_float_table, "not one int8")]
)
def test_unmappable_graphs_are_refused_by_name(potion_int8: Path, tmp_path: Path, change, why: str) -> None:  # type: ignore[no-untyped-def]
    assert onnx.load(str(ExportFiles(potion_int8).model)).graph.initializer[0].name == "table"
    path = _graph_with(ExportFiles(potion_int8).model, tmp_path / "model.onnx", change)
    with pytest.raises(mapped_table.NotMappable, match=why):
        mapped_table.map_graph(path)


def test_a_float_export_loads_as_before(potion_fp32: Path) -> None:
    model = StaticOnnxModel.from_pretrained(potion_fp32)
    assert not model.session.mapped and "int8" in model.session.mapped_reason
    assert model.encode(TEXTS[:4]).shape == (4, 256)


def test_a_truncated_graph_is_still_one_clear_error(potion_int8: Path, tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(ExportFiles(potion_int8).model.read_bytes()[:5000])
    with pytest.raises(ValueError, match=r"model\.onnx: onnxruntime cannot load it \(.*\); re-export the model"):
        OrtSession(path)


def test_graph_calls_stay_within_the_cell_budget(potion_int8: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = StaticOnnxModel.from_pretrained(potion_int8)
    flat, counts = model.tokenizer.tokenize(TEXTS, 512)
    monkeypatch.setattr(batching, "MAX_CALL_CELLS", 256 * 64)
    calls = list(model.tokenizer.cut(flat, counts, 1024, 256))
    assert all(ids.shape[0] == 1 or ids.size * 256 <= batching.MAX_CALL_CELLS for _, ids, _ in calls)
    assert max(ids.shape[0] for _, ids, _ in calls) > 1  # short texts still share calls
    assert sorted(np.concatenate([rows for rows, _, _ in calls]).tolist()) == list(range(len(TEXTS)))
    small = model.encode(TEXTS)
    monkeypatch.setattr(batching, "MAX_CALL_CELLS", 1 << 40)
    assert np.array_equal(small, model.encode(TEXTS))  # a row never depends on its call's other rows


_PROBE = """
import json, sys
def status():
    return {l.split(":")[0]: int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(("VmHWM", "RssAnon"))}
import numpy, onnxruntime, tokenizers
from m2v_edge import StaticOnnxModel
before = status()
model = StaticOnnxModel.from_pretrained(sys.argv[1])
loaded = status()
model.encode(json.loads(sys.stdin.read()))
print(json.dumps({"mapped": model.session.mapped, "before": before, "loaded": loaded, "end": status()}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc/self/status (Linux)")
def test_qwen_sized_export_loads_without_copying_its_table(tmp_path: Path) -> None:
    """A fresh process: loading adds less anonymous memory than the table (a copy would add all of it); 3,000
    STS-B sentences encode under 512 MB peak RSS (measured: 121 MB added at load and 315 MB peak; 270 and 375
    with the table copied)."""
    from tests.qwen_sized import make_qwen_sized_model

    out = tmp_path / "qwen-int8"
    export_model(make_qwen_sized_model(tmp_path / "source"), out, dtype="int8", isotropy="none")
    table_kb = onnx.load(str(ExportFiles(out).model)).graph.initializer[0].dims
    table_kb = table_kb[0] * table_kb[1] // 1024
    texts = [text for pair in load_stsb(STSB_TEST) for text in (pair.text1, pair.text2)][:3000]
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out)], input=json.dumps(texts), capture_output=True, text=True, check=True
    )
    got = json.loads(run.stdout)
    assert got["mapped"]
    assert got["loaded"]["RssAnon"] - got["before"]["RssAnon"] < table_kb, got
    assert got["end"]["VmHWM"] < 512 * 1024, got
