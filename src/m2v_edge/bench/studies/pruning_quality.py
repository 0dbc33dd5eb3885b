"""The quality cost of pruning: STS-B Spearman of potion-base-8M at fewer tokens and fewer dims.

Each row is a real int8 export (``export_model(..., vocab_size=..., dims=...)``) encoded by
``StaticOnnxModel``; the score is Spearman x 100 between the cosine of each STS-B test pair and its gold
score. ``--corpus`` adds rows whose kept tokens are chosen by frequency in STS-B *train* sentences.
A second table shows what ``--max-size`` picks (``m2v_edge.export.budget``'s policy) and what it scores.

    python -m m2v_edge.bench.studies.pruning_quality [--corpus ../shared/data/stsb/sts-train.csv]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from m2v_edge.bench.studies import repo_root, study_parser
from m2v_edge.eval.metrics import sts_benchmark
from m2v_edge.source.datasets import STSB_TEST, Pair, load_stsb

ROOT = repo_root()
POTION = ROOT / "models" / "potion-base-8M"
VOCAB_SHARES = (1.0, 0.75, 0.5, 0.25)
DIMS = (256, 128, 64)
BUDGETS = ("4MB", "2MB", "1MB")


def read_stsb(path: Path) -> list[Pair]:
    """STS-B csv, read by the eval harness's loader."""
    return load_stsb(path)


def spearman(encoder, pairs: list[Pair]) -> float:
    """STS-B Spearman x 100, as the eval harness computes it."""
    return sts_benchmark(encoder.encode, pairs)["spearman"]


def main(argv: list[str] | None = None) -> int:
    from m2v_edge.export.exporter import export_model
    from m2v_edge.runtime.model import StaticOnnxModel
    from m2v_edge.runtime.reference import ReferenceModel
    from m2v_edge.source.folder import load_source

    parser = study_parser(__file__, __doc__)
    parser.add_argument("--model", type=Path, default=POTION, help="Model2Vec source folder")
    parser.add_argument("--corpus", type=Path, help="STS-B train csv: rank tokens by their frequency in it")
    args = parser.parse_args(argv)
    pairs = read_stsb(STSB_TEST)
    source = load_source(args.model)
    vocab, dim = int(source.embeddings.shape[0]), source.dim
    print(f"STS-B test: {len(pairs)} pairs; model {source.name} ({vocab:,} tokens x {dim} dims)")
    print(f"source, float32 numpy (model2vec arithmetic): {spearman(ReferenceModel(source), pairs):.2f}")

    with tempfile.TemporaryDirectory() as tmp:
        corpus = None
        if args.corpus is not None:
            train = read_stsb(args.corpus)
            corpus = Path(tmp) / "stsb-train-sentences.txt"
            corpus.write_text("".join(f"{p.text1}\n{p.text2}\n" for p in train), encoding="utf-8")
        rows: list[tuple[float, int, Path | None]] = [(share, dim, None) for share in VOCAB_SHARES]
        if corpus is not None:
            rows += [(share, dim, corpus) for share in VOCAB_SHARES[1:]]
        rows += [(1.0, d, None) for d in DIMS[1:]]
        print("\n| vocabulary kept | chosen by | dims | model.onnx (int8) | STS-B Spearman |")
        print("|---|---|---|---|---|")
        for share, dims, by_corpus in rows:
            out = Path(tmp) / "export"
            keep = round(vocab * share)
            report = export_model(
                source, out, dtype="int8", force=True, vocab_size=keep, dims=dims, vocab_corpus=by_corpus,
                isotropy="none",  # the cut alone, against the source as model2vec encodes it
            )  # fmt: skip
            score = spearman(StaticOnnxModel.from_pretrained(out), pairs)
            label = "-" if share == 1.0 else ("STS-B train" if by_corpus else "rank")
            print(
                f"| {share:.0%} ({keep:,}) | {label} | {dims} | {report.model_bytes / 1e6:.2f} MB | {score:.2f} |",
                flush=True,
            )
        print("\n| --max-size | chosen by the policy | model.onnx (int8) | STS-B Spearman |")
        print("|---|---|---|---|")
        for budget in BUDGETS:
            for by_corpus in (None, corpus) if corpus is not None else (None,):
                out = Path(tmp) / "export"
                report = export_model(
                    source, out, dtype="int8", force=True, max_size=budget, vocab_corpus=by_corpus, isotropy="none"
                )
                score = spearman(StaticOnnxModel.from_pretrained(out), pairs)
                chosen = report.pruning.summary() if report.pruning else "nothing cut"
                print(f"| {budget} | {chosen} | {report.model_bytes / 1e6:.2f} MB | {score:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
