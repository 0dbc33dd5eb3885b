"""Where an export may write, and the race-free final move: never delete or replace what we did not write.

The rules (docs/format.md, "Safety"):

- ``OUTPUT`` may be replaced (``--force``) only when it is an m2v-edge export (its ``config.json`` says so)
  holding only the files it wrote (config.json's ``files`` list; the known names for older exports), an empty
  folder, or a symlink (the link is replaced; what it points to is left alone). Anything else is refused, naming
  the foreign files. ``OUTPUT`` equal to, inside, or a parent of the source folder is refused.
- The export is written to a staging folder ``.NAME.partial-XXXXXXXX`` beside ``OUTPUT`` (with a marker file
  naming our pid) and moved into place with an atomic primitive that cannot replace: Linux
  ``renameat2(RENAME_NOREPLACE)``; elsewhere ``mkdir(OUTPUT)`` (atomic, exclusive) then ``rename`` onto that
  empty folder, which fails if anyone put a file in it. There is no check-then-rename window: if anything
  appears at ``OUTPUT`` during the export, the move fails and nothing is replaced.
- ``--force`` swaps with ``renameat2(RENAME_EXCHANGE)`` (atomic), then checks what it swapped out again: only
  if it is still an export / empty folder / symlink is it deleted, else it is swapped back and the export
  fails. Without ``RENAME_EXCHANGE`` the old folder is first moved aside, checked, then the new one is moved
  in without replacing.
- Staging folders of ours left by a killed export (marker present, same host, pid no longer running) are
  removed at the next export to the same ``OUTPUT``.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import secrets
import shutil
import socket
import sys
from pathlib import Path

MODEL_TYPE = "m2v-edge-static-embedding"
MARKER = ".m2v-edge-staging"
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class OutputError(FileExistsError):
    """``OUTPUT`` may not be written or replaced (exit code 2 in the CLI)."""


def output_path(output: str | Path) -> Path:
    """``output`` made absolute (``.`` and ``..`` resolved, the last component's symlink kept)."""
    out = Path(os.path.abspath(output))
    if not out.name:
        raise OutputError(f"{out}: cannot export to the file-system root; give a folder path such as out/model")
    return out


# The files an export wrote before config.json listed them (``files``): anything else in the folder is foreign.
_LEGACY_FILES = (
    "config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "README.md", "model.onnx",
    "model.ort", "required_operators.config", "required_operators_and_types.config",
)  # fmt: skip


def _own_files(config: dict[str, object]) -> set[str]:
    """The paths an export with this config.json wrote: its ``files`` list, else the legacy names."""
    listed = config.get("files")
    if isinstance(listed, dict):
        return {str(name) for name in listed} | {"config.json"}
    own = set(_LEGACY_FILES)
    model = config.get("model_file")
    if isinstance(model, str) and model.endswith(".onnx"):
        folder = model.rpartition("/")[0]
        own |= {model, model[: -len(".onnx")] + ".ort"} | {f"{folder}/{name}" for name in _LEGACY_FILES[-2:]}
    return own


def foreign_files(path: Path, config: dict[str, object]) -> list[str]:
    """Files and folders under the export ``path`` that it did not write (POSIX paths), sorted."""
    own = _own_files(config)
    foreign = []
    for folder, dirs, names in os.walk(path):
        rel = Path(folder).relative_to(path)
        for name in dirs + names:
            item = (rel / name).as_posix()
            is_dir = name in dirs and not (Path(folder) / name).is_symlink()
            if (item not in own) if not is_dir else not any(f.startswith(item + "/") for f in own):
                foreign.append(item + ("/" if is_dir else ""))
        dirs[:] = [d for d in dirs if (rel / d).as_posix() + "/" not in foreign]
    return sorted(foreign)


def replace_refusal(path: Path) -> str | None:
    """Why ``--force`` may not replace ``path``; ``None`` if it may.

    It may when ``path`` is an earlier export holding only its own files, an empty folder, or a symlink to one of
    those or to nothing.
    """
    if path.is_symlink():
        target = path.resolve()
        return None if not target.exists() else replace_refusal(target)
    if not path.is_dir():
        return "is a file; choose a folder path for the export"
    try:
        entries = os.listdir(path)
    except OSError as err:
        return f"cannot be listed ({err.strerror}); choose another folder"
    if not entries:
        return None
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = None
    if not (isinstance(config, dict) and config.get("model_type") == MODEL_TYPE and "format_version" in config):
        return (
            "not an m2v-edge export (no m2v-edge config.json) and not empty; --force replaces only earlier "
            "exports: choose another folder"
        )
    foreign = foreign_files(path, config)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        return (
            f"holds files the earlier export did not write ({shown}); --force replaces only an export's own "
            "files: move them out or choose another folder"
        )
    return None


def check_output(output: Path, force: bool) -> None:
    """Refuse an ``OUTPUT`` we may not write (before any work is done).

    :raises OutputError: with the folder's name and the remedy.
    """
    if not output.exists() and not output.is_symlink():
        return
    if not force:
        raise OutputError(f"{output}: already exists; pass --force (force=True) to replace an earlier export")
    why = replace_refusal(output)
    if why is not None:
        raise OutputError(f"{output}: {why}")


def check_not_source(output: Path, source: Path) -> None:
    """Refuse ``OUTPUT`` equal to, inside, or a parent of the source folder (symlinks resolved)."""
    out = output.resolve()
    src = source.resolve()
    if out == src:
        raise OutputError(f"{output}: is the source folder; choose another output folder")
    if out.is_relative_to(src):
        raise OutputError(f"{output}: is inside the source folder {source}; choose a folder outside it")
    if src.is_relative_to(out):
        raise OutputError(f"{output}: contains the source folder {source}; choose a folder that does not")


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` may be a running process (``True`` when unsure: the staging folder is then kept)."""
    if not 0 < pid < 2**31:  # not a pid the system can have (0 and negatives would signal process groups)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def clean_stale(output: Path) -> list[Path]:
    """Remove our staging folders for ``output`` whose exporting process is gone; returns what was removed."""
    removed: list[Path] = []
    parent = output.parent
    if not parent.is_dir():
        return removed
    for entry in parent.glob(f".{output.name}.partial-*"):
        marker = entry / MARKER
        if entry.is_symlink() or not entry.is_dir() or not marker.is_file():
            continue
        try:
            owner = json.loads(marker.read_text(encoding="utf-8"))
            pid, host = int(owner["pid"]), str(owner["host"])
        except (OSError, ValueError, KeyError, TypeError, OverflowError):
            continue
        if host == socket.gethostname() and not _pid_alive(pid):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def make_staging(output: Path) -> Path:
    """Create ``.NAME.partial-XXXXXXXX`` beside ``output`` (missing parents created; mode from the umask)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    while True:
        staging = output.with_name(f".{output.name}.partial-{secrets.token_hex(4)}")
        try:
            staging.mkdir()  # mode 0o777 & ~umask, unlike tempfile.mkdtemp's 0o700
        except FileExistsError:
            continue
        (staging / MARKER).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}), encoding="utf-8")
        return staging


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.renameat2  # noqa: B018  (glibc >= 2.28 / musl >= 1.2.5)
    except (OSError, AttributeError):
        return None
    return libc


def _renameat2(src: Path, dst: Path, flags: int) -> bool:
    """``renameat2(src, dst, flags)``; ``False`` when the system or file system does not support it."""
    libc = _libc()
    if libc is None:
        return False
    if libc.renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(dst))


def _taken(output: Path) -> OutputError:
    return OutputError(
        f"{output}: appeared while exporting (another export or program wrote it); nothing was replaced, run again"
    )


def move_noreplace(staging: Path, output: Path) -> None:
    """Atomically move ``staging`` to ``output``; fail (replacing nothing) if ``output`` exists in any form."""
    try:
        if _renameat2(staging, output, _RENAME_NOREPLACE):
            return
        if os.name == "nt":  # os.rename never replaces on Windows
            os.rename(staging, output)
            return
        output.mkdir()  # exclusive claim; then rename onto our own empty folder
        try:
            os.rename(staging, output)
        except OSError:
            with contextlib.suppress(OSError):
                output.rmdir()  # only if still empty
            raise
    except OSError as err:
        if err.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR):
            raise _taken(output) from None
        raise


def _discard(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink()
    else:
        shutil.rmtree(path)


def publish(staging: Path, output: Path, force: bool) -> None:
    """Move the finished ``staging`` folder to ``output`` (see the module docstring for the rules)."""
    with contextlib.suppress(FileNotFoundError):
        (staging / MARKER).unlink()
    if not force or (not output.exists() and not output.is_symlink()):
        move_noreplace(staging, output)
        return
    if _renameat2(staging, output, _RENAME_EXCHANGE):
        if replace_refusal(staging) is not None:  # something else was put there since the check: give it back
            _renameat2(staging, output, _RENAME_EXCHANGE)
            raise OutputError(f"{output}: changed while exporting and is no longer an earlier export; not replaced")
        _discard(staging)
        return
    old = output.with_name(f".{output.name}.old-{secrets.token_hex(4)}")
    os.rename(output, old)  # a fresh random name: nothing there to replace
    if replace_refusal(old) is not None:
        move_noreplace(old, output)
        raise OutputError(f"{output}: changed while exporting and is no longer an earlier export; not replaced")
    try:
        move_noreplace(staging, output)
    except OSError:
        with contextlib.suppress(OSError):
            move_noreplace(old, output)
        raise
    _discard(old)
