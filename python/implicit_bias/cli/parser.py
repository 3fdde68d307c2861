"""The ``implicit-bias`` argument parser: subcommands, their flags, defaults and examples."""

from __future__ import annotations

import argparse
import dataclasses
import textwrap

from .. import optimizers
from .._validation import LOSSES, ORDERS
from .._version import __version__
from ..experiments.config import CONFIG_KEYS, DEFAULTS
from ..schedules import KINDS as SCHEDULE_KINDS
from . import arguments

__all__ = ["HelpFormatter", "build_parser", "optimizer_help"]

REPRODUCE_EXAMPLES = """examples:
  implicit-bias reproduce --quick                       # claims 1-7 and 9, reduced size
  implicit-bias reproduce --claims 6,7 --out results/s  # research size, progress bars
  implicit-bias reproduce --quick --claims 5 --predict claim5=linf   # a wrong prediction FAILs
"""
RUN_EXAMPLES = """examples:
  implicit-bias run --config examples/run.toml --out results/run
  implicit-bias run --data gaussian --n 10 --d 50 --optimizer Adam --beta2 0.999 \\
      --batch-size 1 --lr 0.1 --power 0.5 --steps 1e6
  implicit-bias run --data sklearn:digits:0,1 --optimizer GD --steps 1e5
  implicit-bias run --data my_data.csv --optimizer Signum --beta 0.99 --steps 1e5 --no-references
"""
SWEEP_EXAMPLES = """examples:
  implicit-bias sweep --config examples/sweep.toml --out results/sweep
  implicit-bias sweep --data gaussian --n 10 --d 50 --optimizer Adam --lr 0.001 --power 0.3 \\
      --steps 1e6 --grid batch_size=1,2,5,n --grid beta2=0.99,0.999 --seeds 0,1,2
"""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows a flag's default where it has one, keeps the epilog's examples as written, and wraps
    each line of a help text on its own (so a list keeps one entry per line)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        """The flag's help, with its default appended when it has a real one."""
        # None / False / [] mean "not given" (the configuration's own default applies, said in the text)
        default = action.default
        if (
            default is None
            or default is False
            or default is argparse.SUPPRESS
            or (isinstance(default, list) and not default)
        ):
            return action.help
        return super()._get_help_string(action)

    def _split_lines(self, text: str, width: int) -> list[str]:
        """Wrap each line of ``text`` on its own to ``width`` columns."""
        lines: list[str] = []
        for line in text.splitlines():
            lines.extend(textwrap.wrap(line, width, subsequent_indent="    ") or [""])
        return lines


def optimizer_help() -> str:
    """``--optimizer``'s help: every optimizer, one line each, with its hyper-parameters."""
    lines = ["one of:"]
    for cls in optimizers.ALL_OPTIMIZERS:
        summary = " ".join(line.strip() for line in (cls.__doc__ or "").strip().split("\n\n")[0].splitlines())
        params = [f.name for f in dataclasses.fields(cls) if f.init]
        alias = " (= SGD)" if cls is optimizers.SGD else ""
        lines.append(
            f"{cls.__name__}{alias} [{', '.join(params) or 'no hyper-parameters'}]: {summary.replace('``', '')}"
        )
    return "\n".join(lines)


def _hyper_parameter_defaults(name: str) -> str:
    """``"(default: Adam 0.9, Lion 0.9, ...)"``: the default of one hyper-parameter per optimizer."""
    found = [
        f"{cls.__name__} {f.default}"
        for cls in optimizers.ALL_OPTIMIZERS
        for f in dataclasses.fields(cls)
        if f.init and f.name == name
    ]
    return f"(default: {', '.join(found)})"


