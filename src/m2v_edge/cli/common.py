"""CLI guards: bounded ``--threads``, UTF-8 arguments, output files (``-`` for stdout), the last-resort line.

Exit codes: see :mod:`m2v_edge.errors` (2 usage or input, 70 unexpected: one line naming the file either way).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
from pathlib import Path

# The arguments that name the file a command works on, in the order the last-resort line prefers them.
_FILE_ARGS = ("model", "source", "input", "output")


def cpu_count() -> int:
    """Cores this process may use (its CPU affinity where the system reports it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def check_threads(threads: int | None, flag: str = "--threads") -> int | None:
    """``threads`` between 1 and the machine's cores (``None`` passes).

    :raises ValueError: naming the flag and the allowed range.
    """
    cores = cpu_count()
    if threads is not None and not 1 <= threads <= cores:
        raise ValueError(f"{flag} {threads} is out of range; this machine has {cores} core(s): use 1-{cores}")
    return threads


def check_argv(args: argparse.Namespace, names: tuple[str, ...]) -> None:
    """Refuse command-line text (the arguments ``names``) that was not valid UTF-8.

    Python keeps such bytes as lone surrogates; paths are left alone, they may be any bytes.

    :raises ValueError: naming the argument, the byte and its position.
    """
    for name in names:
        value = getattr(args, name, None)
        values = value if isinstance(value, list) else [value]
        for index, text in enumerate(values):
            if not isinstance(text, str) or text.isascii():
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as err:
                code = ord(text[err.start])
                what = f"byte 0x{code - 0xDC00:02X}" if 0xDC80 <= code <= 0xDCFF else f"lone surrogate U+{code:04X}"
                label = name.upper() + (f" {index + 1}" if isinstance(value, list) else "")
                raise ValueError(
                    f"argument {label} is not valid UTF-8 ({what} at position {err.start}); pass UTF-8 text"
                ) from None


def check_host(host: str, port: int) -> None:
    """:raises ValueError: if ``host`` is neither an address nor a name this machine can resolve."""
    try:
        if host.replace(".", "").isdigit():  # looks like IPv4: check it here, not through DNS
            ipaddress.IPv4Address(host)
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise ValueError(
            f"--host {host!r} is not a valid address or a known host name; use 127.0.0.1 (this machine) or 0.0.0.0"
        ) from None


def output_file(output: str, inputs: tuple[str, ...] = ()) -> Path | None:
    """Check an ``--output`` path: ``None`` for ``-`` (stdout); refuses a folder and any of ``inputs``.

    :raises ValueError: with the remedy.
    """
    if output == "-":
        return None
    out = Path(output)
    if out.is_dir():
        raise ValueError(f"{out}: is a folder; give a file name, e.g. {out / 'vectors.npy'}")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"{out.parent}: output folder does not exist; create it first")
    for item in inputs:
        if item != "-" and Path(item).exists() and out.exists() and os.path.samefile(item, out):
            raise ValueError(f"{out}: is also the input {item}; choose another output file")
    return out


def internal_error(command: str, args: argparse.Namespace, err: BaseException) -> str:
    """The last-resort line for an unexpected exception: the command, the file it worked on, the error."""
    files = [str(getattr(args, key)) for key in _FILE_ARGS if getattr(args, key, None) not in (None, "-")]
    where = f" while processing {files[0]}" if files else ""
    reason = (str(err).splitlines() or [""])[0][:200]
    return (
        f"m2v-edge {command}: internal error{where}: {type(err).__name__}: {reason} "
        "(a bug or an unreadable file; please report it with the command line)"
    )
