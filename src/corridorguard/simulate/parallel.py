"""Scale-out: run the chunks of a job inline, on local processes, or on a Dask cluster.

The chunking never depends on the number of workers and chunk statistics are summed in chunk
order, so the answer is bit-for-bit the same whatever runs it.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any

from corridorguard.errors import ConfigError
from corridorguard.simulate._kernel import ChunkStats, Job, run_chunk

__all__ = ["default_workers", "run_job", "shutdown_pools"]

Progress = Callable[[int, int], None]


def default_workers() -> int:
    """All local cores (``os.process_cpu_count`` where available)."""
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    return max(1, int(count or 1))


def run_job(
    job: Job,
    *,
    workers: int | None = None,
    dask: Any = None,
    progress: Progress | None = None,
) -> ChunkStats:
    """Run every chunk of ``job`` and sum their statistics in chunk order.

    Parameters
    ----------
    workers
        Local processes; ``None`` = all cores, ``1`` = inline (no subprocess).
    dask
        A Dask ``distributed.Client`` or a scheduler address (``tcp://host:8786``); when given,
        chunks run on that cluster instead of local processes.
    progress
        Called as ``progress(done, total)`` after each chunk.
    """
    chunks = list(range(job.n_chunks))
    if dask is not None:
        results = _run_dask(job, chunks, dask, progress)
    else:
        n_workers = default_workers() if workers is None else int(workers)
        if n_workers < 1:
            raise ConfigError("workers must be >= 1", field="workers")
        n_workers = min(n_workers, len(chunks))
        if n_workers <= 1:
            results = []
            for i in chunks:
                results.append(run_chunk(job, i))
                if progress:
                    progress(i + 1, len(chunks))
        else:
            results = _run_processes(job, chunks, n_workers, progress)
    total = results[0]
    for stats in results[1:]:
        total = total.add(stats)
    return total


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(n_workers: int) -> ProcessPoolExecutor:
    """A process pool kept for the life of the process (start-up costs once, not per call)."""
    pool = _POOLS.get(n_workers)
    if pool is None:
        pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=get_context(_start_method()))
        _POOLS[n_workers] = pool
    return pool


def _start_method() -> str:
    """``fork`` while the parent has a single thread (cheap, and a script needs no ``__main__``
    guard); otherwise ``forkserver`` (forking a threaded process can deadlock) or ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


@atexit.register
def shutdown_pools() -> None:
    """Stop the kept worker processes (also run at interpreter exit)."""
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


def _run_processes(
    job: Job, chunks: list[int], n_workers: int, progress: Progress | None
) -> list[ChunkStats]:
    out: list[ChunkStats | None] = [None] * len(chunks)
    pool = _pool(n_workers)
    try:
        futures = {pool.submit(run_chunk, job, i): i for i in chunks}
    except BrokenProcessPool:
        _POOLS.pop(n_workers, None)
        pool = _pool(n_workers)
        futures = {pool.submit(run_chunk, job, i): i for i in chunks}
    for done, fut in enumerate(as_completed(futures), start=1):
        out[futures[fut]] = fut.result()
        if progress:
            progress(done, len(chunks))
    return [r for r in out if r is not None]


def _run_dask(
    job: Job, chunks: list[int], dask: Any, progress: Progress | None
) -> list[ChunkStats]:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - distributed is a dependency
        raise ConfigError("dask distributed is not installed", field="dask") from exc
    own = isinstance(dask, str)
    try:
        client = Client(dask, timeout="10s") if own else dask
    except OSError as exc:
        raise ConfigError(
            f"cannot reach the Dask scheduler at {dask}: {exc}", field="dask"
        ) from exc
    try:
        [job_future] = client.scatter([job], broadcast=True)
        futures = client.map(run_chunk, [job_future] * len(chunks), chunks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[ChunkStats | None] = [None] * len(chunks)
        for done, fut in enumerate(as_completed(futures), start=1):
            out[index[fut.key]] = fut.result()
            if progress:
                progress(done, len(chunks))
        return [r for r in out if r is not None]
    finally:
        if own:
            client.close()
