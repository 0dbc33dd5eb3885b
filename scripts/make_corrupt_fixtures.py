"""Write broken exported folders for web/test/safety.test.js (the catalogue of tests.corrupt).

Creates ``web/.fixtures/corrupt/``: ``base/`` (a tiny WordPiece model exported to int8), one folder per case, and
``cases.json``: ``{case: regex the load error must match, or null (loads, same vectors as base)}`` plus the
probe texts and base's vectors from Python, and ``nan_rows/`` (loads, but a text with "quick" gives NaN rows).

Usage: ``.venv/bin/python scripts/make_corrupt_fixtures.py [--out web/.fixtures/corrupt]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the test support (tests/tiny_models.py, tests/corrupt.py) is not in the package
    sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "web" / ".fixtures" / "corrupt")
    args = parser.parse_args()
    from tests.corrupt import PROBES, catalogue, copy_export, poison_tokens
    from tests.tiny_models import make_tiny_model

    from m2v_edge import StaticOnnxModel, export_model

    out: Path = args.out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = make_tiny_model("wordpiece", Path(tmp) / "src")
        base = export_model(source, out / "base", force=True).output
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    cases = {}
    for name, (change, expected) in catalogue(config).items():
        change(copy_export(base, out / name))
        cases[name] = expected
    model = StaticOnnxModel.from_pretrained(base)
    vectors = model.encode(PROBES)
    poison_tokens(copy_export(base, out / "nan_rows"), model.tokenizer.encode_ids(["quick"])[0])
    nan_rows = {"folder": "nan_rows", "bad_text": "the quick fox", "good_text": "fox"}
    manifest = {"cases": cases, "probes": PROBES, "vectors": vectors.tolist(), "nan_rows": nan_rows}
    (out / "cases.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(f"make_corrupt_fixtures: {len(cases)} cases in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
