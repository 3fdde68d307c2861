"""Reproduce the claims of SPEC.md end to end (``implicit-bias reproduce``)."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from .._version import __version__
from ..engine.ensemble import check_threads
from .claims import (
    CLAIMS,
    DATA_2D,
    DATA_LABEL,
    DEFAULT_THRESHOLDS,
    MATCHED_KINDS,
    PREDICTION_KINDS,
    RunSpec,
    claim_definitions,
    evaluate,
    illustration_runs,
    real_data_runs,
)
from .compare import prediction_metrics
from .config import config_key, normalize_config
from .execute import execute
from .figure_pool import FigurePool, figure_workers
from .report import ClaimResult, Summary
from .run import theory_record
from .store import Cell, DataCache, Store, atomic_write_text, prepare_out_dir
from .transition import transition_data


def _prediction_for(
    predictions: Mapping[Any, Any] | None, number: int, spec: RunSpec
) -> tuple[str | None, float | None, bool]:
    """The prediction of a run (the claim's, or an override), its threshold, and whether overridden."""
    if predictions:
        for key in (f"claim{number}:{spec.label}", f"claim{number}", number, str(number)):
            if key in predictions:
                value = predictions[key]
                kind = value(spec.label, spec.config) if callable(value) else value
                if kind is None:
                    return None, None, True
                if kind not in PREDICTION_KINDS:
                    raise ValueError(
                        f"predictions[{key!r}]: unknown prediction {kind!r}; use one of {', '.join(PREDICTION_KINDS)}"
                    )
                thr = spec.threshold if kind == spec.expect and spec.threshold is not None else DEFAULT_THRESHOLDS[kind]
                return kind, thr, kind != spec.expect
    return spec.expect, spec.threshold, False


def reproduce(
    quick: bool = True,
    claims: Iterable[int] | None = None,
    out_dir: str | os.PathLike[str] = "results/reproduce",
    progress: bool = True,
    predictions: Mapping[Any, Any] | None = None,
    *,
    executor: cf.Executor | None = None,
    threads: int | None = None,
    theory: bool = True,
    resume: bool = True,
    illustration: bool = True,
    real_data: bool = True,
) -> Summary:
    """Reproduce the claims of SPEC.md end to end; write ``summary.md``, ``summary.json``, figures.

    Runs are cached in ``out_dir/runs`` by config hash, so a rerun only computes what is missing.

    Args:
        quick: reduced horizons (10^5-10^6 steps, under a minute on 2 cores) instead of research
            size (10^7-10^8).
        claims: which of 1-9 (default: all but the large-n study 8 when quick, all when full;
            6, 7 and 9 test our extension of the original study).
        out_dir: the output folder.
        progress: show progress bars.
        predictions: override what a claim predicts, e.g. ``{"claim5": "linf"}`` (a wrong
            prediction must then FAIL); keys ``"claimN"``, ``N`` or ``"claimN:<run label>"``; values
            one of ``"l2"``, ``"linf"``, ``"fixed_point"``, ``"not-linf"``, None (no prediction) or a
            callable ``(label, config) -> kind``.
        executor: run the cells on this executor (e.g. dask.distributed) instead of the engine's
            OpenMP ensembles.
        threads: OpenMP threads (default: all cores).
        theory: also report ``ib.predicted_direction`` for every run.
        resume: reuse cached runs (False recomputes them).
        illustration: also draw ``illustration_2d.png`` (a d = 2 data set with the limit boundaries
            of GD, Det-Adam, Inc-Adam and Signum).
        real_data: also compare the same optimizers on scikit-learn's digits (0 vs 1), if
            scikit-learn is installed.

    Returns:
        The :class:`Summary` (also written as ``summary.md`` / ``summary.json``).
    """
    t0 = time.perf_counter()
    if claims is None:
        claims = tuple(c for c in CLAIMS if c != 8) if quick else CLAIMS
    numbers = sorted({int(c) for c in claims})
    bad = [c for c in numbers if c not in CLAIMS]
    if bad or not numbers:
        raise ValueError(f"claims: must be numbers among 1-{max(CLAIMS)}, got {list(claims)}")
    if predictions is not None:
        for key in predictions:
            num = str(key).split(":")[0].replace("claim", "")
            if not num.isdigit() or int(num) not in CLAIMS:
                raise ValueError(f"predictions: key {key!r} must look like 'claim5', 5 or 'claim4:<run label>'")
            value = predictions[key]
            if not callable(value) and value is not None and value not in PREDICTION_KINDS:
                raise ValueError(
                    f"predictions[{key!r}]: unknown prediction {value!r}; use one of {', '.join(PREDICTION_KINDS)} or None"
                )
    defs = claim_definitions(quick)
    if threads is not None:
        check_threads(threads)
    out = prepare_out_dir(out_dir, "out_dir", subfolders=("runs", "references"))
    cache = DataCache(out / "references")
    store = Store(out / "runs")
    cells: dict[tuple[int, int], Cell] = {}
    for num in numbers:
        for k, spec in enumerate(defs[num].runs):
            cfg = normalize_config(spec.config)
            cells[(num, k)] = Cell(config_key(cfg, None), cfg, {"claim": num, "label": spec.label})
    real_specs = real_data_runs(quick) if real_data and _have_sklearn() else []
    for k, spec in enumerate(real_specs):
        cfg = normalize_config(spec.config)
        cells[(-1, k)] = Cell(config_key(cfg, None), cfg, {"claim": -1, "label": spec.label})
    if illustration:
        for k, spec in enumerate(illustration_runs(quick)):
            cfg = normalize_config(spec.config)
            cells[(0, k)] = Cell(config_key(cfg, None), cfg, {"claim": 0, "label": spec.label})
    results = execute(
        list(cells.values()),
        cache,
        store,
        threads=threads,
        executor=executor,
        progress=progress,
        desc="reproduce",
        resume=resume,
    )
    draw_transition = bool({6, 7} & set(numbers))  # transition.png needs claims 6 and / or 7
    # The figures are drawn by worker processes (one per core) while the claims are judged; the
    # block waits for all of them before the summary is written.
    with FigurePool(figure_workers(threads, len(numbers) + int(illustration) + int(draw_transition))) as figures:
        theory_cache: dict[str, dict[str, Any]] = {}
        claim_results: list[ClaimResult] = []
        for num in numbers:
            cdef = defs[num]
            rows: list[dict[str, Any]] = []
            notes: list[str] = []
            for k, spec in enumerate(cdef.runs):
                cell = cells[(num, k)]
                traj, record = results[cell.key]
                X, y, sha = cache.data(cell.config["data"])
                refs = cache.references(cell.config["data"])
                for note in refs.notes:
                    text = f"{DATA_LABEL.get(cell.config['data'].get('name'), 'data')}: {note}"
                    if text not in notes:
                        notes.append(text)
                m = record["metrics"]
                kind, thr, overridden = _prediction_for(predictions, num, spec)
                if kind in MATCHED_KINDS:
                    m = {**m, **prediction_metrics(traj.w[-1], X, y, cache.prediction(cell.config), refs)}
                    if kind == "epoch_map":
                        em = cache.prediction(cell.config, finite_beta2=True)
                        m.update(prediction_metrics(traj.w[-1], X, y, em, refs, name="epoch_map"))
                row: dict[str, Any] = {
                    "label": spec.label,
                    "group": spec.group,
                    "x": spec.x,
                    "key": cell.key,
                    "config": cell.config,
                    "metrics": m,
                    "prediction": kind,
                    "threshold": thr,
                    "overridden": overridden,
                    "linf_unique": refs.linf_unique,
                }
                if kind is not None:
                    ok, crit, _ = evaluate(kind, thr, m, refs)
                    row.update(result="PASS" if ok else "FAIL", criterion=crit)
                if theory:
                    tkey = json.dumps(
                        [sha, cell.config["optimizer"], cell.config["batch_size"], cell.config["order"]], sort_keys=True
                    )
                    if tkey not in theory_cache:
                        theory_cache[tkey] = theory_record(X, y, cell.config)
                    row["theory"] = theory_cache[tkey]["kind"]
                    row["theory_reason"] = theory_cache[tkey]["reason"]
                    row["theory_confidence"] = theory_cache[tkey].get("confidence", "")
                rows.append(row)
            judged = [r for r in rows if "result" in r]
            status = "REPORT"
            if judged:
                status = "PASS" if all(r["result"] == "PASS" for r in judged) else "FAIL"
            check_text = ""
            if cdef.check is not None:
                ok, check_text = cdef.check(rows)
                check_text = f"{check_text} — **{'PASS' if ok else 'FAIL' if ok is False else 'n/a'}**"
                if ok is False:
                    status = "FAIL"
                elif ok and status == "REPORT":
                    status = "PASS"
            if any(r["overridden"] for r in rows):
                notes.append(
                    "Predictions overridden by the caller (predictions=...): PASS/FAIL is judged against the override."
                )
            result = ClaimResult(num, cdef.title, cdef.statement, cdef.setting, status, rows, check_text, None, notes)
            fig_name = f"claim{num}.png"
            trajs = {r["label"]: results[r["key"]][0] for r in rows}
            figures.submit(plots.claim_figure, result, trajs, path=out / fig_name, kind=cdef.plot, x_label=cdef.x_label)
            result.figure = fig_name
            claim_results.append(result)
        extra: dict[str, Any] = {}
        if illustration:
            X2, y2, _ = cache.data(DATA_2D)
            refs2 = cache.references(DATA_2D)
            specs = illustration_runs(quick)
            records = {spec.label: results[cells[(0, k)].key] for k, spec in enumerate(specs)}
            finals = {label: traj.w[-1] for label, (traj, _) in records.items()}
            nearest = {label: rec["metrics"]["nearest"] for label, (_, rec) in records.items()}
            dist = {spec.label: records[spec.label][1]["metrics"][f"dist_{spec.expect}"] for spec in specs}
            short = {"l2": "l2", "linf": "l-inf", "fixed_point": "w*"}
            notes = {
                spec.label: f"1-cos to {short[spec.expect]} = {dist[spec.label]:.1e} (nearest: {nearest[spec.label]})"
                for spec in specs
            }
            figures.submit(
                plots.decision_boundaries,
                X2,
                y2,
                finals,
                references=refs2,
                notes=notes,
                path=out / "illustration_2d.png",
                title=(
                    f"d = 2 example after {specs[0].config['steps']:.0e} steps; w* = l-inf on these data\n(in d = 2, w* "
                    "usually coincides with l2 or l-inf, not always)"
                ),
            )
            extra = {
                "figure": "illustration_2d.png",
                "data": DATA_2D,
                "nearest": nearest,
                "expected": {spec.label: spec.expect for spec in specs},
                "dist_expected": dist,
            }
        real: dict[str, Any] = {}
        if real_specs:
            refs_real = cache.references(normalize_config(real_specs[0].config)["data"])
            real = {
                "data": "scikit-learn digits, classes 0 vs 1 (standardized, all-zero pixels dropped)",
                "notes": list(refs_real.notes),
                "runs": [
                    {
                        "label": spec.label,
                        "steps": results[cells[(-1, k)].key][1]["metrics"]["steps"],
                        **{
                            key: results[cells[(-1, k)].key][1]["metrics"].get(key)
                            for key in ("dist_l2", "dist_linf", "dist_fixed_point", "ratio_linf", "nearest")
                        },
                    }
                    for k, spec in enumerate(real_specs)
                ],
            }
        transition = _transition(claim_results, results, cache, out, figures) if draw_transition else {}
    summary = Summary(claim_results, quick, out, time.perf_counter() - t0, __version__, extra, transition, real)
    atomic_write_text(out / "summary.json", json.dumps(summary.to_json(), indent=1))
    atomic_write_text(out / "summary.md", summary.to_markdown())
    return summary


def _transition(
    claim_results: list[ClaimResult], results: Mapping[str, Any], cache: DataCache, out: Path, figures: FigurePool
) -> dict[str, Any]:
    """Draw ``transition.png`` from claims 6, 7 (batch size, order) and 9 (beta2): predicted curves
    for b = 1 .. n and every order, with the claims' runs as markers (our extension)."""
    by_number = {c.number: c for c in claim_results}
    rows = [r for num in (6, 7) if num in by_number for r in by_number[num].rows]
    X, y, _ = cache.data(rows[0]["config"]["data"])
    runs = [(r["config"], results[r["key"]][0].w[-1]) for r in rows]
    epoch_maps, inc_adam = {}, []
    for r in by_number[9].rows if 9 in by_number else []:
        b2 = float(r["config"]["optimizer"]["beta2"])
        limit = cache.prediction(r["config"], finite_beta2=True)
        if "w" in limit:
            epoch_maps[b2] = np.asarray(limit["w"])
        inc_adam.append((b2, results[r["key"]][0].w[-1]))
    data = transition_data(X, y, runs, epoch_maps=epoch_maps, inc_adam=inc_adam)
    figures.submit(
        plots.transition_figure,
        data["predicted"],
        data["measured"],
        beta2=data["beta2"],
        beta2_measured=data["beta2_measured"],
        n=data["n"],
        path=out / "transition.png",
    )
    return {"figure": "transition.png", **data}


def _have_sklearn() -> bool:
    """Whether scikit-learn is installed (the real-data section needs it)."""
    import importlib.util

    return importlib.util.find_spec("sklearn") is not None
