"""The ``implicit-bias`` command line: ``reproduce``, ``run`` and ``sweep``.

Each subcommand is a thin layer over :mod:`implicit_bias.experiments` (``reproduce``,
``run_config``, ``sweep``), so a notebook can do the same without the shell. Bad flags and bad
configuration files end with a usage error that names the offending key (exit status 2); an
interrupted sweep (Ctrl-C) keeps its finished cells on disk and exits with status 130.

Examples::

    implicit-bias reproduce --quick                       # claims 1-7 and 9, reduced size
    implicit-bias reproduce --claims 6,7 --out results/s  # research size, progress bars
    implicit-bias run --data gaussian --n 10 --d 50 --optimizer Adam --beta2 0.999 \\
        --batch-size 1 --lr 0.1 --power 0.5 --steps 1e6
    implicit-bias run --config examples/run.toml
    implicit-bias sweep --config examples/sweep.toml
    implicit-bias sweep --data gaussian --n 10 --d 50 --optimizer Adam --lr 0.001 --power 0.3 \\
        --steps 1e6 --grid batch_size=1,2,5,n --grid beta2=0.99,0.999 --seeds 0,1,2

A ``run`` TOML file holds the configuration keys of :func:`implicit_bias.experiments.normalize_config`::

    steps = 1000000
    batch_size = 1
    [data]
    name = "gaussian"
    n = 10
    d = 50
    [optimizer]
    name = "Adam"
    beta2 = 0.999
    [lr]
    kind = "polynomial"
    eta0 = 0.1
    power = 0.5

A ``sweep`` file adds ``seeds = [0, 1, 2]`` and a ``[grid]`` table (``batch_size = [1, 2, 5, "n"]``,
``beta2 = [0.99, 0.999]``). ``examples/`` holds one of each.

Modules: :mod:`.parser` (subcommands, flags, help), :mod:`.arguments` (one flag value each),
:mod:`.configuration` (the TOML file and the flags merged), :mod:`.commands` (what each runs).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import commands
from .configuration import load_toml
from .parser import build_parser

__all__ = ["main", "build_parser", "load_toml"]

COMMANDS = {"reproduce": commands.reproduce, "run": commands.run, "sweep": commands.sweep}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``implicit-bias`` console script.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 success, 1 a claim FAILed (reproduce), 2 a usage error, 130 Ctrl-C.
    """
    parser, subs = build_parser()
    args = parser.parse_args(argv)
    sub = subs[args.command]
    try:
        return COMMANDS[args.command](args, sub)
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
