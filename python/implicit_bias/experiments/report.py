"""What a reproduction found: per-claim results, the summary, its Markdown and JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .claims import DEFAULT_THRESHOLDS
from .compare import REFERENCE_LABELS
from .config import jsonable


@dataclass
class ClaimResult:
    """Outcome of one claim: one row per run, and PASS / FAIL / REPORT."""

    number: int
    title: str
    statement: str
    setting: str
    status: str  # "PASS", "FAIL" or "REPORT" (a study without a stated expectation)
    rows: list[dict[str, Any]]
    check: str = ""
    figure: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True unless the claim FAILed (a study, or a claim with unavailable runs, passes)."""
        return self.status != "FAIL"


@dataclass
class Summary:
    """What :func:`reproduce` found; ``passed`` is False if any claim FAILed."""

    claims: list[ClaimResult]
    quick: bool
    out_dir: Path
    seconds: float
    version: str
    illustration: dict[str, Any] = field(default_factory=dict)
    #: data and figure of the transition between b = 1 and b = n (claims 6, 7, 9; our extension)
    transition: dict[str, Any] = field(default_factory=dict)
    #: the headline comparison on real data (scikit-learn's digits), when scikit-learn is installed
    real_data: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True if no claim FAILed."""
        return all(c.passed for c in self.claims)

    def claim(self, number: int) -> ClaimResult:
        """The result of claim ``number`` (KeyError if it was not run)."""
        for c in self.claims:
            if c.number == number:
                return c
        raise KeyError(f"claim {number} was not run")

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready summary (what ``summary.json`` holds)."""
        return {
            "version": self.version,
            "quick": self.quick,
            "seconds": self.seconds,
            "passed": self.passed,
            "thresholds": DEFAULT_THRESHOLDS,
            "illustration": jsonable(self.illustration),
            "transition": jsonable(self.transition),
            "real_data": jsonable(self.real_data),
            "claims": [
                {
                    "number": c.number,
                    "title": c.title,
                    "statement": c.statement,
                    "setting": c.setting,
                    "status": c.status,
                    "check": c.check,
                    "figure": c.figure,
                    "notes": c.notes,
                    "runs": jsonable(c.rows),
                }
                for c in self.claims
            ],
        }

    def to_markdown(self) -> str:
        """The Markdown summary (what ``summary.md`` holds)."""
        return _markdown(self)


def _fmt(v: Any, kind: str = "cos") -> str:
    """A cosine (``1 − gap`` when within 1e-6 of 1) or another metric (4 decimals); "—" if unknown."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    if kind == "cos":
        gap = 1.0 - v
        return f"{v:.6f}" if abs(gap) >= 1e-6 else f"1 − {gap:.1e}"
    return f"{v:.4f}"


def _fmt_dist(m: dict[str, Any]) -> str:
    """Distance to the run's own prediction: the epoch-map limit when judged by it (then also the
    beta2 -> 1 prediction's), else the beta2 -> 1 prediction."""
    if "dist_epoch_map" in m:
        return f"{m['dist_epoch_map']:.2e} (epoch map); {m.get('dist_predicted', float('nan')):.2e} (beta2 -> 1)"
    return f"{m['dist_predicted']:.2e}" if "dist_predicted" in m else "—"


def _nearest_label(nearest: str | None) -> str:
    """The nearest-reference label (``"l2=fixed_point"``) in the summary's notation (``"l2 = w*"``)."""
    if not nearest:
        return "—"
    return " = ".join(REFERENCE_LABELS.get(p, p) for p in nearest.split("="))


