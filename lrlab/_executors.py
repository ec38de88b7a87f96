"""Where a sweep's runs execute: a local process pool, or a Dask cluster's executor.

Both yield an object with concurrent.futures' ``submit`` that hands back
:class:`concurrent.futures.Future` objects, so :func:`lrlab.sweep.execute` has one code path.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager

__all__ = ["dask_executor", "local_executor"]


def _worker_init() -> None:  # pragma: no cover - runs in the pool's workers
    """Pool initializer: the worker dies with the sweep, and at once on Ctrl-C.

    On Linux the kernel is asked to SIGKILL the worker when the sweep process dies, so a
    killed sweep leaves no worker picking up queued runs behind its back (the worker's
    papermill kernel follows: ipykernel exits when its parent goes). SIGINT ends the worker
    instead of being caught as KeyboardInterrupt and returned as one more failed run.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


@contextmanager
def local_executor(workers: int):
    """Yield a process pool of ``workers`` fresh (spawned) processes that die with this one.

    On normal exit the pool is shut down after its runs; on an exception (Ctrl-C) the runs
    not started are cancelled and the workers are stopped, their runs left unfinished.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init)
    try:
        yield pool
    except BaseException:
        processes = list(getattr(pool, "_processes", {}).values())  # no public way before Python 3.14
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)
        raise
    pool.shutdown(wait=True)


@contextmanager
def dask_executor(address: str | None = None, workers: int = 2):
    """Yield a concurrent.futures executor on a Dask cluster: the one at ``address``, else a LocalCluster.

    The LocalCluster has ``workers`` single-threaded worker processes and is closed on exit.
    Workers of a remote cluster need lrlab installed and must see the notebook and the output folder.
    """
    from dask.distributed import Client, LocalCluster

    if address:
        with Client(address) as client:
            yield client.get_executor(pure=False)
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client.get_executor(pure=False)
