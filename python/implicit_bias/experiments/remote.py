"""Running cells in other processes: a run as bytes (its checked ``Run.save`` file), the executor
task that advances one, and executors from a short spec (a local or remote dask.distributed
cluster). Results are bit for bit those of the local OpenMP ensembles (:mod:`.execute`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

from ..engine import Run, Trajectory
from ..engine.ensemble import MAX_THREADS

__all__ = ["run_to_bytes", "run_from_bytes", "run_remote", "check_executor_spec", "default_executor"]


def run_to_bytes(run: Run) -> bytes:
    """The bytes of ``run.save`` (to send a run to another process)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "run.npz")
        run.save(path)
        with open(path, "rb") as fh:
            return fh.read()


def run_from_bytes(state: bytes) -> Run:
    """The run saved as ``state`` by :func:`run_to_bytes`, verified as ``Run.load`` verifies files."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "run.npz")
        with open(path, "wb") as fh:
            fh.write(state)
        return Run.load(path)


def run_remote(config: Mapping[str, Any], state: bytes) -> tuple[Trajectory, bytes]:
    """Executor task: advance the saved run ``state`` (fresh or continued, data included) to
    ``config["steps"]``; its trajectory and new state (bit-identical to a local ensemble's)."""
    run = run_from_bytes(state)
    traj = run.advance(int(config["steps"]) - run.t, checkpoints=int(config["checkpoints"]))
    return traj, run_to_bytes(run)


def check_executor_spec(spec: Any, name: str = "dask") -> str:
    """Validate an executor spec (see :func:`default_executor`) without starting anything."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(
            f"{name}: must be 'dask', 'dask:N' or a scheduler address such as tcp://host:8786, got {spec!r}"
        )
    spec = spec.strip()
    if spec == "dask" or spec.startswith("dask:"):
        if spec != "dask":
            count = spec.split(":", 1)[1]
            if not count.isdigit() or not 1 <= int(count) <= MAX_THREADS:
                raise ValueError(
                    f"{name}: the number of local workers in 'dask:N' must be an integer in [1, {MAX_THREADS}], got {count!r}"
                )
        return spec
    scheme, sep, rest = spec.partition("://")
    host, colon, port = (rest if sep else spec).rpartition(":")
    if (sep and not scheme.isalnum()) or not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"{name}: must be 'dask', 'dask:N' or a scheduler address such as tcp://host:8786, got {spec!r}"
        )
    return spec


def default_executor(spec: str | None, *, timeout: float = 10.0) -> Any:
    """An executor from a short spec: None -> None (local OpenMP ensembles); ``"dask"`` or
    ``"dask:N"`` (1 <= N) -> a local dask.distributed cluster with N single-threaded workers;
    ``"tcp://host:port"`` -> that dask scheduler (an OSError after ``timeout`` seconds when it
    cannot be reached). Returns ``(executor, closer)``."""
    if spec is None:
        return None, (lambda: None)
    spec = check_executor_spec(spec)
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ValueError('dask: running on dask needs dask.distributed: pip install "implicit-bias[dask]"') from exc

    if spec.startswith("dask"):
        # the count was validated by check_executor_spec above
        workers = int(spec.split(":", 1)[1]) if ":" in spec else (os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)

        def close() -> None:
            client.close()
            cluster.close()

        return client.get_executor(), close
    try:
        client = Client(spec, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise OSError(f"dask: cannot reach the scheduler at {spec} ({type(exc).__name__}: {exc})") from exc
    return client.get_executor(), client.close