def _markdown(s: Summary) -> str:
    """The Markdown text of a summary: one section per claim with its runs' table."""
    L: list[str] = []
    mode = "quick (reduced size)" if s.quick else "full (research size)"
    L.append(f"# implicit-bias reproduce — {mode}\n")
    L.append(
        f"Package version {s.version}; wall time {s.seconds:.1f} s; overall: **{'PASS' if s.passed else 'FAIL'}**.\n"
    )
    L.append(
        "Metrics are those of the last iterate w = w_T. cos = cosine to the reference direction (l2 max margin, l-inf max "
        "margin, fixed point w*); ratio = normalized margin over the optimum in that norm (1 = max margin). "
        "`nearest` is the reference with the smallest distance (1 - cos; for a non-unique l-inf maximiser, 1 - l-inf ratio). "
        "`theory` is `ib.predicted_direction` for that run (a cross-check, not used for PASS/FAIL); "
        "`prediction` is what the claim predicts and what PASS/FAIL is judged against.\n"
    )
    L.append("| Claim | Title | Status | Runs passed |")
    L.append("|---|---|---|---|")
    for c in s.claims:
        judged = [r for r in c.rows if r.get("result") in ("PASS", "FAIL")]
        npass = sum(r["result"] == "PASS" for r in judged)
        L.append(f"| {c.number} | {c.title} | **{c.status}** | {f'{npass}/{len(judged)}' if judged else '—'} |")
    L.append("")
    if s.illustration:
        near = ", ".join(f"{k} → {_nearest_label(v)}" for k, v in s.illustration["nearest"].items())
        L.append(f"*Illustration (d = 2, {s.illustration['data']}):* nearest reference of each limit: {near}.\n")
        L.append(f"![2-D illustration]({s.illustration['figure']})\n")
    if s.real_data:
        L.append(
            f"*Real data ({s.real_data['data']}):* distance of each limit from the references (no claim; reported).\n"
        )
        L.append(
            "| Run | steps | 1 − cos l2 | l-inf: 1 − cos (1 − ratio if non-unique) | 1 − cos w* | ratio l-inf | nearest |"
        )
        L.append("|---|---|---|---|---|---|---|")
        for r in s.real_data["runs"]:
            cells = [
                f"{r[k]:.2e}" if r.get(k) is not None else "—" for k in ("dist_l2", "dist_linf", "dist_fixed_point")
            ]
            ratio = f"{r['ratio_linf']:.4f}" if r.get("ratio_linf") is not None else "—"
            L.append(
                f"| {r['label']} | {r['steps']:.0e} | {' | '.join(cells)} | {ratio} | {_nearest_label(r.get('nearest'))} |"
            )
        L.append("")
        for note in s.real_data.get("notes", []):
            L.append(f"> {note}\n")
    if s.transition:
        L.append(
            "*Transition between b = 1 and b = n (our extension of the original study: the batch fixed point and "
            "the epoch map):* predicted directions for every batch size and order as curves, the claims' long runs "
            "as markers.\n"
        )
        L.append(f"![transition]({s.transition['figure']})\n")
    for c in s.claims:
        L.append(f"## Claim {c.number}: {c.title} — **{c.status}**\n")
        L.append(f"*Claim.* {c.statement}\n")
        L.append(f"*Setting.* {c.setting}\n")
        crit = sorted({r["criterion"] for r in c.rows if r.get("criterion")})
        if crit:
            L.append("*PASS criterion (every run with a prediction must meet its criterion):*\n")
            L.extend(f"- {t}" for t in crit)
            L.append("")
        if c.check:
            L.append(f"*Claim-level check:* {c.check}\n")
        matched = any("dist_predicted" in r["metrics"] for r in c.rows)
        extra_head, extra_rule = (" 1 − cos to its prediction |", "---|") if matched else ("", "")
        L.append(
            f"| Run | steps | cos l2 | cos l-inf | cos w* | ratio l2 | ratio l-inf | ratio w* |{extra_head} nearest | theory | prediction | result |"
        )
        L.append(f"|---|---|---|---|---|---|---|---|{extra_rule}---|---|---|---|")
        for r in c.rows:
            m = r["metrics"]
            cos_linf = _fmt(m.get("cos_linf")) if r.get("linf_unique") is not False else f"({_fmt(m.get('cos_linf'))})†"
            L.append(
                f"| {r['label']} | {m['steps']:.0e} | {_fmt(m.get('cos_l2'))} | {cos_linf} | {_fmt(m.get('cos_fixed_point'))} | "
                f"{_fmt(m.get('ratio_l2'), 'r')} | {_fmt(m.get('ratio_linf'), 'r')} | {_fmt(m.get('ratio_fixed_point'), 'r')} | "
                + (f"{_fmt_dist(m)} | " if matched else "")
                + f"{_nearest_label(m.get('nearest'))} | "
                f"{r.get('theory', '—')} | {r.get('prediction') or '—'} | {r.get('result', '—')} |"
            )
        L.append("")
        if any(r.get("linf_unique") is False for r in c.rows):
            L.append(
                "† the l-inf maximiser of this data set is not unique: the cosine to the solver's maximiser means little; read the l-inf margin ratio.\n"
            )
        for note in c.notes:
            L.append(f"> {note}\n")
        if c.figure:
            L.append(f"![claim {c.number}]({c.figure})\n")
    return "\n".join(L)
