"""Write the fixtures the JavaScript tests in ``web/`` need, with Python golden token ids and vectors.

Creates, under ``web/.fixtures/`` (gitignored):

- ``potion-int8/``: ``models/potion-base-8M`` exported to int8 (WordPiece) with ``target="mobile"``, so
  ``model.ort`` (ORT format) sits next to ``model.onnx``;
- ``qwen-1024-int8/``: the Qwen-sized model of ``m2v_edge.bench.qwen_sized`` (the real Qwen tokenizer, byte-level
  BPE, 151,669 tokens, with a seeded random 1024-d table), exported to int8 (about 156 MB);
- ``unigram-int8/``: the tiny Unigram model of ``tests/tiny_models.py``, exported to int8 (and
  ``unigram-dim20-int8/``, the same at 20 dims: rows the pooling kernel pads in a copy of the table);
  these three in the ``flat`` layout (``model.onnx`` at the top);
- ``potion-hf/`` and ``wordpiece-hf/``: potion-base-8M and the frozen tiny WordPiece model of
  ``tests/data/v1-wordpiece/source`` exported to int8 in the default Hugging Face layout
  (``onnx/model_quantized.onnx``), for transformers.js; ``wordpiece-fp16-hf/`` the latter in float16
  (``onnx/model_fp16.onnx``); ``potion-pipeline-hf/`` and ``wordpiece-pipeline-hf/`` the int8 two exported with
  ``pipeline_output=True`` (the ``last_hidden_state`` output transformers.js's feature-extraction pipeline pools);
- golden files also for ``tests/data/v1-wordpiece/export`` (a format-1 export, read in place);
- ``qwen-m2v-iso-int8/``: the real Qwen-family Model2Vec model in ``../shared/models/`` exported to int8 with
  ``isotropy="auto"`` spelled out, flat layout (the map folded into the table: runtimes need no change), and
  ``qwen-m2v-default/``: the same model's default export (``export_model`` with no options: int8, hf layout,
  ``auto``), for the seed card's example in the npm package; both skipped when ../shared is absent;
- ``stsb/``: 2,000 distinct STS-B test sentences written by the streaming encode (``docs.m2vec``, int8 + scale, with
  potion-int8), Python's sqlite-vec store of it (``docs.db``, ids ``doc-<row>``; needs ``m2v-edge[sqlite]``) and
  ``texts.json`` (those documents and 100 distinct STS-B dev queries not among them), for the
  sqlite-vec WebAssembly store's recall test (``web/test/sqlite-vec.test.js``);
- ``golden/<name>.json``: for every text of ``tests/data/tricky_texts.json``, the token ids of
  ``TextTokenizer.encode_ids`` (the rules of docs/format.md) and the vectors of ``StaticOnnxModel``.

Exports are reused when their stamp matches (``--force`` rebuilds them); golden files are always rewritten.
``tests/test_web_golden.py`` checks the golden files against a fresh Python encode.

Usage: ``.venv/bin/python scripts/make_web_fixtures.py [--out web/.fixtures] [--skip-qwen] [--force]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from m2v_edge.contract import FORMAT_VERSION, DType, model_file_name

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the test support (tests/tiny_models.py) is not in the package
    sys.path.insert(0, str(ROOT))
POTION = ROOT / "models" / "potion-base-8M"
TRICKY = ROOT / "tests" / "data" / "tricky_texts.json"
DEFAULT_OUT = ROOT / "web" / ".fixtures"
QWEN_TOKENIZER = ROOT / "tests" / "data" / "qwen" / "tokenizer.json"
QWEN_DIM = 1024
QWEN_SEED = 1024
STAMP = "m2v_edge_fixture.json"
V1_EXPORT = ROOT / "tests" / "data" / "v1-wordpiece" / "export"
V1_SOURCE = ROOT / "tests" / "data" / "v1-wordpiece" / "source"
QWEN_M2V = ROOT.parent / "shared" / "models" / "qwen25-coder-0.5b-instruct-m2v-256d"
STSB_DOCS, STSB_QUERIES = 2000, 100


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stamp_ok(folder: Path, stamp: dict[str, Any]) -> bool:
    file = folder / STAMP
    needed = ["config.json", stamp.get("model_file", "model.onnx")]
    if stamp.get("target") == "mobile":
        needed.append(needed[1].replace(".onnx", ".ort"))
    if not all((folder / name).is_file() for name in needed) or not file.is_file():
        return False
    return json.loads(file.read_text(encoding="utf-8")) == stamp


def _export(source: Path, folder: Path, stamp: dict[str, Any]) -> None:
    from m2v_edge import export_model

    started = time.perf_counter()
    target = stamp.get("target", "default")
    layout = "hf" if "model_file" in stamp else "flat"
    dtype = stamp.get("dtype", "int8")
    if (folder / STAMP).is_file():  # our own fixture: its stamp file is not the export's, so --force would refuse it
        (folder / STAMP).unlink()
    report = export_model(
        source, folder, dtype=dtype, force=True, show_progress_bar=True, target=target, layout=layout,
        pipeline_output=stamp.get("pipeline_output", False),
    )  # fmt: skip
    (folder / STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    ort = f", model.ort {(folder / 'model.ort').stat().st_size / 1e6:.1f} MB" if target == "mobile" else ""
    print(
        f"exported {folder.name}: {report.model_file} {report.model_bytes / 1e6:.1f} MB{ort}, "
        f"min cosine {report.min_cosine:.4f}, {time.perf_counter() - started:.1f}s"
    )


def make_potion(out: Path, force: bool) -> Path:
    """Export the vendored potion-base-8M to int8, with ``model.ort`` (``target="mobile"``)."""
    folder = out / "potion-int8"
    stamp = {
        "source": "potion-base-8M",
        "sha256": _sha256_bytes((POTION / "model.safetensors").read_bytes()),
        "target": "mobile",
        "format_version": FORMAT_VERSION,
    }
    if force or not _stamp_ok(folder, stamp):
        _export(POTION, folder, stamp)
    return folder


def make_hf(out: Path, force: bool) -> list[Path]:
    """potion-base-8M and the frozen tiny WordPiece model in the Hugging Face layout (transformers.js): int8,
    and the WordPiece model also as float16 (``onnx/model_fp16.onnx``)."""
    folders = []
    models = (
        ("potion-hf", POTION, "int8", "onnx/model_quantized.onnx"),
        ("wordpiece-hf", V1_SOURCE, "int8", "onnx/model_quantized.onnx"),
        ("wordpiece-fp16-hf", V1_SOURCE, "float16", "onnx/model_fp16.onnx"),
        ("potion-pipeline-hf", POTION, "int8", "onnx/model_quantized.onnx"),
        ("wordpiece-pipeline-hf", V1_SOURCE, "int8", "onnx/model_quantized.onnx"),
    )
    for name, source, dtype, model_file in models:
        folder = out / name
        stamp = {
            "source": name,
            "sha256": _sha256_bytes((source / "model.safetensors").read_bytes()),
            "format_version": FORMAT_VERSION,
            "dtype": dtype,
            "model_file": model_file,
        }
        if "pipeline" in name:
            stamp["pipeline_output"] = True
        if force or not _stamp_ok(folder, stamp):
            _export(source, folder, stamp)
        folders.append(folder)
    return folders


def make_qwen(out: Path, force: bool) -> Path:
    """The Qwen-sized test model of ``m2v_edge.bench.qwen_sized`` (real Qwen tokenizer, seeded random table), int8."""
    from m2v_edge.bench.qwen_sized import make_qwen_sized_model

    folder = out / "qwen-1024-int8"
    stamp = {
        "source": "qwen-sized",
        "dim": QWEN_DIM,
        "seed": QWEN_SEED,
        "tokenizer": _sha256_bytes(QWEN_TOKENIZER.read_bytes()),
        "format_version": FORMAT_VERSION,
    }
    if not force and _stamp_ok(folder, stamp):
        return folder
    with tempfile.TemporaryDirectory(prefix="qwen-source-", dir=out) as tmp:
        source = make_qwen_sized_model(Path(tmp) / "qwen-sized", QWEN_TOKENIZER, dim=QWEN_DIM, seed=QWEN_SEED)
        _export(source, folder, stamp)
    return folder


def make_qwen_m2v(out: Path, force: bool, name: str, **options: str) -> Path | None:
    """The real Qwen-family model (../shared) exported with ``options`` (none: the defaults) into ``name``;
    ``None`` when ../shared is absent."""
    from m2v_edge import export_model

    if not (QWEN_M2V / "model.safetensors").is_file():
        print(f"skipped {name}: {QWEN_M2V} absent (needs ../shared beside the clone)")
        return None
    folder = out / name
    stamp = {"source": QWEN_M2V.name, "sha256": _sha256_bytes((QWEN_M2V / "model.safetensors").read_bytes()),
             "options": options, "format_version": FORMAT_VERSION,
             "model_file": model_file_name(DType.INT8, options.get("layout", "hf"))}  # fmt: skip
    if force or not _stamp_ok(folder, stamp):
        report = export_model(QWEN_M2V, folder, force=True, show_progress_bar=True, **options)
        (folder / STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        print(
            f"exported {name}: {report.model_file} {report.model_bytes / 1e6:.1f} MB, min cos {report.min_cosine:.4f}"
        )
    return folder


def make_unigram(out: Path, force: bool, dim: int = 16) -> Path:
    """The tiny Unigram test model (NFKC + Metaspace), exported to int8 (``unigram-dim<dim>-int8`` if not 16)."""
    from tests.tiny_models import make_tiny_model

    folder = out / ("unigram-int8" if dim == 16 else f"unigram-dim{dim}-int8")
    stamp = {"source": "tiny-unigram", "dim": dim, "seed": 0, "format_version": FORMAT_VERSION}
    if not force and _stamp_ok(folder, stamp):
        return folder
    with tempfile.TemporaryDirectory(prefix="unigram-source-", dir=out) as tmp:
        source = make_tiny_model("unigram", Path(tmp) / "tiny-unigram", dim=dim, seed=0)
        _export(source, folder, stamp)
    return folder


def make_stsb(out: Path, potion: Path) -> Path:
    """STS-B documents through the streaming encode into ``stsb/docs.m2vec``, and the texts in ``texts.json``."""
    from m2v_edge import StaticOnnxModel
    from m2v_edge.corpus.readers import InputSpec
    from m2v_edge.corpus.stream import encode_corpus
    from m2v_edge.source.datasets import STSB_TEST, load_stsb

    docs = list(dict.fromkeys(t for p in load_stsb(STSB_TEST) for t in (p.text1, p.text2)))[:STSB_DOCS]
    seen = set(docs)
    dev = STSB_TEST.with_name("sts-dev.csv")
    queries = [t for t in dict.fromkeys(p.text1 for p in load_stsb(dev)) if t not in seen]
    folder = out / "stsb"
    folder.mkdir(exist_ok=True)
    source = folder / "docs.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in docs), encoding="utf-8")
    target = folder / "docs.m2vec"
    target.unlink(missing_ok=True)  # ours: rewritten on every run
    encode_corpus(StaticOnnxModel.from_pretrained(potion), InputSpec(str(source)), str(target))
    _python_store(target, folder / "docs.db")
    texts = {"model": potion.name, "docs": docs, "queries": queries[:STSB_QUERIES]}
    (folder / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    return target


def _python_store(corpus: Path, db: Path) -> None:
    """Python's sqlite-vec store of the corpus, ids ``doc-<row>``, that the browser test opens (skipped without it)."""
    from m2v_edge.extras import MissingExtraError
    from m2v_edge.integrations import sqlite_store

    db.unlink(missing_ok=True)  # ours: rewritten on every run
    try:
        store = sqlite_store.index_corpus(corpus, db, ids=[f"doc-{i}" for i in range(STSB_DOCS)])
    except MissingExtraError as err:
        print(f"stsb: no docs.db ({err})", file=sys.stderr)
        return
    store.connection.close()


