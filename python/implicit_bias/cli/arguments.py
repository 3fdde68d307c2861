"""Parsers of single command-line values (the ``type=`` of each flag).

Each takes the flag's text and returns its value or raises :class:`argparse.ArgumentTypeError`
with a message that argparse prefixes with the flag's name (a usage error, exit status 2).
"""

from __future__ import annotations

import argparse
from typing import Any


def number(text: str) -> int | float:
    """Parse ``'1000'``, ``'1e6'`` (an int when integral and below 2**63) or ``'0.1'``."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    return int(value) if value.is_integer() and ("e" in text.lower()) and abs(value) < 2**63 else value


def integer(text: str) -> int:
    """Parse an integer, ``'1e6'`` included."""
    value = number(text)
    if not isinstance(value, int):
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    return value


def step_decay_period(text: str) -> int | str:
    """Parse a step_decay period: ``'epoch'`` or an integer number of steps."""
    if text.strip() == "epoch":
        return "epoch"
    try:
        return integer(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected an integer number of steps or 'epoch', got {text!r}") from None


def thread_count(text: str) -> int:
    """Parse an OpenMP thread count in [1, MAX_THREADS]."""
    from ..engine.ensemble import MAX_THREADS

    value = integer(text)
    if not 1 <= value <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be an integer in [1, {MAX_THREADS}], got {text!r}")
    return value


def executor_spec(text: str) -> str:
    """Parse a ``--dask`` spec: ``'dask'``, ``'dask:N'`` or a scheduler address."""
    from ..experiments.remote import check_executor_spec

    try:
        return check_executor_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).partition(": ")[2]) from None


def file_stem(text: str) -> str:
    """Parse a ``--name``: a file name stem that stays inside the output folder."""
    from ..experiments.run import check_file_stem

    try:
        return check_file_stem("name", text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).partition(": ")[2]) from None


def directory(text: str) -> str:
    """Parse an ``--out`` folder name (not empty; whether it is writable is checked before a run)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder name, got an empty string")
    return text


def scalar(text: str) -> Any:
    """Parse a grid or parameter value: true / false, a number, or else the text itself."""
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    try:
        return number(t)
    except argparse.ArgumentTypeError:
        return t


def int_list(text: str) -> list[int]:
    """Parse ``'0,1,2'`` into ``[0, 1, 2]``."""
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def key_values(text: str) -> tuple[str, list[Any]]:
    """Parse ``'KEY=V1,V2,...'`` into ``(KEY, [V1, V2, ...])`` (each value by :func:`scalar`)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=V1,V2,..., got {text!r}")
    key, _, values = text.partition("=")
    vals = [scalar(v) for v in values.split(",") if v.strip()]
    if not key.strip() or not vals:
        raise argparse.ArgumentTypeError(f"expected KEY=V1,V2,..., got {text!r}")
    return key.strip(), vals


def key_value(text: str) -> tuple[str, Any]:
    """Parse ``'KEY=VALUE'`` into ``(KEY, VALUE)`` (the value by :func:`scalar`)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, _, value = text.partition("=")
    return key.strip(), scalar(value)
