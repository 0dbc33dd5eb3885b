"""Model names: a local folder, or a Hugging Face Hub id (``minishlab/potion-base-8M``) resolved to a local snapshot.

One function, :func:`resolve_model`, used by ``export``, ``eval`` and ``demo``. Hub ids go through
``huggingface_hub`` (the ``hub`` extra): its cache layout and environment (``HF_HOME``, ``HF_HUB_CACHE``,
``HF_HUB_OFFLINE``, ``HF_TOKEN``) apply, read when the function is called.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from m2v_edge.extras import require

# A Model2Vec source (either layout) and its card; never pickles or other frameworks' weights.
SOURCE_PATTERNS = (
    "config.json",
    "config_sentence_transformers.json",
    "modules.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "README.md",
    "0_StaticEmbedding/*",
)
# An m2v-edge export hosted on the Hub (for eval and demo), besides the files above.
EXPORT_PATTERNS = ("onnx/*", "*.onnx", "*.ort")
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SNAPSHOT = re.compile(r"models--(?P<org>[^/\\]+?)--(?P<name>[^/\\]+)[/\\]snapshots[/\\][^/\\]+$")
_TRUE = {"1", "true", "yes", "on"}


def is_repo_id(name: str) -> bool:
    """Whether ``name`` has the shape of a Hub model id (``org/name``)."""
    return bool(_REPO_ID.match(name)) and ".." not in name


def repo_id_from_path(path: str | Path) -> str | None:
    """``org/name`` for a folder inside the Hub cache (``.../models--org--name/snapshots/<commit>``), else ``None``."""
    match = _SNAPSHOT.search(str(Path(path).resolve()))
    return f"{match['org']}/{match['name']}" if match else None


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def _cache_dir() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def resolve_model(
    name: str | Path, revision: str | None = None, *, exported: bool = False, token: str | None = None
) -> Path:
    """A local folder as it is; a Hub id as the folder of its snapshot in the Hugging Face cache.

    :param name: a folder path, or a Hub model id such as ``minishlab/potion-base-8M``.
    :param revision: a branch, tag or commit of the Hub repository (default ``main``); not for folders.
    :param exported: also fetch ONNX files (``eval``/``demo`` accept m2v-edge exports hosted on the Hub).
    :param token: a Hub token for private models (default: ``HF_TOKEN`` / the stored login).
    :return: a local folder.
    :raises FileNotFoundError: no such folder and not a Hub id, or not cached while offline, or no such repo.
    :raises ValueError: a revision given for a local folder, or the Hub refused the request.
    :raises MissingExtraError: a Hub id without ``huggingface_hub`` installed.
    """
    text = str(name)
    path = Path(text)
    if path.exists():
        if revision is not None:
            raise ValueError(f"{text}: --revision applies to Hub ids, not to a local folder")
        return path
    if not is_repo_id(text):
        raise FileNotFoundError(f"{text}: no such folder (nor a Hub id like minishlab/potion-base-8M)")
    require("hub", "huggingface_hub", what=f"{text}: no such folder; loading it as a Hub id")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    cache = _cache_dir()
    patterns = list(SOURCE_PATTERNS) + (list(EXPORT_PATTERNS) if exported else [])
    where = f"{text}@{revision}" if revision else text
    try:
        folder = snapshot_download(
            text, revision=revision, cache_dir=cache, allow_patterns=patterns, local_files_only=_offline(), token=token
        )
    except LocalEntryNotFoundError:
        raise FileNotFoundError(
            f"{where}: no such folder, and not in the Hugging Face cache {cache} while the Hub is offline or "
            "unreachable (HF_HUB_OFFLINE); download it once online, or give a local folder"
        ) from None
    except (RepositoryNotFoundError, GatedRepoError):
        raise FileNotFoundError(
            f"{text}: no such folder, and no such model on the Hub (private or gated ones need `hf auth login`)"
        ) from None
    except RevisionNotFoundError:
        raise FileNotFoundError(f"{where}: no such revision on the Hub; check --revision") from None
    except HfHubHTTPError as err:
        reason = (str(err).splitlines() or ["HTTP error"])[0][:200]
        raise ValueError(f"{where}: the Hub refused the download ({reason})") from None
    return Path(folder)
