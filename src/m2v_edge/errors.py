"""User-facing errors: the CLI's exit codes, :class:`CliError` and the one-line reason text.

Exit codes of the ``m2v-edge`` command:

- ``0`` (:data:`EXIT_OK`): success.
- ``1`` (:data:`EXIT_RUNTIME`): the command was fine but the work failed in a way the user's input does not
  explain (``RuntimeError``, e.g. a benchmark worker process died). Printed as one line.
- ``2`` (:data:`EXIT_USAGE`): usage or input errors: a bad argument, a missing or corrupt file, an output
  that already exists, a missing extra (``OSError``, ``ValueError``, :class:`CliError`). Printed as one line
  naming the thing and the remedy.
- ``70`` (:data:`EXIT_INTERNAL`, sysexits' ``EX_SOFTWARE``): any other exception, i.e. a bug or a file no check
  foresaw. Printed as one line naming the file being processed (no traceback; ``M2V_EDGE_DEBUG=1`` shows it).
- ``130`` (:data:`EXIT_INTERRUPTED`): Ctrl+C.
- ``141`` (:data:`EXIT_PIPE`, 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe): the
  reader of stdout went away (``m2v-edge encode ... --output - | head -c 100``). Nothing is printed.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141

MAX_REASON_CHARS = 200


class CliError(Exception):
    """A user-facing CLI error: printed as one line; ``exit_code`` defaults to :data:`EXIT_USAGE`."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def one_line(err: BaseException | str, limit: int | None = MAX_REASON_CHARS) -> str:
    """The first line of an error's text (its type name when empty), cut to ``limit`` characters.

    Used wherever an error is shown or wrapped: the CLI's ``error:`` line and the ``(reason)`` quoted
    from a library error (onnxruntime, tokenizers) inside our own message.
    """
    text = err if isinstance(err, str) else str(err)
    lines = [line for line in text.splitlines() if line.strip()]
    line = lines[0].strip() if lines else (type(err).__name__ if isinstance(err, BaseException) else "unknown error")
    return line if limit is None or len(line) <= limit else line[: limit - 3] + "..."
