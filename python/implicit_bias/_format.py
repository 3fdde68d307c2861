"""Text formatting shared by tables and figures (one spelling of a grid value everywhere)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["value_label"]


def value_label(value: Any) -> str:
    """A grid value as text: floats in ``%g``, mappings as ``k=v,...``, anything else by ``str``."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return ",".join(f"{k}={value_label(x)}" for k, x in value.items())
    return str(value)
