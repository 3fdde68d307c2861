"""FigurePool: figures drawn by spawned worker processes equal the in-process ones, errors surface."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib import pyplot as plt

from implicit_bias.experiments.figure_pool import FigurePool, figure_workers


def _images(k: int) -> list[np.ndarray]:
    rng = np.random.default_rng(k)
    return [rng.random((8, 12)) for _ in range(k)]


def test_pool_writes_the_same_files_as_drawing_in_process(tmp_path):
    images = _images(3)
    for name, workers in (("serial", 1), ("pool", 2)):
        with FigurePool(workers) as figures:
            for k, img in enumerate(images):
                figures.submit(plt.imsave, tmp_path / f"{name}{k}.png", img, cmap="viridis")
    for k in range(len(images)):
        serial, pooled = (tmp_path / f"serial{k}.png").read_bytes(), (tmp_path / f"pool{k}.png").read_bytes()
        assert serial == pooled and len(serial) > 100


def test_a_failing_figure_raises_in_the_caller_and_the_others_are_written(tmp_path):
    with pytest.raises(ValueError):
        with FigurePool(2) as figures:
            figures.submit(plt.imsave, tmp_path / "good.png", _images(1)[0])
            figures.submit(plt.imsave, tmp_path / "bad.png", np.zeros(5))  # 1-D: not an image
    assert (tmp_path / "good.png").stat().st_size > 100
    assert not (tmp_path / "bad.png").exists()


def test_one_worker_draws_immediately_and_errors_come_at_submit(tmp_path):
    with FigurePool(1) as figures:
        figures.submit(plt.imsave, tmp_path / "a.png", _images(1)[0])
        assert (tmp_path / "a.png").exists()  # drawn before submit returned
        with pytest.raises(ValueError):
            figures.submit(plt.imsave, tmp_path / "b.png", np.zeros(5))


def test_the_callers_backend_is_not_changed(tmp_path):
    before = matplotlib.get_backend()
    with FigurePool(2) as figures:
        figures.submit(plt.imsave, tmp_path / "a.png", _images(1)[0])
    assert matplotlib.get_backend() == before


@pytest.mark.parametrize(("threads", "jobs", "expected"), [(1, 9, 1), (4, 2, 2), (3, 9, 3), (2, 0, 1)])
def test_figure_workers_is_bounded_by_threads_and_jobs(threads, jobs, expected):
    assert figure_workers(threads, jobs) == expected