def golden(folder: Path, texts: list[str]) -> dict[str, Any]:
    """Python token ids and vectors of ``texts`` for the exported ``folder``."""
    from m2v_edge import StaticOnnxModel

    model = StaticOnnxModel.from_pretrained(folder)
    vectors = model.encode(texts)
    return {
        "model": folder.name,
        "texts_sha256": _sha256_bytes(TRICKY.read_bytes()),
        "dim": model.dim,
        "ids": model.tokenizer.encode_ids(texts),
        "vectors": [[float(x) for x in row] for row in vectors],
    }


def main(argv: list[str] | None = None) -> int:
    """Build every fixture and write the golden JSON files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixture folder (default web/.fixtures)")
    parser.add_argument("--skip-qwen", action="store_true", help="skip the 156 MB Qwen 1024-d export")
    parser.add_argument("--force", action="store_true", help="rebuild exports even when their stamp matches")
    args = parser.parse_args(argv)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    texts = json.loads(TRICKY.read_text(encoding="utf-8"))
    potion = make_potion(out, args.force)
    make_stsb(out, potion)
    print(f"stsb: {STSB_DOCS} documents encoded into {out / 'stsb' / 'docs.m2vec'}")
    unigrams = [make_unigram(out, args.force), make_unigram(out, args.force, dim=20)]
    folders = [potion, *unigrams, *make_hf(out, args.force), V1_EXPORT]
    if not args.skip_qwen:
        folders.append(make_qwen(out, args.force))
    for name, options in (("qwen-m2v-iso-int8", {"isotropy": "auto", "layout": "flat"}), ("qwen-m2v-default", {})):
        qwen_m2v = make_qwen_m2v(out, args.force, name, **options)
        if qwen_m2v is not None:
            folders.append(qwen_m2v)
    gold_dir = out / "golden"
    gold_dir.mkdir(exist_ok=True)
    for folder in folders:
        data = golden(folder, texts)
        name = "v1-wordpiece" if folder == V1_EXPORT else folder.name
        (gold_dir / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
        print(f"golden {name}: {len(texts)} texts, dim {data['dim']}")
    for stale in out.glob("*-source-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
