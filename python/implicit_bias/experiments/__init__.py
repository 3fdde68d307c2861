"""Experiments a researcher runs in one command: one configuration, sweeps, and the SPEC claims.

Everything here is also what the ``implicit-bias`` command line calls:

* :func:`run_config` — one configuration (a JSON/TOML-style mapping, see :mod:`.config`)
  -> a :class:`~implicit_bias.Trajectory` with cosines and margin ratios against the references;
* :func:`sweep` — a grid of one or two hyper-parameters times seeds -> one result file per cell
  (keyed by a hash of its configuration, so reruns skip finished cells and Ctrl-C keeps them),
  a CSV / JSON table and a phase-diagram heatmap; cells run on the engine's OpenMP ensembles or on
  any :class:`concurrent.futures.Executor` (e.g. dask.distributed), with bit-identical numbers;
* :func:`reproduce` — the claims of SPEC.md end to end (:mod:`.claims`), with explicit PASS
  criteria, a ``summary.md`` / ``summary.json`` (:mod:`.report`) and one figure per claim.

Modules, one idea each: :mod:`.config` (normalize, hash, edit), :mod:`.data` (load), :mod:`.compare`
(references and distances), :mod:`.store` (cells on disk), :mod:`.execute` (ensembles, executors),
:mod:`.run`, :mod:`.sweep`, :mod:`.claims`, :mod:`.report`, :mod:`.reproduce`.
"""

from __future__ import annotations

from .claims import CLAIMS, DEFAULT_THRESHOLDS, PREDICTION_KINDS, criterion_text, evaluate
from .compare import REFERENCE_LABELS, REFERENCE_NAMES, References, attach, compare, compute_references, final_metrics
from .config import config_key, data_hash, normalize_config, run_kwargs, set_param
from .data import load_data
from .execute import execute, run_ensemble
from .remote import default_executor
from .report import ClaimResult, Summary
from .reproduce import reproduce
from .run import check_file_stem, run_config, save_run
from .store import Cell, DataCache, Store, prepare_out_dir
from .sweep import SweepResult, sweep

__all__ = [
    "CLAIMS",
    "Cell",
    "ClaimResult",
    "DEFAULT_THRESHOLDS",
    "DataCache",
    "PREDICTION_KINDS",
    "REFERENCE_LABELS",
    "REFERENCE_NAMES",
    "References",
    "Store",
    "Summary",
    "SweepResult",
    "attach",
    "compare",
    "check_file_stem",
    "compute_references",
    "config_key",
    "criterion_text",
    "data_hash",
    "default_executor",
    "evaluate",
    "execute",
    "final_metrics",
    "load_data",
    "normalize_config",
    "prepare_out_dir",
    "reproduce",
    "run_config",
    "run_ensemble",
    "run_kwargs",
    "save_run",
    "set_param",
    "sweep",
]
