"""The ``m2v-edge`` command line: parser assembly and the one error handler.

Each subcommand is a module with a public ``add_parser(subparsers)`` and ``run(args) -> int`` (see
:data:`COMMANDS`); the work happens in the API they call. Exit codes are documented in :mod:`m2v_edge.errors`.
"""

from __future__ import annotations

import argparse
import os
import sys
from types import ModuleType

from m2v_edge._version import __version__
from m2v_edge.cli import bench, demo, encode, evaluate, export, info, similarity
from m2v_edge.cli.common import internal_error
from m2v_edge.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_PIPE, EXIT_RUNTIME, EXIT_USAGE, CliError, one_line

COMMANDS: dict[str, ModuleType] = {
    "export": export,
    "encode": encode,
    "info": info,
    "similarity": similarity,
    "demo": demo,
    "eval": evaluate,
    "bench": bench,
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (with a pointer to ``--help``), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``m2v-edge`` parser with every subcommand of :data:`COMMANDS`."""
    parser = _Parser(prog="m2v-edge", description="Ship static text-embedding models to every edge.")
    parser.add_argument("--version", action="version", version=f"m2v-edge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at the null device, so the interpreter's last flush cannot fail.

    Python's documented way: https://docs.python.org/3/library/signal.html#note-on-sigpipe.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor (stdout replaced, e.g. under a test runner)
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (see :mod:`m2v_edge.errors`); every error is one line on stderr."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse already printed its usage line
        return int(stop.code or 0)
    code = EXIT_USAGE
    error: Exception
    try:
        result: int = COMMANDS[args.command].run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return result
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_PIPE
    except CliError as err:
        code, error = err.exit_code, err
    except (OSError, ValueError) as err:
        error = err
    except RuntimeError as err:
        code, error = EXIT_RUNTIME, err
    except KeyboardInterrupt:
        print("m2v-edge: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # last resort: a bug is one line naming the file too, never a traceback
        if os.environ.get("M2V_EDGE_DEBUG"):
            raise
        print(internal_error(args.command, args, err), file=sys.stderr)
        return EXIT_INTERNAL
    print(f"m2v-edge {args.command}: error: {one_line(error, limit=None)}", file=sys.stderr)
    return code
