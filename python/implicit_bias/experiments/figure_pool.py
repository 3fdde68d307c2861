"""Figures drawn in worker processes while the caller goes on (``reproduce``'s claim figures).

Drawing a figure is single-threaded matplotlib work (layout, text metrics, PNG encoding: 0.9-2.2 s per
claim figure in ``reproduce --quick``) and the figures do not depend on one another, so with more than
one core they are drawn by a pool of worker processes. The workers are started with ``spawn`` (a fresh
interpreter: no fork of a process that has run OpenMP threads) and use matplotlib's Agg backend, so the
caller's backend is not touched. With one worker everything is drawn in this process, in order.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Callable
from typing import Any


def _use_agg() -> None:
    import matplotlib

    matplotlib.use("Agg")


class FigurePool:
    """Run figure functions ``fn(*args, **kwargs)`` (each saves its own file) on ``workers`` processes.

    Use as a context manager; :meth:`wait` (also called on a normal exit) re-raises the first error
    of any figure. On an exception in the caller (Ctrl-C included) the figures not yet started are
    cancelled.

    Args:
        workers: worker processes; 1 draws every figure in this process, at submit.
    """

    def __init__(self, workers: int) -> None:
        self.workers = max(1, int(workers))
        self._pool: cf.ProcessPoolExecutor | None = None
        self._futures: list[cf.Future[Any]] = []

    def __enter__(self) -> FigurePool:
        if self.workers > 1:
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_use_agg
            )
        return self

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Draw one figure: now (one worker) or on the pool. ``fn`` and its arguments must pickle."""
        if self._pool is None:
            fn(*args, **kwargs)
        else:
            self._futures.append(self._pool.submit(fn, *args, **kwargs))

    def wait(self) -> None:
        """Block until every submitted figure is written; re-raise the first figure's error."""
        futures, self._futures = self._futures, []
        for fut in futures:
            fut.result()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._pool is None:
            return
        if exc_type is None:
            try:
                self.wait()
            finally:
                self._pool.shutdown(wait=True)
        else:
            self._pool.shutdown(wait=True, cancel_futures=True)


def figure_workers(threads: int | None, jobs: int) -> int:
    """Worker processes for ``jobs`` figures: ``threads`` (the caller's core budget; None: all cores),
    at most one per figure."""
    cores = threads if threads is not None else (os.cpu_count() or 1)
    return max(1, min(cores, jobs))