def add_configuration_flags(p: argparse.ArgumentParser, config_help: str) -> None:
    """Add ``--config FILE.toml`` and the flags of a configuration (``run`` and ``sweep``); each flag
    overrides its key in the file.

    Args:
        p: the subcommand's parser.
        config_help: what the ``--config`` file holds, in words.
    """
    p.add_argument("--config", metavar="FILE.toml", help=config_help)
    g = p.add_argument_group("data (or data.* in the config file)")
    g.add_argument(
        "--data",
        metavar="NAME",
        help="gaussian, generalized_rademacher (gr), shifted_diagonal; sklearn:NAME:A,B (a scikit-learn data set, two "
        "classes, e.g. sklearn:digits:0,1); or a data file (.npy, .npz, .csv, .svm)",
    )
    g.add_argument("--n", type=arguments.integer, help="number of samples")
    g.add_argument("--d", type=arguments.integer, help="dimension")
    g.add_argument("--delta", type=float, help="shift of shifted_diagonal (default: 0.1)")
    g.add_argument("--data-seed", type=arguments.integer, help="seed of the generated data set (default: 0)")
    g.add_argument(
        "--data-param",
        type=arguments.key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other data-set parameter (e.g. labels=teacher)",
    )
    g.add_argument(
        "--data-file",
        metavar="PATH",
        help=".npz with arrays X, y, or .csv whose last column (or column 'y') is the label",
    )
    g = p.add_argument_group("optimizer")
    g.add_argument("--optimizer", metavar="NAME", help=optimizer_help())
    g.add_argument("--beta1", type=float, help=_hyper_parameter_defaults("beta1"))
    g.add_argument("--beta2", type=float, help=_hyper_parameter_defaults("beta2"))
    g.add_argument("--eps", type=float, help=_hyper_parameter_defaults("eps"))
    g.add_argument("--beta", type=float, help=f"Signum momentum {_hyper_parameter_defaults('beta')}")
    g.add_argument(
        "--bias-correction",
        action="store_true",
        default=None,
        help="Adam bias correction (PyTorch convention; default: off)",
    )
    g = p.add_argument_group("run")
    g.add_argument(
        "--batch-size",
        metavar="B",
        help=f"samples per step, or 'n' for full batch (default: {DEFAULTS['batch_size']})",
    )
    g.add_argument("--order", choices=ORDERS, help=f"sampling order (default: {DEFAULTS['order']})")
    g.add_argument(
        "--lr", type=float, metavar="ETA0", help=f"(initial) learning rate (default: {DEFAULTS['lr']}, constant)"
    )
    g.add_argument("--schedule", choices=SCHEDULE_KINDS, help="learning-rate schedule (default: constant)")
    g.add_argument("--power", type=float, help="polynomial schedule: eta0 (t+1)^-power (implies --schedule polynomial)")
    g.add_argument("--factor", type=float, help="step_decay factor (implies --schedule step_decay)")
    g.add_argument(
        "--every", type=arguments.step_decay_period, help="step_decay period in steps, or 'epoch' (default: epoch)"
    )
    g.add_argument("--loss", choices=LOSSES, help=f"(default: {DEFAULTS['loss']})")
    g.add_argument("--steps", type=arguments.integer, help="number of steps (1e6 accepted; required)")
    g.add_argument(
        "--dtype", choices=("float64", "longdouble"), help=f"precision of the run (default: {DEFAULTS['dtype']})"
    )
    g.add_argument("--seed", type=arguments.integer, help=f"sampler seed (default: {DEFAULTS['seed']})")
    g.add_argument(
        "--checkpoints",
        type=arguments.integer,
        help=f"number of log-spaced checkpoints (default: {DEFAULTS['checkpoints']})",
    )


def add_output_flags(p: argparse.ArgumentParser, out: str, progress: str) -> None:
    """Add ``--out`` and ``--quiet``, shared by every subcommand.

    Args:
        p: the subcommand's parser.
        out: ``--out``'s default folder.
        progress: what ``--quiet`` turns off, in words ("progress bar").
    """
    p.add_argument("--out", type=arguments.directory, default=out, metavar="DIR", help="output directory")
    p.add_argument("--quiet", action="store_true", help=f"no {progress}")


def add_execution_flags(p: argparse.ArgumentParser, cached: str) -> None:
    """Add the execution flags shared by ``reproduce`` and ``sweep``.

    Args:
        p: the subcommand's parser.
        cached: what ``--fresh`` recomputes, in words (e.g. "cells already in DIR/cells").
    """
    p.add_argument("--threads", type=arguments.thread_count, help="OpenMP threads (default: all cores)")
    p.add_argument(
        "--dask",
        type=arguments.executor_spec,
        metavar="SPEC",
        help="run on dask: 'dask' / 'dask:N' (local cluster) or a scheduler address tcp://host:port",
    )
    p.add_argument("--fresh", action="store_true", help=f"recompute {cached}")


