"""Executors: where work units run.  The driver alone writes the database; executors only
compute units and hand their results back as they finish."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import socket
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, Iterable, Iterator
from urllib.parse import urlsplit

from discovery.errors import DiscoveryError, InputError

# Seconds to wait for a TCP connection to a scheduler: a refused or unroutable address fails
# within this, not after Dask's own 30 s of retries.
PROBE_SECONDS = 5.0


class SchedulerError(DiscoveryError, ConnectionError):
    """The Dask scheduler cannot be reached (a failure while running: exit status 1, not 2)."""


def max_workers() -> int:
    """Worker processes allowed on this machine (``[execution] workers``, ``local:N``): twice its
    cores.  Each process holds its own numba code and tables (some 30 MB and more), and more
    processes than that only compete for the cores."""
    return max(2, 2 * (os.cpu_count() or 1))


class Executor:
    """Runs work units and yields their results as they complete (any order)."""

    def map_unordered(self, fn: Callable, items: Iterable) -> Iterator:  # pragma: no cover - interface
        raise NotImplementedError

    def submit(self, fn: Callable, item):
        """Start one call ``fn(item)`` beside the work of :meth:`map_unordered` and return a
        handle whose ``result()`` waits for its value (here: computed when asked for)."""
        return _Deferred(fn, item)

    def close(self, cancel: bool = False) -> None:
        """Release the workers; with ``cancel``, drop work not yet started."""

    def slots(self) -> int:
        """Units that run at once (worker processes, or Dask worker threads now connected): a
        caller cutting one batch into tasks cuts it into a few per slot."""
        return 1

    def same_machine(self) -> bool:
        """Whether the work runs in other processes of this machine, which read its files (a task
        may then carry a file's path instead of a large value that many tasks share)."""
        return False


class _Deferred:
    """A call run in this process when its result is first asked for."""

    def __init__(self, fn: Callable, item):
        self._call = (fn, item)
        self._value = None

    def result(self):
        if self._call is not None:
            fn, item = self._call
            self._value, self._call = fn(item), None
        return self._value


def _worker_init() -> None:
    # One numba thread and one OpenMP/BLAS thread per worker process: the processes already fill
    # the cores, and OpenMP threads that outnumber the free cores spin (a triage model scoring
    # 400 children in a worker took seconds instead of milliseconds).
    # The environment too: threadpool_limits reaches only the OpenMP runtimes loaded by now, and
    # scikit-learn's is loaded later, by the first task that scores children.
    os.environ["OMP_NUM_THREADS"] = "1"
    import numba
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(1)
    threadpool_limits(1)


class LocalExecutor(Executor):
    """A pool of ``workers`` processes on this machine (in-process when ``workers`` is 1)."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool = None
        if workers > 1:
            # Not fork: a process that has run numba's parallel kernels cannot safely fork their
            # thread pool.  The fork server is a fresh process that children fork from cheaply.
            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            self._pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context(method), initializer=_worker_init
            )

    def slots(self) -> int:
        return self.workers

    def same_machine(self) -> bool:
        return self._pool is not None

    def submit(self, fn, item):
        return _Deferred(fn, item) if self._pool is None else self._pool.submit(fn, item)

    def map_unordered(self, fn, items):
        if self._pool is None:
            for item in items:
                yield fn(item)
            return
        pending = set()
        queue = iter(items)
        # Keep a couple of units per worker in flight so results stream back steadily.
        for item in queue:
            pending.add(self._pool.submit(fn, item))
            if len(pending) >= 2 * self.workers:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(self._pool.submit(fn, nxt))

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


def parse_scheduler(text: str) -> tuple[str, int | None]:
    """Check a scheduler address: ``local:N`` (N worker processes here) or a Dask address such as
    ``tcp://host:8786``.  Returns (address, N) with N None for a remote scheduler.

    Raises
    ------
    InputError
        For anything else, naming it.
    """
    text = str(text).strip()
    if text.startswith("local:"):
        count = text.removeprefix("local:")
        most = max_workers()
        if not (count.isascii() and count.isdigit() and len(count) <= 6) or not 1 <= int(count) <= most:
            raise InputError(f"scheduler {text!r}: expected local:N with N from 1 to {most} worker processes "
                             f"(twice this machine's {os.cpu_count() or 1} cores)")
        return text, int(count)
    scheme, sep, rest = text.partition("://")
    if not sep or scheme not in ("tcp", "tls", "ws", "wss", "inproc", "ucx") or not rest:
        raise InputError(f"scheduler {text!r}: expected a Dask address such as tcp://host:8786, or local:N")
    return text, None


def probe_scheduler(text: str) -> None:
    """Check that a ``tcp://`` or ``tls://`` scheduler accepts connections, within
    :data:`PROBE_SECONDS`; other addresses (``local:N``, ``inproc``, ...) pass unchecked.

    Raises
    ------
    InputError
        For an address :func:`parse_scheduler` refuses.
    SchedulerError
        If nothing answers there.
    """
    address, local = parse_scheduler(text)
    parts = urlsplit(address)
    if local is not None or parts.scheme not in ("tcp", "tls"):
        return
    try:
        host, port = parts.hostname, parts.port or 8786
    except ValueError as err:
        raise InputError(f"scheduler {address!r}: {err}") from None
    try:
        socket.create_connection((host, port), timeout=PROBE_SECONDS).close()
    except OSError as err:
        raise SchedulerError(f"cannot reach the Dask scheduler at {address} ({err.strerror or err}); start it "
                             "(dask scheduler) or check the address") from None


def _dask():
    try:
        import distributed
    except ImportError:
        raise InputError("the Dask executor needs the dask extra: pip install 'discovery[dask]' "
                         "(or pip install 'dask[distributed]')") from None
    return distributed


def _call(fn, item):
    return fn(item)


def _one_numba_thread_plugin(distributed):
    """A worker plugin giving each Dask worker process one numba thread, as in the local pool
    (the worker processes already fill the cores)."""

    class OneNumbaThread(distributed.WorkerPlugin):
        idempotent = True
        name = "discovery-one-numba-thread"

        def setup(self, worker):
            _worker_init()

    return OneNumbaThread()


class DaskExecutor(Executor):
    """Work units on a ``dask.distributed`` cluster.

    Each task carries the callable (the validated configuration, a few hundred bytes) and a unit
    index; unit results come back as they finish.  A unit whose worker dies is run again (the scheduler
    reschedules it; if the scheduler gives up on it, the driver resubmits it up to ``retries``
    times).  The driver alone writes the database.

    Parameters
    ----------
    scheduler : str
        ``tcp://host:8786`` (any Dask address) for a running cluster, or ``local:N`` to start a
        ``LocalCluster`` of N single-threaded worker processes on this machine.
    retries : int
        Resubmissions of a unit whose workers died.
    timeout : float
        Seconds to wait for the scheduler.
    """

    def __init__(self, scheduler: str, retries: int = 3, timeout: float = 30.0):
        address, local = parse_scheduler(scheduler)
        distributed = _dask()
        self.retries = retries
        self.cluster = None
        self.client = None
        self._pending = None
        try:
            probe_scheduler(scheduler)
            if local is not None:
                self.cluster = distributed.LocalCluster(
                    n_workers=local, threads_per_worker=1, processes=True, dashboard_address=":0",
                    silence_logs=40, env={"NUMBA_NUM_THREADS": "1"},
                )
                address = self.cluster
            try:
                self.client = distributed.Client(address, timeout=f"{timeout}s")
            except (OSError, TimeoutError) as err:
                raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler} ({err})") from None
            self.client.register_plugin(_one_numba_thread_plugin(distributed))
        except BaseException:
            self.close()
            raise

    @property
    def dashboard(self) -> str | None:
        """The Dask dashboard's address (watch the workers there)."""
        return self.client.dashboard_link

    def worker_count(self) -> int:
        """Worker processes connected now."""
        return len(self.client.scheduler_info()["workers"])

    def slots(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, fn, item):
        return _DaskCall(self, fn, item)

    def map_unordered(self, fn, items):
        distributed = _dask()
        queue = iter(items)
        attempts: dict = {}
        item_of: dict = {}

        def submit(number, item):
            # The function goes with every task (a few hundred bytes): a scattered copy would be
            # lost with the workers holding it, and the tasks after that would fail.
            future = self.client.submit(_call, fn, item, pure=False)
            item_of[future.key] = (number, item)
            return future

        def window() -> int:
            # Re-read as results arrive: workers of a batch system join while the campaign runs.
            return max(4, 2 * sum(self.client.nthreads().values()))

        numbered = enumerate(queue)
        futures = distributed.as_completed([submit(n, item) for n, item in itertools.islice(numbered, window())])
        self._pending = futures
        for future in futures:
            number, item = item_of.pop(future.key)
            try:
                result = future.result()
            except distributed.KilledWorker:
                attempts[number] = attempts.get(number, 0) + 1
                if attempts[number] > self.retries:
                    raise
                futures.add(submit(number, item))
                continue
            finally:
                future.release()
            yield result
            for n, nxt in itertools.islice(numbered, max(1, window() - futures.count())):
                futures.add(submit(n, nxt))

    def close(self, cancel: bool = False) -> None:
        try:
            if self.client is not None:
                if cancel and self._pending is not None:
                    self.client.cancel(list(self._pending.futures))
                self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


class _DaskCall:
    """One call on the cluster; resubmitted, as the units of ``map_unordered`` are, when the
    workers running it die."""

    def __init__(self, executor: DaskExecutor, fn: Callable, item):
        self._executor, self._call = executor, (fn, item)
        self._future = executor.client.submit(_call, fn, item, pure=False)

    def result(self):
        distributed = _dask()
        for attempt in itertools.count():
            try:
                return self._future.result()
            except distributed.KilledWorker:
                if attempt >= self._executor.retries:
                    raise
                self._future = self._executor.client.submit(_call, *self._call, pure=False)


def make_executor(workers: int, scheduler: str | None = None) -> Executor:
    """A :class:`DaskExecutor` on ``scheduler`` when one is given (``tcp://host:8786`` or
    ``local:N``), else a :class:`LocalExecutor` of ``workers`` processes."""
    return DaskExecutor(scheduler) if scheduler else LocalExecutor(workers)
