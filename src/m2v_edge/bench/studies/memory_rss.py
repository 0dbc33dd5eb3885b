"""Peak memory of a whole process that loads a model and encodes 10k unseen sentences, and the 512 MB check.

Each measurement is a fresh process (``--probe``): import, load, encode ``--texts`` unique STS-B sentences
(train, then dev and test) in batches of 1024, then report VmHWM (peak resident set) and VmPeak (peak address
space) from /proc/self/status. Contenders: ``ours`` (an export, tokenizers), ``ours-fast`` (the same with the
onnxruntime-extensions tokenizer), ``laghu`` (with laghu-rs when it applies), ``model2vec`` (a source folder),
``node`` (the npm package on an export: the library, ``encodeMatrix`` with the vectors dropped, reading its own
/proc/self/status like the Python probe; and web/bin/m2v-edge.mjs writing JSON, its peak from /usr/bin/time -v).

``--limit-mb 512`` is the check: each of ours (Python and Node) must finish with peak RSS (VmHWM; the Node CLI:
/usr/bin/time's maximum resident set, the same counter) at or under 512 MB, else exit 1; peers are shown, not
judged. ``--enforce-as`` also runs every probe under that address-space limit (RLIMIT_AS, what ``prlimit --as``
sets). A cgroup memory limit, the faithful model of a 512 MB board, is not used: this machine's memory cgroup
belongs to the session machinery (cgroup v1, PID 1 is not systemd, so ``systemd-run --user -p MemoryMax=`` has
no manager to ask); the peak resident set is what such a limit bounds. An address-space limit is much stricter
than a RAM limit (thread stacks, malloc arenas and mapped files count whole): measured, Python needs
MALLOC_ARENA_MAX=2 and 640 MB of address space for the Qwen-sized export, and Node (V8's code-range and
WebAssembly reservations) does not start under 512 MB at all.

Usage: python -m m2v_edge.bench.studies.memory_rss --ours EXPORT [--source SOURCE] [--node] [--fast] [--external]
       [--limit-mb 512 [--enforce-as]] [--texts 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from m2v_edge.bench.studies import repo_root, study_parser

ROOT = repo_root()


def texts(n: int) -> list[str]:
    from m2v_edge.bench.data import STSB_DIR, TRAIN_SENTENCES, stsb_sentences

    pool = [line.strip() for line in TRAIN_SENTENCES.read_text(encoding="utf-8").splitlines()]
    pool += [s for name in ("sts-dev.csv", "sts-test.csv") for s in stsb_sentences(STSB_DIR / name)]
    unique = list(dict.fromkeys(t for t in pool if t))
    if len(unique) < n:
        raise SystemExit(f"only {len(unique)} unique STS-B sentences; ask for fewer --texts")
    return unique[:n]


def status(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(key))


def probe(kind: str, path: str, n: int) -> None:
    batch = texts(n)
    model: Any
    if kind == "model2vec":
        from model2vec import StaticModel

        model = StaticModel.from_pretrained(path)
    elif kind == "laghu":
        import laghu

        model = laghu.load(path, fallback=False)
    else:
        from m2v_edge.runtime.model import StaticOnnxModel

        model = StaticOnnxModel.from_pretrained(path, fast_tokenizer=kind == "ours-fast")
    loaded = status("VmRSS:")
    vectors = model.encode(batch, batch_size=int(os.environ.get("M2V_BENCH_BATCH", "1024")))
    assert len(vectors) == n
    print(json.dumps({"rss_after_load": loaded, "peak_rss": status("VmHWM:"), "peak_vm": status("VmPeak:")}))


def _limit(mb: int | None):  # type: ignore[no-untyped-def]
    if mb is None:
        return None
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))


def run_probe(kind: str, path: str, n: int, limit_mb: int | None) -> dict:
    cmd = [sys.executable, __file__, "--probe", kind, path, "--texts", str(n)]
    done = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=_limit(limit_mb), check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"failed": f"exit {done.returncode}: {last[:200]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# The library alone (no output written): load, then encodeMatrix in batches of 1024, vectors dropped; then the
# same readings as the Python probe, from /proc/self/status.
NODE_LIBRARY = """
import { readFileSync } from "node:fs";
import { StaticOnnxModel } from "%s";
const proc = () => readFileSync("/proc/self/status", "utf-8");
const status = (key) => Number(proc().match(new RegExp(key + ":\\\\s+(\\\\d+)"))[1]) * 1024;
const model = await StaticOnnxModel.load(process.argv[1]);
const loaded = status("VmRSS");
const texts = readFileSync(process.argv[2], "utf-8").split("\\n").filter(Boolean);
for (let i = 0; i < texts.length; i += 1024) await model.encodeMatrix(texts.slice(i, i + 1024), { batchSize: 1024 });
console.log(JSON.stringify({ rss_after_load: loaded, peak_rss: status("VmHWM"), peak_vm: status("VmPeak") }));
"""


def run_node(export: str, n: int, limit_mb: int | None, cli: bool) -> dict:
    """Node's peak RSS: ``cli`` runs web/bin/m2v-edge.mjs encode (JSON output), else the library alone."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "texts.txt"
        src.write_text("\n".join(texts(n)) + "\n", encoding="utf-8")
        if cli:
            out = str(Path(tmp) / "v.json")
            node = [str(ROOT / "web" / "bin" / "m2v-edge.mjs"), "encode", export, "--input", str(src), "--output", out]
            node += ["--batch-size", "1024"]
        else:
            script = NODE_LIBRARY % (ROOT / "web" / "src" / "index.js").as_uri()
            node = ["--input-type=module", "-e", script, export, str(src)]
        cmd = ["/usr/bin/time", "-v", "node", *node]
        done = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=_limit(limit_mb), check=False)
    peak = [int(line.split()[-1]) * 1024 for line in done.stderr.splitlines() if "Maximum resident" in line]
    if done.returncode != 0:
        last = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("\t")]
        failed = f"exit {done.returncode}: {(last or ['no output'])[-1][:200]}"
        return {"failed": failed, "peak_rss": peak[0] if peak else 0}
    return {"peak_rss": peak[0]} if cli else json.loads(done.stdout.strip().splitlines()[-1])