def _subcommand(
    sub: argparse._SubParsersAction, name: str, help: str, description: str, examples: str
) -> argparse.ArgumentParser:
    """A subcommand's parser: its one-line ``help``, ``description``, ``examples`` epilog and the help formatter."""
    return sub.add_parser(name, help=help, description=description, epilog=examples, formatter_class=HelpFormatter)


def _add_reproduce(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``reproduce`` subcommand and its flags."""
    p = _subcommand(
        sub,
        "reproduce",
        help="reproduce the claims of SPEC.md; writes summary.md/.json and one PNG per claim",
        description="Reproduce the claims of SPEC.md end to end.",
        examples=REPRODUCE_EXAMPLES,
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="reduced size: claims 1-7 and 9 by default, 1e5-1e7 steps (about 30 s on 2 cores)",
    )
    p.add_argument(
        "--claims",
        type=arguments.int_list,
        metavar="1,2,3",
        help="which claims (default: 1-7 and 9 with --quick, all 9 otherwise)",
    )
    add_output_flags(p, "results/reproduce", "progress bars")
    add_execution_flags(p, "runs already cached in DIR/runs")
    p.add_argument(
        "--predict",
        type=arguments.key_value,
        action="append",
        default=[],
        metavar="claimN=KIND",
        help="override a claim's prediction (l2, linf, fixed_point, not-linf): a wrong one must FAIL",
    )
    p.add_argument("--no-theory", action="store_true", help="skip the ib.predicted_direction cross-check column")
    return p


def _add_run(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``run`` subcommand and its flags."""
    p = _subcommand(
        sub,
        "run",
        help="run one configuration: .npz trajectory, .json record, .png figure",
        description="Run one configuration from flags and/or a TOML file (flags override the file).",
        examples=RUN_EXAMPLES,
    )
    add_configuration_flags(p, f"configuration file (keys: {', '.join(CONFIG_KEYS)})")
    add_output_flags(p, "results/run", "progress bar")
    p.add_argument("--name", type=arguments.file_stem, help="file name stem (default: derived from the configuration)")
    p.add_argument(
        "--no-references", action="store_true", help="skip the l2 / l-inf / fixed-point references (no CVXPY)"
    )
    return p


def _add_sweep(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``sweep`` subcommand and its flags."""
    p = _subcommand(
        sub,
        "sweep",
        help="grid of one or two parameters x seeds -> table (CSV/JSON) and phase-diagram heatmap",
        description="Sweep one or two parameters (times seeds) around a base configuration.",
        examples=SWEEP_EXAMPLES,
    )
    add_configuration_flags(p, "base configuration plus [grid] and seeds")
    p.add_argument(
        "--grid",
        type=arguments.key_values,
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a swept parameter (repeat once for a 2-D phase diagram), e.g. batch_size=1,2,5,n or beta2=0.99,0.999",
    )
    p.add_argument(
        "--seeds", type=arguments.int_list, metavar="0,1,2", help="seeds (run seed and data seed; default: 0)"
    )
    p.add_argument(
        "--fixed-data", action="store_true", help="seeds vary only the run's sampler seed, not the generated data set"
    )
    add_output_flags(p, "results/sweep", "progress bar")
    add_execution_flags(p, "cells already in DIR/cells")
    p.add_argument(
        "--reference",
        choices=("predicted", "epoch_map", "none"),
        default="predicted",
        help="each cell's own prediction to measure against (predicted = the batch / rho fixed point matching its batch size "
        "and order; epoch_map = the finite-beta2 epoch map for cyclic Adam; our extension)",
    )
    return p


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The ``implicit-bias`` parser and its subcommands' parsers by name (for their usage errors)."""
    parser = argparse.ArgumentParser(
        prog="implicit-bias",
        description="Which max-margin direction does an optimizer converge to on separable data?",
        epilog="Run 'implicit-bias COMMAND --help' for a command's flags, defaults and examples.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{reproduce,run,sweep}")
    sub.required = True
    subs = {"reproduce": _add_reproduce(sub), "run": _add_run(sub), "sweep": _add_sweep(sub)}
    return parser, subs
