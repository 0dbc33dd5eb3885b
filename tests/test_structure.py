"""The package's shape: layers imported bottom-up only, no import cycles, a runtime import loads no exporter.

The import graph counts EVERY import statement in a module: module level, inside functions and under
``if TYPE_CHECKING:``. A function-level import is still a dependency (it runs on the first call) and a cycle
through one is still a knot (``cli`` <-> ``demo.command`` was one), so none is allowed anywhere. An edge goes to
the module named (``from m2v_edge.export import exporter`` names ``m2v_edge.export.exporter``), not to the
parent packages Python also initializes on the way.

The layers (docs/architecture.md) are declared in :data:`LAYERS`, bottom to top; a module may import only from its
own layer or a lower one, with the same edges (function-level and ``TYPE_CHECKING`` imports count).
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from m2v_edge.cli import COMMANDS, build_parser, main
from m2v_edge.errors import EXIT_INTERNAL, EXIT_RUNTIME, EXIT_USAGE, CliError, one_line

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "m2v_edge"

# Bottom to top (docs/architecture.md). An entry names a module or a folder (all of it); the package root itself
# (the façade) is only its own ``__init__``. Every module must be in exactly one layer.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("m2v_edge._version", "m2v_edge.errors", "m2v_edge.extras", "m2v_edge.sizes")),
    ("contract", ("m2v_edge.contract", "m2v_edge.validate")),
    ("source", ("m2v_edge.source",)),
    ("runtime", ("m2v_edge.runtime",)),
    ("exporter", ("m2v_edge.export",)),
    # bench holds every benchmark; its clone-only studies may import any application or lower (CLONE_ONLY below)
    ("applications", ("m2v_edge.corpus", "m2v_edge.integrations", "m2v_edge.eval", "m2v_edge.demo", "m2v_edge.bench")),
    ("cli", ("m2v_edge.cli",)),
    ("facade", ("m2v_edge", "m2v_edge.__main__")),
]
FACADE = {"m2v_edge", "m2v_edge.__main__", "m2v_edge._version"}
MAX_ROOT_MODULES = 6  # besides the façade


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((SRC / PACKAGE).rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> list[tuple[str, list[str]]]:
    """(imported intra-package module, the names taken from it) for every import statement in the file."""
    is_package = path.name == "__init__.py"
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names if alias.name.split(".")[0] == PACKAGE]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this module's package
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub, []) if sub in known else (target, [alias.name]))
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {target for target, _ in _imports(name, path, known) if target != name}
        unknown = graph[name] - known
        assert not unknown, f"{name} imports modules that do not exist: {sorted(unknown)}"
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One example path per cycle found by depth-first search."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def _layer(module: str) -> int:
    """The index in :data:`LAYERS` of the longest entry naming ``module`` (the bare package matches only itself)."""
    best, index = "", -1
    for i, (_, entries) in enumerate(LAYERS):
        for entry in entries:
            hit = module == entry or (entry != PACKAGE and module.startswith(entry + "."))
            if hit and len(entry) > len(best):
                best, index = entry, i
    assert index >= 0, (
        f"{module} is in no layer: add it to LAYERS in tests/test_structure.py (and docs/architecture.md)"
    )
    return index


def _upward(graph: dict[str, set[str]]) -> list[str]:
    """Every import from a lower layer to a higher one, as ``a (layer) -> b (layer)``."""
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            low, high = _layer(module), _layer(target)
            if high > low:
                found.append(f"{module} ({LAYERS[low][0]}) -> {target} ({LAYERS[high][0]})")
    return found


def _folder(module: str) -> str:
    """``m2v_edge.export.isotropy`` -> ``m2v_edge.export``; a root module is its own folder."""
    return ".".join(module.split(".")[:2])


def _folder_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    folders: dict[str, set[str]] = {}
    for module, targets in graph.items():
        edges = folders.setdefault(_folder(module), set())
        edges |= {_folder(t) for t in targets} - {_folder(module)}
        for target in targets:
            folders.setdefault(_folder(target), set())
    return folders


# The folder loop of cf63ff6 (issue 27): export -> eval -> loader -> export, all through function-level or
# module-level imports that the module cycle test could not see.
OLD_LOOP = {
    "m2v_edge.export.isotropy": {"m2v_edge.eval.datasets"},
    "m2v_edge.eval.runner": {"m2v_edge.runtime.loader"},
    "m2v_edge.runtime.loader": {"m2v_edge.export.source"},
}


def test_layer_check_catches_the_old_folder_loop() -> None:
    assert _upward(OLD_LOOP) == [
        "m2v_edge.export.isotropy (exporter) -> m2v_edge.eval.datasets (applications)",
        "m2v_edge.runtime.loader (runtime) -> m2v_edge.export.source (exporter)",
    ]
    assert _cycles(_folder_graph(OLD_LOOP)) == [
        ["m2v_edge.eval", "m2v_edge.runtime", "m2v_edge.export", "m2v_edge.eval"]
    ]


def test_imports_go_down_the_layers_only() -> None:
    graph = _graph()
    assert "m2v_edge.source.datasets" in graph["m2v_edge.export.isotropy"]  # the exporter reads STS-B from below
    assert "m2v_edge.source.folder" in graph["m2v_edge.runtime.loader"]  # inside a function
    upward = _upward(graph)
    assert not upward, "imports from a lower layer to a higher one: " + "; ".join(upward)
    cycles = _cycles(_folder_graph(graph))
    assert not cycles, "folder-level import loops: " + "; ".join(" -> ".join(c) for c in cycles)


def test_package_root_is_small_and_ships_no_test_support() -> None:
    root = sorted(name for name in _modules() if name.count(".") == 1 and not (SRC / name.replace(".", "/")).is_dir())
    assert len(set(root) - FACADE) <= MAX_ROOT_MODULES, root
    assert not [name for name in _modules() if "test" in name.split(".")[-1]], "test support belongs in tests/"


# bench/ is the one home of the benchmarks (issue 27): the packaged `m2v-edge bench`, the clone-only studies/ and the
# npm package's web bench in web/ (the wheel holds neither: tests/test_packaging.py).
CLONE_ONLY = ("m2v_edge.bench.studies", "m2v_edge.bench.web")


def test_benchmarks_have_one_home() -> None:
    root = SRC.parent
    second = [str(p.relative_to(root)) for p in (root / "benchmarks", root / "web" / "bench") if p.exists()]
    assert not second, f"benchmarks belong in src/m2v_edge/bench/ (studies/, web/), not in {second}"
    assert (SRC / PACKAGE / "bench" / "studies" / "schedule_ab.py").is_file()
    assert (SRC / PACKAGE / "bench" / "web" / "bench.mjs").is_file()
    shipped = sorted((m, t) for m, targets in _graph().items() for t in targets if not m.startswith(CLONE_ONLY))
    into = [f"{m} -> {t}" for m, t in shipped if t.startswith(CLONE_ONLY)]
    assert not into, "a shipped module imports a clone-only one (not in the wheel): " + "; ".join(into)


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_package_import_graph_has_no_cycles() -> None:
    graph = _graph()
    assert "m2v_edge.export.selfcheck" in graph["m2v_edge.export.exporter"]  # module level
    assert "m2v_edge.runtime.model" in graph["m2v_edge.export.selfcheck"]  # inside a function
    assert "m2v_edge.export.exporter" in graph["m2v_edge"]  # lazy __getattr__ and TYPE_CHECKING
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_nothing_inside_imports_the_package_root_or_private_names() -> None:
    modules = _modules()
    known = set(modules)
    for name, path in modules.items():
        for target, names in _imports(name, path, known):
            assert target != PACKAGE, f"{name} imports the package root (import from m2v_edge._version etc.)"
            private = [n for n in names if n.startswith("_") and not n.startswith("__") and target != name]
            assert not private, f"{name} imports private names {private} from {target}"
        assert "noqa: E402" not in path.read_text(encoding="utf-8"), f"{name} still needs an E402 escape"


def _loaded_after(code: str) -> list[str]:
    probe = (
        f"import json, sys\n{code}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'onnx' or m.startswith(('onnx.', 'm2v_edge.export')))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import m2v_edge.runtime.model",
        "import m2v_edge; m2v_edge.StaticOnnxModel; m2v_edge.load_encoder; m2v_edge.__version__",
        "from m2v_edge import StaticOnnxModel, load_encoder",
    ],
)
def test_runtime_import_loads_no_exporter(code: str) -> None:
    assert _loaded_after(code) == []


def test_export_model_is_loaded_on_first_use() -> None:
    loaded = _loaded_after("import m2v_edge; assert callable(m2v_edge.export_model)")
    assert "m2v_edge.export.exporter" in loaded
    import m2v_edge

    assert set(m2v_edge.__all__) <= set(dir(m2v_edge))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        m2v_edge.nope  # noqa: B018


def test_every_subcommand_module_exposes_add_parser_and_run() -> None:
    assert list(COMMANDS) == ["export", "encode", "info", "similarity", "demo", "eval", "bench"]
    assert all(module.__name__.startswith("m2v_edge.cli.") for module in COMMANDS.values())  # one place
    for name, module in COMMANDS.items():
        assert callable(module.add_parser) and callable(module.run), name
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(choices) == set(COMMANDS)


def test_one_line_error_text() -> None:
    assert one_line(ValueError("first\nsecond")) == "first"
    assert one_line(ValueError("\n  \nreal reason\nmore")) == "real reason"
    assert one_line(FileNotFoundError()) == "FileNotFoundError"
    assert one_line("x" * 300) == "x" * 197 + "..."
    assert one_line("x" * 300, limit=None) == "x" * 300


def test_cli_exit_codes(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def fail_with(err: BaseException) -> None:
        def run(args: argparse.Namespace) -> int:
            raise err

        monkeypatch.setattr(COMMANDS["info"], "run", run)

    cases = [
        (CliError("bad thing; do X"), EXIT_USAGE),
        (CliError("worker died", exit_code=EXIT_RUNTIME), EXIT_RUNTIME),
        (ValueError("bad value\ntraceback-ish detail"), EXIT_USAGE),
        (FileNotFoundError("x: no such folder"), EXIT_USAGE),
        (RuntimeError("benchmark worker failed: boom"), EXIT_RUNTIME),
    ]
    for err, code in cases:
        fail_with(err)
        assert main(["info", "anything"]) == code
        out = capsys.readouterr().err
        assert out == f"m2v-edge info: error: {str(err).splitlines()[0]}\n"
    fail_with(KeyError("a bug"))
    assert main(["info", "anything"]) == EXIT_INTERNAL  # issue 10: a bug is one line too, naming the file
    out = capsys.readouterr().err
    assert out.count("\n") == 1 and "internal error while processing anything: KeyError" in out
    monkeypatch.setenv("M2V_EDGE_DEBUG", "1")
    with pytest.raises(KeyError):  # the traceback on request
        main(["info", "anything"])
