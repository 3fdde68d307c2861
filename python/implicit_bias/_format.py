"""Text formatting shared by tables and figures (one spelling of a grid value everywhere)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["value_label", "number_label", "html_table"]


def value_label(value: Any) -> str:
    """A grid value as text: floats in ``%g``, mappings as ``k=v,...``, anything else by ``str``."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return ",".join(f"{k}={value_label(x)}" for k, x in value.items())
    return str(value)


def number_label(value: Any) -> str:
    """A number for a table: ``%.6g`` for reals (numpy scalars and long doubles included), else ``str``."""
    if isinstance(value, bool) or value is None:
        return str(value)
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return str(value)


def html_table(title: str, rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None) -> str:
    """A compact HTML table for Jupyter's rich reprs: ``title`` as its caption, an optional
    ``header`` row, then ``rows`` (numbers through :func:`number_label`; all text escaped).

    Args:
        title: the caption (escaped).
        rows: the table body, one sequence of cells per row; strings and mappings are spelled by
            :func:`value_label`, everything else by :func:`number_label`.
        header: column names for a header row; None or empty: no header row.

    Returns:
        The HTML text of the table.
    """

    def cell(value: Any, tag: str = "td") -> str:
        text = value_label(value) if isinstance(value, (str, Mapping)) else number_label(value)
        return f"<{tag} style='text-align:left'>{html.escape(text)}</{tag}>"

    head = "<tr>" + "".join(cell(h, "th") for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return (
        f"<table><caption style='text-align:left'><b>{html.escape(title)}</b></caption>"
        f"<thead>{head}</thead><tbody>{body}</tbody></table>"
    )
