"""Write the fixtures of the JavaScript tokenizer differential test (web/test/token-diff.test.js, issue 29).

Creates, under ``web/.fixtures/tokens/`` (gitignored):

- ``texts.json``: the compared texts by source (``tests/token_configs.py``: STS-B test + dev sentences, the
  multilingual punctuation/number corpus with tests/data/tricky_texts.json, seeded random Unicode);
- ``<config>/tokenizer.json`` and ``<config>/ids.json``: each configuration of ``tests/token_configs.py`` and
  Python ``tokenizers``' ids of every text (``encode_batch(add_special_tokens=False)``, unknown ids kept);
- ``unigram-model/``: a Model2Vec model on the ``unigram-quantized-precompiled`` tokenizer (Precompiled +
  WhitespaceSplit + Metaspace, ``unk_id`` on "."), exported to int8 by ``m2v_edge.export_model``, with
  ``vectors.json``, the Python vectors of the STS-B test sentences, for the Node vector check.

Usage: ``.venv/bin/python scripts/make_token_fixtures.py [--out web/.fixtures/tokens] [--only NAME ...]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import token_configs  # noqa: E402

from m2v_edge.source.datasets import STSB_TEST, load_stsb  # noqa: E402

DEFAULT_OUT = ROOT / "web" / ".fixtures" / "tokens"
MODEL_CONFIG = "unigram-quantized-precompiled"


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def write_config(out: Path, name: str, tokenizer: Any, texts: list[str]) -> None:
    """tokenizer.json and Python's ids of `texts` for one configuration."""
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.no_truncation()  # model2vec saves max_length truncation into tokenizer.json; the JS library ignores it
    tokenizer.no_padding()
    tokenizer.save(str(folder / "tokenizer.json"))
    ids = [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]
    refused = token_configs.REFUSED.get(name)  # the JS package must refuse it, naming this word
    _write_json(folder / "ids.json", {"config": name, "count": len(texts), "refused": refused, "ids": ids})


def write_model(out: Path, tokenizer: Any, sentences: list[str], texts: list[str]) -> None:
    """A vocabulary-quantized Model2Vec model on `tokenizer` (model2vec's ``quantize_model``, seeded random table),
    exported to int8, with Python's vectors; the tokenizer.json model2vec saved is one more configuration."""
    import numpy as np
    from model2vec import StaticModel
    from model2vec.model import quantize_model
    from tokenizers import Tokenizer

    from m2v_edge import StaticOnnxModel, export_model

    table = np.random.default_rng(29).standard_normal((tokenizer.get_vocab_size(), 32)).astype(np.float32)
    model = quantize_model(StaticModel(vectors=table, tokenizer=tokenizer, normalize=True), vocabulary_quantization=64)
    folder = out / "unigram-model"
    (folder / "vectors.json").unlink(missing_ok=True)  # ours (an earlier run): the export refuses files not its own
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        write_config(out, "unigram-m2v-saved", Tokenizer.from_file(str(Path(tmp) / "tokenizer.json")), texts)
        export_model(Path(tmp), folder, dtype="int8", force=True, show_progress_bar=False)
    vectors = StaticOnnxModel.from_pretrained(folder).encode(sentences)
    _write_json(folder / "vectors.json", {"texts": sentences, "vectors": np.round(vectors, 7).tolist()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixture folder (default web/.fixtures/tokens)")
    parser.add_argument("--only", nargs="*", default=None, help="configuration names to write (default all)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    corpus = token_configs.corpus()
    texts = [text for source in corpus.values() for text in source]
    _write_json(args.out / "texts.json", {"sources": {k: len(v) for k, v in corpus.items()}, "texts": texts})
    builders = token_configs.configs()
    unknown = sorted(set(args.only or []) - set(builders))
    if unknown:
        print(
            f"make_token_fixtures: unknown configuration(s) {', '.join(unknown)}; known: {', '.join(builders)}",
            file=sys.stderr,
        )
        return 2
    for name, build in builders.items():
        if args.only is not None and name not in args.only:
            continue
        tokenizer = build()
        write_config(args.out, name, tokenizer, texts)
        if name == MODEL_CONFIG:
            write_model(args.out, tokenizer, [t for p in load_stsb(STSB_TEST) for t in (p.text1, p.text2)], texts)
    print(
        f"token fixtures: {len(builders)} configurations x {len(texts)} texts in {time.perf_counter() - started:.1f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
