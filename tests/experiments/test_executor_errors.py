"""Executor specs: clear errors instead of hangs or raw tracebacks."""

from __future__ import annotations

import builtins

import pytest

import implicit_bias as ib


@pytest.mark.parametrize("spec", ["dask:0", "dask:-1", "dask:many", "dask:100000"])
def test_bad_local_worker_counts_are_refused(spec: str) -> None:
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match="^dask:"):
        ib.experiments.default_executor(spec)


def test_missing_distributed_names_the_extra(monkeypatch) -> None:
    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name.split(".")[0] == "distributed":
            raise ImportError("No module named 'distributed'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    with pytest.raises(ValueError, match=r"implicit-bias\[dask\]"):
        ib.experiments.default_executor("dask:2")
