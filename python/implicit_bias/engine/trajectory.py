"""The record of one run: checkpoints in the run's precision, plus comparisons with references."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._format import html_table, value_label
from .._validation import as_real_array
from ..errors import RunFileError
from ..metrics import cosines_of_rows, margins_of_rows, parse_norm
from .persistence import array_field, json_field, npz_path, read_npz, write_npz

__all__ = ["Trajectory", "TRAJECTORY_ARRAYS", "reference_vector"]

#: The per-checkpoint arrays every trajectory has, in file order.
TRAJECTORY_ARRAYS = ("steps", "w", "norm", "log_loss", "margin_l2", "margin_linf", "min_margin", "scale_exponent")


def reference_vector(name: str, ref: Any, dtype: np.dtype, d: int) -> np.ndarray:
    """A reference direction (an array (d,) or a result with ``.w``) as a nonzero (d,) array of ``dtype``.

    A reference computed in another precision is cast (fine for cosines), not refused.

    Args:
        name: the argument's name, the start of every error message.
        ref: the direction, shape (d,), or a result with ``.w``.
        dtype: the run precision, np.float64 or np.longdouble.
        d: the number of entries the direction must have.

    Returns:
        The direction, shape (d,), a C-contiguous array of ``dtype``.

    Raises:
        ValueError: when the direction is not 1-D with d entries, is not finite, or is zero.
        TypeError: when it is not real-valued.
    """
    vec = getattr(ref, "w", ref)
    if isinstance(vec, np.ndarray) and vec.dtype.kind == "f":
        vec = vec.astype(dtype)
    arr = as_real_array(name, vec, dtype, ndim=1)
    if arr.shape[0] != d:
        raise ValueError(f"{name}: must have d = {d} entries, got {arr.shape[0]}")
    if not np.any(arr):
        raise ValueError(f"{name}: must be a nonzero direction")
    return arr


@dataclass(repr=False)
class Trajectory:
    """Checkpoints of one run, in the run's precision.

    All arrays have one entry per checkpoint (K of them, log-spaced in t, always ending with the
    last step taken): ``steps`` (K,) int64 step counts; ``w`` (K, d) iterates; ``norm`` ||w||_2;
    ``log_loss`` natural log of L(w) = mean_i l(<z_i, w>) (computed in log space, finite even when
    L underflows); ``margin_l2`` = min_i <z_i, w> / ||w||_2; ``margin_linf`` = min_i <z_i, w> /
    ||w||_inf; ``min_margin`` = min_i <z_i, w>; ``scale_exponent`` the engine's gradient scale E
    (gradients are held as g * 2^-E; diagnostics only). ``cosine[name]`` and ``margin_ratio[name]``
    hold comparisons with the references passed to :func:`train`.
    """

    steps: np.ndarray
    w: np.ndarray
    norm: np.ndarray
    log_loss: np.ndarray
    margin_l2: np.ndarray
    margin_linf: np.ndarray
    min_margin: np.ndarray
    scale_exponent: np.ndarray
    config: dict[str, Any] = field(default_factory=dict)
    cosine: dict[str, np.ndarray] = field(default_factory=dict)
    margin_ratio: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def final_w(self) -> np.ndarray:
        """The last recorded iterate, shape (d,)."""
        return self.w[-1]

    @property
    def direction(self) -> np.ndarray:
        """Unit-l2 directions w / ||w||_2 at every checkpoint, shape (K, d)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.w / self.norm[:, None]

    def cosine_to(self, reference: ArrayLike) -> np.ndarray:
        """cos(w_k, reference) at every checkpoint, shape (K,)."""
        return cosines_of_rows(self.w, reference_vector("reference", reference, self.w.dtype, self.w.shape[1]))

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        t = int(self.steps[-1]) if len(self.steps) else 0
        refs = ", ".join(sorted(self.cosine)) or "none"
        opt = self.config.get("optimizer", {}).get("name", "?")
        return (
            f"Trajectory({opt}, {len(self)} checkpoints up to t = {t}, d = {self.w.shape[1]}, "
            f"dtype = {self.w.dtype}, references: {refs})"
        )

    def _repr_html_(self) -> str:
        """Jupyter's view: the configuration and the last checkpoint's numbers in one small table."""
        opt = dict(self.config.get("optimizer", {}))
        name = opt.pop("name", "?")
        t = int(self.steps[-1]) if len(self.steps) else 0
        rows: list[tuple[str, Any]] = [("optimizer", f"{name}({value_label(opt)})")]
        rows += [(k, self.config[k]) for k in ("batch_size", "order", "loss", "seed") if k in self.config]
        rows += [("lr", self.config["lr"])] if "lr" in self.config else []
        rows += [("n x d", f"{self.config.get('n', '?')} x {self.w.shape[1]}"), ("dtype", str(self.w.dtype))]
        rows.append(("checkpoints", f"{len(self)} (steps {int(self.steps[0])} .. {t})" if len(self) else "0"))
        if len(self):
            rows += [(f"{k} at t = {t}", getattr(self, k)[-1]) for k in TRAJECTORY_ARRAYS[2:]]
            rows += [(f"cos(w, {k})", v[-1]) for k, v in sorted(self.cosine.items())]
            rows += [(f"margin ratio {k}", v[-1]) for k, v in sorted(self.margin_ratio.items())]
        return html_table(f"Trajectory: {name}, {len(self)} checkpoints up to t = {t}", rows)

    def to_xarray(self) -> Any:
        """An ``xarray.Dataset`` on dimensions ``step`` (the checkpoints) and ``coordinate`` (0..d-1):
        ``w`` (step, coordinate), the per-checkpoint arrays, ``cosine_<ref>`` and ``margin_ratio_<ref>``
        (step), and the configuration as JSON in ``attrs["config"]``. Needs xarray (the ``xarray`` extra)."""
        try:
            import xarray as xr
        except ImportError as exc:
            raise ImportError('to_xarray needs xarray: pip install "implicit-bias[xarray]"') from exc
        import json

        variables: dict[str, Any] = {"w": (("step", "coordinate"), self.w)}
        variables.update({k: ("step", getattr(self, k)) for k in TRAJECTORY_ARRAYS[2:]})
        variables.update({f"cosine_{k}": ("step", v) for k, v in self.cosine.items()})
        variables.update({f"margin_ratio_{k}": ("step", v) for k, v in self.margin_ratio.items()})
        coords = {"step": np.asarray(self.steps, dtype=np.int64), "coordinate": np.arange(self.w.shape[1])}
        return xr.Dataset(variables, coords=coords, attrs={"config": json.dumps(self.config)})

    def to_dataframe(self) -> Any:
        """A pandas DataFrame in long format: one row per checkpoint and quantity, columns ``step``,
        ``quantity`` (norm, log_loss, margin_l2, margin_linf, min_margin, scale_exponent,
        cosine/<ref>, margin_ratio/<ref>) and ``value`` (float64). Needs pandas."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("to_dataframe needs pandas: pip install pandas") from exc
        series = {k: getattr(self, k) for k in TRAJECTORY_ARRAYS if k not in ("steps", "w")}
        series.update({f"cosine/{k}": v for k, v in self.cosine.items()})
        series.update({f"margin_ratio/{k}": v for k, v in self.margin_ratio.items()})
        steps = np.asarray(self.steps, dtype=np.int64)
        return pd.DataFrame(
            {
                "step": np.tile(steps, len(series)),
                "quantity": np.repeat(list(series), steps.size),
                "value": np.concatenate([np.asarray(v, dtype=np.float64) for v in series.values()]) if series else [],
            }
        )

    def save(self, path: str | PathLike[str]) -> None:
        """Write to a ``.npz`` file atomically (arrays keep their dtype; config stored as JSON; a
        format version and a checksum of the content, see :mod:`.persistence`)."""
        import json

        arrays = {k: getattr(self, k) for k in TRAJECTORY_ARRAYS}
        arrays.update({f"cosine/{k}": v for k, v in self.cosine.items()})
        arrays.update({f"margin_ratio/{k}": v for k, v in self.margin_ratio.items()})
        write_npz(path, {"config": np.array(json.dumps(self.config)), **arrays}, kind="trajectory")

    @classmethod
    def load(cls, path: str | PathLike[str]) -> Trajectory:
        """Read a file written by :meth:`save`; every field is checked (checksum, dtype, shape,
        finiteness, increasing steps), and a damaged file raises :class:`RunFileError` naming the
        file and the field."""
        where = npz_path(path)
        arrays = read_npz(where, kind="trajectory")
        arrays.pop("format")
        for name in arrays:
            if name not in TRAJECTORY_ARRAYS and name != "config" and not name.startswith(("cosine/", "margin_ratio/")):
                raise RunFileError(f"{where}: field {name!r} is not part of a trajectory file")
        steps = array_field(arrays, "steps", where, kinds="iu", shape=(None,))
        k = steps.shape[0]
        if k and (steps.min() < 0 or not np.all(steps[1:] > steps[:-1])):
            raise RunFileError(f"{where}: field 'steps' must be strictly increasing step counts >= 0")
        w = array_field(arrays, "w", where, shape=(k, None), finite=True)
        if w.dtype not in (np.dtype(np.float64), np.dtype(np.longdouble)) or w.shape[1] < 1:
            raise RunFileError(
                f"{where}: field 'w' must be a float64 or longdouble array ({k}, d) with d >= 1, got {w.dtype} {w.shape}"
            )
        fields: dict[str, np.ndarray] = {"steps": steps, "w": w}
        for name in TRAJECTORY_ARRAYS[2:]:
            if name == "scale_exponent":
                fields[name] = array_field(arrays, name, where, kinds="iu", shape=(k,))
                continue
            fields[name] = array_field(
                arrays, name, where, dtype=w.dtype, shape=(k,), finite=name not in ("margin_l2", "margin_linf")
            )
        norm = fields["norm"]
        if np.any(norm < 0):
            raise RunFileError(f"{where}: field 'norm' must be >= 0")
        extra: dict[str, dict[str, np.ndarray]] = {"cosine": {}, "margin_ratio": {}}
        for name in sorted(arrays):
            group, _, ref = name.partition("/")
            if group in extra:
                extra[group][ref] = array_field(arrays, name, where, kinds="f", shape=(k,))
        for name in (
            "margin_l2",
            "margin_linf",
            *(f"cosine/{r}" for r in extra["cosine"]),
            *(f"margin_ratio/{r}" for r in extra["margin_ratio"]),
        ):
            value = arrays[name]
            if np.any(np.isinf(value)) or np.any(np.isnan(value) & (norm > 0)):
                raise RunFileError(f"{where}: field {name!r} contains NaN (at a nonzero iterate) or infinite values")
        config = json_field(arrays, "config", where)
        if not isinstance(config, dict):
            raise RunFileError(f"{where}: field 'config' must be a JSON object, got {type(config).__name__}")
        return cls(**fields, config=config, cosine=extra["cosine"], margin_ratio=extra["margin_ratio"])

    def attach(self, references: Mapping[str, Any], X: np.ndarray, y: np.ndarray) -> None:
        """Store cosines (and margin ratios, for references with ``.norm`` and ``.gamma``) against
        ``references`` (name -> direction or result), computed in the run's precision.

        Args:
            references: maps names to directions ((d,) arrays) or results with ``.w`` (and, for
                margin ratios, ``.norm`` and ``.gamma``); stored under the same names in
                ``cosine`` and ``margin_ratio``.
            X: the run's validated data, shape (n, d) (not checked again).
            y: the run's validated labels, shape (n,) (not checked again).

        Raises:
            ValueError: when a direction is not a finite, nonzero (d,) vector
                (:func:`reference_vector`), or a result's ``.norm`` is not a valid norm
                (:func:`implicit_bias.metrics.parse_norm`; a singular one raises
                :class:`DegenerateProblemError`).
            TypeError: when a direction is not real-valued.
        """
        dtype, d = self.w.dtype, self.w.shape[1]
        Z = None
        for name, ref in references.items():
            self.cosine[name] = cosines_of_rows(self.w, reference_vector(f"references[{name!r}]", ref, dtype, d))
            norm, gamma = getattr(ref, "norm", None), getattr(ref, "gamma", None)
            if norm is not None and gamma is not None:
                Z = np.asarray(y, dtype=dtype)[:, None] * np.asarray(X, dtype=dtype) if Z is None else Z
                self.margin_ratio[name] = margins_of_rows(self.w, Z, parse_norm(norm, d, dtype)) / gamma
