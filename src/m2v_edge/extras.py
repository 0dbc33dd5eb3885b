"""Optional dependencies: one check, one error line naming the extra to install."""

from __future__ import annotations

import importlib.util


class MissingExtraError(ImportError, ValueError):
    """An optional dependency is missing. An ``ImportError`` for API users, a one-line CLI error (exit 2)."""


def require(extra: str, *modules: str, what: str | None = None) -> None:
    """Raise :class:`MissingExtraError` unless every module in ``modules`` can be imported.

    :param extra: the ``m2v-edge[extra]`` that installs them.
    :param modules: top-level module names (``"onnx"``, ``"safetensors"``).
    :param what: the feature that needs them (default: ``extra``), for the message.
    """
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(
            f"{what or extra} needs {', '.join(missing)}: install m2v-edge[{extra}] (pip install 'm2v-edge[{extra}]')"
        )
