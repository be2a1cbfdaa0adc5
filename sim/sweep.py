"""Independent jobs of a sweep (``make regress``, ``make report``) run on Dask.

    results = run_jobs(jobs, function)                        # LocalCluster, one worker a core
    results = run_jobs(jobs, function, scheduler="tcp://host:8786")   # a running Dask cluster

``function(job)`` runs once per job, on a worker of a ``dask.distributed`` cluster, and
``run_jobs`` returns the results in job order. The cluster is, in this order: the
``scheduler`` argument (an address such as ``tcp://host:8786``, or the path of a scheduler
file as ``dask scheduler --scheduler-file`` writes); the ``SCHEDULER`` environment variable
(what ``make regress SCHEDULER=...`` sets); Dask's own configuration (``scheduler-address``,
e.g. ``DASK_SCHEDULER_ADDRESS``); otherwise a ``LocalCluster`` started for the sweep with one
single-threaded worker per core (threads of this process by default, like the thread pools
the sweeps used before; ``processes=True`` for worker processes). ``"local"`` asks for the
local cluster whatever the environment says. Dask pickles every task, on a local cluster too,
so ``function`` and the jobs must be picklable wherever they run: a sweep that runs locally
is ready for a remote cluster.

A line is printed as each job ends (``[ 3/29] ... 12.3 s (elapsed 40 s)``). A job that raises
does not stop the sweep: its place in the results holds a :class:`JobFailure` (the error, the
traceback, the worker) and its line says FAILED and gives the command that re-runs that one
job locally (see :func:`rerun_line`). ``on_result(index, job, result)`` is called in this
process as each job ends, in completion order: the place to write a cache file, so that
results computed on other machines are cached here as they would be by a local run.

On other machines, the workers need the project installed at the same path (the jobs write
their files under ``build/`` there) and ``function`` must be importable by its module name;
``docs/tools.md`` shows the set-up.
"""

from __future__ import annotations

import os
import pickle
import shlex
import socket
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

__all__ = ["JobFailure", "SCHEDULER_ENV", "format_command", "local_cluster", "rerun_line",
           "resolve_scheduler", "run_jobs"]

#: The environment variable naming a remote scheduler (``make ... SCHEDULER=tcp://host:8786``).
SCHEDULER_ENV = "SCHEDULER"


@dataclass
class JobFailure:
    """A job whose function raised: in the results in place of its result."""

    index: int
    job: Any
    error: str  # "ExceptionType: message"
    traceback: str
    worker: str  # host name of the worker it ran on
    rerun: str | None  # the command that re-runs the job locally, when the job gives one


def _dask():
    """``(dask, dask.distributed)``, or ImportError saying how to install them."""
    try:
        import dask
        import dask.distributed
    except ImportError as error:
        raise ImportError(f"sweeps run on dask.distributed, which is not installed ({error}): "
                          f"pip install -e '.[dask]', or make venv EXTRAS=dev,sim,synth,dask"
                          ) from error
    return dask, dask.distributed


def format_command(argv: str | Sequence[str], *, env: dict[str, str] | None = None,
                   cwd: str | Path | None = None) -> str:
    """A shell line that runs ``argv`` (a string is taken as already a shell line), with
    ``env`` assignments before it and ``cd CWD &&`` in front when ``cwd`` is given."""
    line = argv if isinstance(argv, str) else shlex.join(str(arg) for arg in argv)
    if env:
        line = " ".join(f"{name}={shlex.quote(str(value))}" for name, value in env.items()) + \
            " " + line
    if cwd is not None:
        line = f"cd {shlex.quote(str(cwd))} && {line}"
    return line


def rerun_line(job: Any, rerun: Callable[[Any], Any] | None = None) -> str | None:
    """The command that re-runs ``job`` locally, or None when it gives none.

    Taken from ``rerun(job)`` when given, else from the job's ``rerun_command()`` method or
    ``rerun_command`` attribute; a string is a shell line, a sequence an argument list
    (quoted with :func:`format_command`).
    """
    if rerun is not None:
        command = rerun(job)
    else:
        command = getattr(job, "rerun_command", None)
        if callable(command):
            command = command()
    if command is None:
        return None
    return format_command(command)


def resolve_scheduler(scheduler: str | None = None) -> str | None:
    """The scheduler a sweep connects to (an address or a scheduler file), None for a new
    LocalCluster: the argument, else ``$SCHEDULER``, else Dask's ``scheduler-address``.

    Empty strings count as unset (make passes an unset variable as ``''``); ``"local"`` means
    a LocalCluster whatever the environment and the configuration say.
    """
    dask, _ = _dask()

    for value in (scheduler, os.environ.get(SCHEDULER_ENV),
                  dask.config.get("scheduler-address", None)):
        if value is not None and str(value).strip():
            value = str(value).strip()
            return None if value == "local" else value
    return None


def local_cluster(workers: int | None = None, *, processes: bool = False):
    """A LocalCluster of ``workers`` single-threaded workers (default: one per core).

    Its HTTP server on a free port (two sweeps on one machine would fight over 8787) and no
    memory limit (with thread workers the limit would apply to this whole process).
    """
    _, distributed = _dask()

    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValueError(f"workers must be a positive integer or None, not {workers!r}")
    return distributed.LocalCluster(n_workers=workers or os.cpu_count() or 1,
                                    threads_per_worker=1, processes=processes,
                                    dashboard_address=":0", memory_limit=0)


