"""The ``data`` entry of a configuration: a generated data set, a scikit-learn one, or a file."""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from typing import Any

from ... import datasets

DATASET_ALIASES = {
    "gaussian": "gaussian",
    "gauss": "gaussian",
    "generalized_rademacher": "generalized_rademacher",
    "gr": "generalized_rademacher",
    "rademacher": "generalized_rademacher",
    "shifted_diagonal": "shifted_diagonal",
    "diagonal": "shifted_diagonal",
}


#: File formats ``data.path`` accepts (read by ``ib.datasets.load``): the extensions it knows.
DATA_FILE_SUFFIXES = tuple(datasets.FORMATS)


def generator_parameters(name: str) -> list[inspect.Parameter]:
    """The keyword parameters of the generator ``datasets.<name>`` (a canonical name, not an alias)."""
    sig = inspect.signature(getattr(datasets, name))
    return [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def parse_data_string(text: str) -> dict[str, Any]:
    """``"sklearn:digits:0,1"`` -> a scikit-learn data set; anything else -> a file path."""
    if text.startswith("sklearn:"):
        parts = text.split(":")
        if len(parts) not in (2, 3) or not parts[1]:
            raise ValueError(
                f"data: {text!r} must look like sklearn:NAME or sklearn:NAME:A,B (e.g. sklearn:digits:0,1)"
            )
        out: dict[str, Any] = {"sklearn": parts[1]}
        if len(parts) == 3:
            classes = [c.strip() for c in parts[2].split(",")]
            if len(classes) != 2 or not all(classes):
                raise ValueError(f"data: {text!r}: give exactly two classes, e.g. sklearn:digits:0,1")
            out["classes"] = [int(c) if c.lstrip("-").isdigit() else c for c in classes]
        return out
    return {"path": text}


def normalize_data(spec: Any) -> dict[str, Any]:
    """The canonical ``data`` entry of a configuration.

    Args:
        spec: a generator table (``{"name": "gaussian", "n": 10, ...}``; name case-insensitive, with
            aliases), a scikit-learn table (``{"sklearn": "digits", "classes": [0, 1]}``), a file
            table (``{"path": "data.csv"}``) or a string (``"sklearn:digits:0,1"`` or a file name).

    Returns:
        ``{"name": <canonical>, **params}``, ``{"sklearn", "classes", "standardize"}`` or ``{"path"}``.

    Raises:
        ValueError: naming the key (``data.name``, ``data.<parameter>``, ``data.path``, ...).
    """
    if isinstance(spec, (str, os.PathLike)):
        spec = parse_data_string(os.fspath(spec))
    if not isinstance(spec, Mapping):
        raise ValueError(f"data: must be a table with 'name' (and its parameters), 'sklearn' or 'path', got {spec!r}")
    spec = dict(spec)
    if "path" in spec:
        extra = set(spec) - {"path"}
        if extra:
            raise ValueError(f"data.{sorted(extra)[0]}: not allowed together with data.path")
        if not isinstance(spec["path"], (str, os.PathLike)):
            raise ValueError(f"data.path: must be a file name (.npz or .csv), got {spec['path']!r}")
        path = os.fspath(spec["path"])
        if not path.lower().endswith(DATA_FILE_SUFFIXES):
            raise ValueError(f"data.path: must be a {', '.join(DATA_FILE_SUFFIXES)} file, got {path!r}")
        return {"path": path}
    if "sklearn" in spec:
        extra = set(spec) - {"sklearn", "classes", "standardize"}
        if extra:
            raise ValueError(f"data.{sorted(extra)[0]}: a scikit-learn data set takes only classes and standardize")
        out = {
            "sklearn": str(spec["sklearn"]),
            "classes": None,
            "standardize": True,
            **{k: v for k, v in spec.items() if k != "sklearn"},
        }
        if out["classes"] is not None:
            if isinstance(out["classes"], (str, bytes)) or len(out["classes"]) != 2:
                raise ValueError(f"data.classes: must be two classes, got {out['classes']!r}")
            out["classes"] = list(out["classes"])
        if not isinstance(out["standardize"], bool):
            raise ValueError(f"data.standardize: must be true or false, got {out['standardize']!r}")
        return out
    if "name" not in spec:
        raise ValueError(
            "data.name: missing (one of gaussian, generalized_rademacher, shifted_diagonal) or give data.path"
        )
    name = str(spec.pop("name")).lower()
    if name not in DATASET_ALIASES:
        raise ValueError(
            f"data.name: unknown data set {name!r}; known: gaussian, generalized_rademacher (gr), shifted_diagonal"
        )
    name = DATASET_ALIASES[name]
    params = generator_parameters(name)
    allowed = [p.name for p in params]
    for key in spec:
        if key not in allowed:
            raise ValueError(f"data.{key}: data set {name!r} has no parameter {key!r} (allowed: {', '.join(allowed)})")
    for p in params:
        if p.default is inspect.Parameter.empty and p.name not in spec:
            raise ValueError(f"data.{p.name}: missing (data set {name!r} needs it)")
    return {"name": name, **spec}
