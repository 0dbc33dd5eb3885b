"""``--target mobile``: ``model.ort`` and the operator configs for a reduced onnxruntime build.

Uses onnxruntime's own converter (``onnxruntime.tools.convert_onnx_models_to_ort``, the API behind
``python -m onnxruntime.tools.convert_onnx_models_to_ort``) with the "Fixed" optimization style, the
one onnxruntime recommends for the CPU provider. It writes, next to ``model.onnx``:

* ``model.ort`` (``onnx/model_quantized.ort`` in the ``hf`` layout: the graph's name, ``.ort``): the same
  graph in ORT format (mobile packages, onnxruntime-web, minimal builds);
* ``required_operators.config``: the operators, for ``build.py --include_ops_by_config``;
* ``required_operators_and_types.config``: the same with the types each operator needs, for
  ``--include_ops_by_config ... --enable_reduced_operator_type_support`` (a smaller binary).
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np

from m2v_edge.errors import one_line

REQUIRED_OPERATORS = "required_operators.config"
REQUIRED_OPERATORS_AND_TYPES = "required_operators_and_types.config"
MAX_ORT_DIFF = 1e-5
TARGETS = ("default", "mobile")


def _portable_header(config: Path, model_name: str) -> None:
    """Replace the converter's absolute temp-file path in the header comment by the file's name."""
    lines = config.read_text(encoding="utf-8").splitlines()
    fixed = [f"# - {model_name}" if line.startswith("# - ") else line for line in lines]
    config.write_text("\n".join(fixed) + "\n", encoding="utf-8")


def write_ort(folder: Path) -> list[Path]:
    """Convert the export's graph to ORT format next to it and write both operator configs there.

    :param folder: an export folder (or staging folder) with its ``config.json`` and graph.
    :return: the three files written.
    :raises ValueError: if onnxruntime cannot convert the model.
    """
    from onnxruntime.tools.convert_onnx_models_to_ort import OptimizationStyle, convert_onnx_models_to_ort
    from onnxruntime.tools.ort_format_model import create_config_from_models

    from m2v_edge.contract import ExportFiles

    files = ExportFiles(folder)
    onnx_file, ort_file = files.model, files.ort_model
    where = ort_file.parent
    work = Path(tempfile.mkdtemp(prefix=".ort-", dir=where))
    logger = logging.getLogger("ort_format_model.utils")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        # The converter prints progress to stdout; keep the CLI's output to our own lines.
        with contextlib.redirect_stdout(io.StringIO()):
            convert_onnx_models_to_ort(onnx_file, output_dir=work, optimization_styles=[OptimizationStyle.Fixed])
        converted = work / ort_file.name
        ops_file = work / f"{ort_file.stem}.required_operators.config"
        if not converted.is_file() or not ops_file.is_file():
            raise ValueError(f"{onnx_file}: onnxruntime's ORT converter wrote no {ort_file.name}; see its log above")
        shutil.move(str(converted), ort_file)
        shutil.move(str(ops_file), where / REQUIRED_OPERATORS)
        create_config_from_models([ort_file], where / REQUIRED_OPERATORS_AND_TYPES, True)
    except ValueError:
        raise
    except Exception as err:  # onnxruntime raises its own Fail types
        reason = one_line(err)
        raise ValueError(f"{onnx_file}: onnxruntime cannot convert it to ORT format ({reason})") from None
    finally:
        logger.setLevel(level)
        shutil.rmtree(work, ignore_errors=True)
    written = [ort_file, where / REQUIRED_OPERATORS, where / REQUIRED_OPERATORS_AND_TYPES]
    for config in written[1:]:
        _portable_header(config, ort_file.name)
    return written


def check_ort(folder: Path, texts: list[str]) -> float:
    """Max abs difference between ``model.ort`` and ``model.onnx`` vectors on ``texts``.

    :raises ValueError: if it exceeds ``MAX_ORT_DIFF`` (nothing is kept then).
    """
    from m2v_edge.runtime.model import StaticOnnxModel

    onnx_vectors = StaticOnnxModel.from_pretrained(folder, threads=1).encode(texts)
    ort_vectors = StaticOnnxModel.from_pretrained(folder, threads=1, use_ort_format=True).encode(texts)
    diff = float(np.abs(onnx_vectors - ort_vectors).max())
    if not diff <= MAX_ORT_DIFF:
        raise ValueError(f"the .ort graph differs from the .onnx by {diff:.2e} (> {MAX_ORT_DIFF}); nothing was written")
    return diff


def parse_target(target: str) -> bool:
    """``"default"`` → False, ``"mobile"`` → True (also write ``model.ort`` and the operator configs).

    :raises ValueError: for any other target.
    """
    if target not in TARGETS:
        raise ValueError(f"target {target!r} is not supported; choose one of: {', '.join(TARGETS)}")
    return target == "mobile"