def external_copy(export: str, folder: Path) -> str:
    """A copy of ``export`` whose graph keeps the int8 table in a side file at offset 0 (page-aligned).

    onnxruntime memory-maps page-aligned external initializers on CPU instead of copying them (its
    ModelSavingOptions notes; measured here). A measuring prototype, not an export format: the JS kernel and
    validate.py read the table from the graph file.
    """
    import shutil

    import onnx

    from m2v_edge.contract import CHECKSUMS_KEY, ExportFiles, read_config
    from m2v_edge.export.exporter import record_checksums

    shutil.copytree(export, folder)
    files = ExportFiles(folder)
    graph = files.model
    model = onnx.load(str(graph))
    onnx.save_model(
        model, str(graph), save_as_external_data=True, location=graph.name + "_data", size_threshold=1 << 20
    )
    config = read_config(files.config)  # the rewritten graph's checksum, and the side file's
    config.get(CHECKSUMS_KEY, {}).pop(graph.relative_to(folder).as_posix(), None)
    record_checksums(files, config)
    return str(folder)


def main(argv: list[str] | None = None) -> int:
    parser = study_parser(__file__, __doc__)
    parser.add_argument("--probe", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--ours", help="an exported folder")
    parser.add_argument("--source", help="the Model2Vec source folder (model2vec, laghu)")
    parser.add_argument("--node", action="store_true", help="also web/bin/m2v-edge.mjs encode on --ours")
    parser.add_argument("--fast", action="store_true", help="also ours with the onnxruntime-extensions tokenizer")
    parser.add_argument("--external", action="store_true", help="also ours on an external-data copy (mmapped table)")
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--limit-mb", type=int, default=None, help="fail unless every peak RSS is at most this")
    parser.add_argument("--enforce-as", action="store_true", help="also set RLIMIT_AS to --limit-mb (prlimit --as)")
    args = parser.parse_args(argv)
    if args.probe:
        probe(args.probe[0], args.probe[1], args.texts)
        return 0
    enforced = args.limit_mb if args.enforce_as else None
    rows: dict[str, dict] = {}
    if args.ours:
        rows["ours (tokenizers)"] = run_probe("ours", args.ours, args.texts, enforced)
        if args.fast:
            rows["ours ([fast])"] = run_probe("ours-fast", args.ours, args.texts, enforced)
    tmp = tempfile.TemporaryDirectory(prefix="m2v-edge-external-")
    if args.ours and args.external:
        copy = external_copy(args.ours, Path(tmp.name) / "export")
        rows["ours, table in an external file (mmapped)"] = run_probe("ours", copy, args.texts, enforced)
    if args.source:
        rows["laghu"] = run_probe("laghu", args.source, args.texts, enforced)
        rows["model2vec"] = run_probe("model2vec", args.source, args.texts, enforced)
    if args.node and args.ours:
        rows["ours, Node library (encodeMatrix)"] = run_node(args.ours, args.texts, enforced, cli=False)
        rows["ours, Node CLI (web/bin, JSON out)"] = run_node(args.ours, args.texts, enforced, cli=True)
    tmp.cleanup()
    limit = f"check: peak RSS <= {args.limit_mb} MB" if args.limit_mb else "no check"
    limit += f", RLIMIT_AS {enforced} MB" if enforced else ", no address-space limit"
    print(
        f"{args.texts} unique STS-B sentences, batch 1024, one fresh process each; {limit}; loadavg {os.getloadavg()}"
    )
    print("\n| contender | peak RSS MB | RSS after load MB | peak address space MB | result |\n|---|--:|--:|--:|---|")
    for name, row in rows.items():
        mb = {k: f"{row[k] / 2**20:.0f}" if row.get(k) else "–" for k in ("peak_rss", "rss_after_load", "peak_vm")}
        over = args.limit_mb and row.get("peak_rss", 0) > args.limit_mb << 20
        result = row.get("failed") or (f"**over {args.limit_mb} MB**" if over else "ok")
        row["ok"] = result == "ok"
        print(f"| {name} | {mb['peak_rss']} | {mb['rss_after_load']} | {mb['peak_vm']} | {result} |")
    ours = [row["ok"] for name, row in rows.items() if name.startswith("ours")]  # peers are shown, not judged
    return 1 if args.limit_mb and not all(ours) else 0


if __name__ == "__main__":
    sys.exit(main())
