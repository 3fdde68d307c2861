"""The package's import contract, checked on the source (no import needed).

Layers, highest first (a module may import only from its own layer's lower modules and from layers
below it; see CONTRIBUTING.md):

    cli -> experiments -> plots, references -> engine -> bottom
    bottom = optimizers, schedules, datasets, metrics, separability, _validation, _format, _version, errors, _core

Inside a subpackage a module may import its siblings, but the sibling graph must have no cycle.
Also checked: no ``import implicit_bias`` inside the package (relative imports only), no private
``_name`` imported from another module (``_core``, ``_validation``, ``_format``, ``_version`` are
private modules with public names), and every import counts, lazy ones inside functions included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "implicit_bias"
BOTTOM = {
    "optimizers",
    "schedules",
    "datasets",
    "metrics",
    "separability",
    "_validation",
    "_format",
    "_version",
    "errors",
    "_core",
}
RANK = {"cli": 5, "experiments": 4, "plots": 3, "references": 3, "engine": 2, **{name: 0 for name in BOTTOM}}
# Bottom modules may import each other in this order only (lower index = lower).
BOTTOM_ORDER = [
    "_core",
    "_version",
    "errors",
    "_validation",
    "_format",
    "metrics",
    "separability",
    "schedules",
    "optimizers",
    "datasets",
]


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, imported names, line) for every import in the file, lazy ones included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_pkg = path.name == "__init__.py"
    package = name.split(".") if is_pkg else name.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, [], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append((node.module or "", [a.name for a in node.names], node.lineno))
                continue
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names = [a.name for a in node.names]
            modules = _modules()
            if node.module is None or any(f"{target}.{n}".strip(".") in modules for n in names):
                # "from . import x": each name may itself be a module
                for n in names:
                    sub = f"{target}.{n}".strip(".")
                    found.append(
                        (
                            f"implicit_bias.{sub}" if sub in modules else f"implicit_bias.{target}".rstrip("."),
                            [] if sub in modules else [n],
                            node.lineno,
                        )
                    )
            else:
                found.append((f"implicit_bias.{target}".rstrip("."), names, node.lineno))
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


EDGES = []
for _name, _path in _modules().items():
    for _target, _names, _line in _imports(_name, _path):
        EDGES.append((_name, _target, _names, _line))


@pytest.mark.parametrize("name", sorted(_modules()))
def test_no_absolute_self_import(name: str) -> None:
    tree = ast.parse(_modules()[name].read_text())
    bad = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "implicit_bias" for a in node.names))
        or (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] == "implicit_bias"
        )
    ]
    assert not bad, f"{name}: 'import implicit_bias' inside the package at lines {bad}; use relative imports"


def layer_violations(edges) -> list[str]:
    violations = []
    for src, target, _, line in edges:
        if not target.startswith("implicit_bias.") or src == "":
            continue
        dst = target[len("implicit_bias.") :]
        s_top, d_top = _top(src), _top(dst)
        if s_top == d_top:
            continue
        if s_top in BOTTOM and d_top in BOTTOM:
            if BOTTOM_ORDER.index(d_top) > BOTTOM_ORDER.index(s_top):
                violations.append(f"{src}:{line} imports {dst} (bottom modules import only lower ones)")
            continue
        if RANK.get(d_top, 99) >= RANK.get(s_top, -1):
            violations.append(f"{src}:{line} imports {dst} (layer {d_top} is not below {s_top})")
    return violations


def test_layers_point_down() -> None:
    violations = layer_violations(EDGES)
    assert not violations, "\n".join(violations)


def test_no_private_names_across_modules() -> None:
    violations = []
    for src, target, names, line in EDGES:
        if not target.startswith("implicit_bias"):
            continue
        for n in names:
            if n.startswith("_") and n != "__version__" and n != "_core":
                violations.append(f"{src}:{line} imports private {n} from {target}")
    assert not violations, "\n".join(violations)


def test_no_cycles_between_modules() -> None:
    graph: dict[str, set[str]] = {}
    for src, target, _, _ in EDGES:
        if target.startswith("implicit_bias.") and src:
            dst = target[len("implicit_bias.") :]
            if dst != src and not src.startswith(dst + "."):  # a module importing its own package's __init__ is fine
                graph.setdefault(src, set()).add(dst)
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if seen.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            visit(node)


def test_the_checker_sees_a_lazy_upward_import(tmp_path) -> None:
    """The checker itself works: a lazy import of experiments inside an engine function is flagged."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..experiments import sweep\n")
    edges = [("engine.probe", t, n, line) for t, n, line in _imports("engine.probe", probe)]
    assert layer_violations(edges) == [
        "engine.probe:2 imports experiments.sweep (layer experiments is not below engine)"
    ]
