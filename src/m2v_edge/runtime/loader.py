"""Open either an exported folder or a Model2Vec source folder as an encoder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from m2v_edge.runtime.facts import is_export_folder


class Encoder(Protocol):
    """What the demo, eval and bench need of a model."""

    @property
    def dim(self) -> int: ...

    @property
    def normalize(self) -> bool: ...

    def encode(
        self,
        texts: str | Sequence[str],
        /,
        batch_size: int = ...,
        max_length: int | None = ...,
        show_progress_bar: bool = ...,
    ) -> np.ndarray: ...


def load_encoder(path: str | Path, threads: int | None = None) -> Encoder:
    """An exported folder opens as :class:`StaticOnnxModel`; a Model2Vec folder as the numpy reference.

    :raises FileNotFoundError: if the path does not exist or is neither kind of folder.
    :raises ValueError: if a file in it is corrupt.
    """
    from m2v_edge.runtime.model import StaticOnnxModel
    from m2v_edge.runtime.reference import ReferenceModel
    from m2v_edge.source.folder import load_source

    folder = Path(path)
    if is_export_folder(folder):
        return StaticOnnxModel.from_pretrained(folder, threads=threads)
    return ReferenceModel(load_source(folder))
