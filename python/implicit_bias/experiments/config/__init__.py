"""Run configurations: normalize, identify (hash), edit, and hand to the engine.

One idea per module:

* :mod:`.normalize`: :func:`normalize_config` (validate, fill defaults, canonical JSON) and its
  optimizer / learning-rate parts;
* :mod:`.data_spec`: the ``data`` entry (a generated, scikit-learn or file data set);
* :mod:`.keys`: :func:`data_hash`, :func:`build_tag`, :func:`config_key` (what identifies a cell);
* :mod:`.engine_args`: :func:`run_kwargs`, :func:`resolve_batch` and the memory checks of runs;
* :mod:`.edit`: :func:`set_param` (the swept parameters of a grid) and :func:`jsonable`.

Every name is re-exported here: ``from implicit_bias.experiments.config import normalize_config``.
"""

from __future__ import annotations

# The version in every cell key (keys.build_tag reads it from here, as from the one-module config before).
from ..._version import __version__ as __version__
from .data_spec import DATA_FILE_SUFFIXES, DATASET_ALIASES, generator_parameters, normalize_data, parse_data_string
from .edit import jsonable, set_param
from .engine_args import check_run_sizes, resolve_batch, run_bytes, run_kwargs
from .keys import CELL_FORMAT, build_tag, config_key, data_hash
from .normalize import (
    CONFIG_KEYS,
    DEFAULTS,
    MAX_CHECKPOINTS,
    normalize_config,
    normalize_lr,
    normalize_optimizer,
    optimizer_classes,
    optimizer_fields,
)

__all__ = [
    "CELL_FORMAT",
    "CONFIG_KEYS",
    "DATASET_ALIASES",
    "DATA_FILE_SUFFIXES",
    "DEFAULTS",
    "MAX_CHECKPOINTS",
    "build_tag",
    "check_run_sizes",
    "config_key",
    "data_hash",
    "generator_parameters",
    "jsonable",
    "normalize_config",
    "normalize_data",
    "normalize_lr",
    "normalize_optimizer",
    "optimizer_classes",
    "optimizer_fields",
    "parse_data_string",
    "resolve_batch",
    "run_bytes",
    "run_kwargs",
    "set_param",
]