def _run_one(function: Callable[[Any], Any], index: int, job: Any, rerun: str | None):
    """On the worker: (result or JobFailure, seconds, worker host). Exceptions are caught
    there so that the client never has to unpickle a tool's own exception type."""
    started = time.monotonic()
    try:
        result = function(job)
    except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the sweep
        result = JobFailure(index, job, f"{type(error).__name__}: {error}",
                            traceback.format_exc(), socket.gethostname(), rerun)
    return result, time.monotonic() - started, socket.gethostname()


def _connect(address: str):
    _, distributed = _dask()

    if address.endswith(".json") and Path(address).exists():
        return distributed.Client(scheduler_file=address, timeout="20s")
    return distributed.Client(address, timeout="20s")


def run_jobs(jobs: Sequence[Any], function: Callable[[Any], Any], *,
             scheduler: str | None = None, workers: int | None = None,
             processes: bool = False,
             on_result: Callable[[int, Any, Any], None] | None = None,
             describe: Callable[[Any], str] = str,
             summarize: Callable[[Any, Any], str] | None = None,
             failed: Callable[[Any], bool] | None = None,
             rerun: Callable[[Any], Any] | None = None,
             out: TextIO | None = None, name: str = "sweep") -> list[Any]:
    """Run ``function(job)`` for every job on a Dask cluster; the results in job order.

    Parameters
    ----------
    jobs:
        the jobs' arguments, one each; earlier jobs start first (give the longest first).
    function:
        called once per job on a worker. It and the jobs are pickled: a module-level function
        (of a module the workers can import, on a remote cluster), no locks in its globals.
    scheduler:
        see :func:`resolve_scheduler`; None: ``$SCHEDULER``, Dask's configuration, or a
        LocalCluster of ``workers`` workers (default one per core), threads of this process
        unless ``processes``.
    on_result:
        ``on_result(index, job, result)`` in this process as each job ends (a JobFailure for
        a job that raised), in completion order.
    describe, summarize:
        the text of a job's progress line: ``summarize(job, result)`` when given, else
        ``describe(job)``.
    failed:
        ``failed(result)`` is True for a result that is a failure although the function
        returned (a failing simulation); its line then gives the re-run command too.
    rerun:
        ``rerun(job)``: the command that re-runs a job locally (see :func:`rerun_line`).
    out:
        where the progress lines go (default ``sys.stderr``).
    name:
        the sweep's name, in the Dask task keys and the first progress line.

    Raises
    ------
    TypeError
        ``function`` or a job cannot be pickled (raised before any job runs).
    ValueError
        a bad ``workers``.
    OSError
        the scheduler cannot be reached (``distributed`` raises it after 20 s).
    """
    as_completed = _dask()[1].as_completed

    out = sys.stderr if out is None else out
    jobs = list(jobs)
    address = resolve_scheduler(scheduler)
    cluster = None if address is not None else local_cluster(workers, processes=processes)
    started = time.monotonic()
    client = _connect(address) if address is not None else _client_of(cluster)
    try:
        where = address or (f"a local cluster of {len(cluster.workers)} "
                            f"{'process' if processes else 'thread'} workers")
        _line(out, f"[{name}] {len(jobs)} jobs on {where}")
        token = uuid.uuid4().hex[:8]
        futures = {}
        for index, job in enumerate(jobs):
            try:
                future = client.submit(_run_one, function, index, job, rerun_line(job, rerun),
                                       key=f"{name}-{index}-{token}", pure=False,
                                       priority=len(jobs) - index)
            except (TypeError, AttributeError, pickle.PicklingError) as error:
                # Dask pickles every task, local ones too: what works here works remotely.
                raise TypeError(f"function and jobs must be picklable (a module-level "
                                f"function, no locks or open files in its arguments or "
                                f"globals); job {index} ({describe(job)}): {error}") from error
            futures[future] = index
        results: list[Any] = [None] * len(jobs)
        for done, future in enumerate(as_completed(futures), 1):
            index = futures[future]
            try:
                result, seconds, worker = future.result()
            except Exception as error:  # noqa: BLE001 - the worker itself was lost
                result = JobFailure(index, jobs[index], f"{type(error).__name__}: {error}",
                                    traceback.format_exc(), "?", rerun_line(jobs[index], rerun))
                seconds, worker = 0.0, "?"
            results[index] = result
            _report(out, done, len(jobs), jobs[index], result, seconds, worker,
                    time.monotonic() - started, address is not None, describe, summarize,
                    failed, rerun)
            if on_result is not None:
                on_result(index, jobs[index], result)
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _client_of(cluster):
    return _dask()[1].Client(cluster)


def _line(out: TextIO, text: str) -> None:
    """One whole line in one write, so that lines of worker threads printing on the same
    stream do not interleave with it."""
    out.write(text + "\n")
    out.flush()


def _report(out: TextIO, done: int, count: int, job: Any, result: Any, seconds: float,
            worker: str, elapsed: float, remote: bool, describe, summarize, failed,
            rerun) -> None:
    """One progress line, and for a failure its error and the re-run command."""
    width = len(str(count))
    where = f" on {worker}" if remote else ""
    prefix = f"[{done:{width}d}/{count}]"
    if isinstance(result, JobFailure):
        _line(out, f"{prefix} FAILED {describe(job)}{where}: {result.error.splitlines()[0]}")
        command = result.rerun
    else:
        text = summarize(job, result) if summarize is not None else describe(job)
        _line(out, f"{prefix} {text} {seconds:.1f} s{where} (elapsed {elapsed:.0f} s)")
        command = rerun_line(job, rerun) if failed is not None and failed(result) else None
    if command is not None:
        _line(out, f"{' ' * len(prefix)} re-run locally: {command}")
