"""The Dask job runner of the sweeps: a tiny sweep on a LocalCluster, order, failures, re-runs.

Needs the ``dask`` extra (``pip install -e '.[dask]'``); skipped without it.
"""

import io
import threading
from dataclasses import dataclass

import numpy as np
import pytest

pytest.importorskip("distributed", reason="dask.distributed is not installed: pip install -e "
                                          "'.[dask]' (the dask extra)")

from shiftmax.golden import FixedPoint, quantized_shiftmax  # noqa: E402
from shiftmax.sim.sweep import (  # noqa: E402
    SCHEDULER_ENV,
    JobFailure,
    format_command,
    local_cluster,
    rerun_line,
    resolve_scheduler,
    run_jobs,
)


@dataclass(frozen=True)
class GoldenJob:
    """A few random int8 rows of one seed through the golden shiftmax."""

    seed: int
    rows: int = 8

    def rerun_command(self) -> list[str]:
        return ["python", "-c", f"golden_rows({self.seed})"]


def golden_rows(job: GoldenJob) -> list[list[int]]:
    rng = np.random.default_rng(job.seed)
    x = FixedPoint(rng.integers(-128, 128, size=(job.rows, 10)), value_bits=7, frac_bits=2)
    return quantized_shiftmax(x, exp_bitwidth=8, buffer_bitwidth=24).values.tolist()


def fails_on_seed_2(job: GoldenJob) -> list[list[int]]:
    if job.seed == 2:
        raise RuntimeError(f"seed {job.seed} is broken\nsecond line")
    return golden_rows(job)


@pytest.fixture(autouse=True)
def no_scheduler_from_the_environment(monkeypatch):
    """A SCHEDULER or Dask scheduler-address of the machine must not send tests elsewhere."""
    import dask

    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    with dask.config.set({"scheduler-address": None}):
        yield


def test_tiny_sweep_on_a_local_cluster_gives_the_results_of_a_plain_loop():
    jobs = [GoldenJob(seed) for seed in range(6)]
    out = io.StringIO()
    assert run_jobs(jobs, golden_rows, workers=2, out=out) == [golden_rows(j) for j in jobs]
    lines = out.getvalue().splitlines()
    assert lines[0] == "[sweep] 6 jobs on a local cluster of 2 thread workers"
    assert sorted(line[:5] for line in lines[1:]) == [f"[{i}/6]" for i in range(1, 7)]


def test_process_workers_give_the_same_results():
    jobs = [GoldenJob(seed, rows=3) for seed in range(3)]
    out = io.StringIO()
    assert run_jobs(jobs, golden_rows, workers=2, processes=True, out=out) == \
        [golden_rows(j) for j in jobs]
    assert "2 process workers" in out.getvalue()


#: Set when job 1 of the order test has ended (thread workers share this module).
SECOND_DONE = threading.Event()


def ends_after_job_1(index: int) -> int:
    if index == 0:
        assert SECOND_DONE.wait(timeout=60)
    return index * 10


def test_results_come_in_job_order_and_on_result_in_completion_order():
    SECOND_DONE.clear()
    seen = []

    def on_result(index, job, result):
        seen.append((index, job, result))
        if index == 1:
            SECOND_DONE.set()

    results = run_jobs([0, 1], ends_after_job_1, workers=2, on_result=on_result,
                       out=io.StringIO())
    assert results == [0, 10]
    assert seen == [(1, 1, 10), (0, 0, 0)]


def test_a_function_that_cannot_be_pickled_is_rejected_before_any_job_runs():
    lock = threading.Lock()
    with pytest.raises(TypeError, match="function and jobs must be picklable"):
        run_jobs([1], lambda n: (lock, n), workers=1, out=io.StringIO())


def test_a_job_that_raises_is_reported_with_its_rerun_command_and_the_others_finish():
    jobs = [GoldenJob(seed) for seed in range(4)]
    out = io.StringIO()
    results = run_jobs(jobs, fails_on_seed_2, workers=2, out=out,
                       describe=lambda job: f"seed {job.seed}")
    failure = results[2]
    assert isinstance(failure, JobFailure)
    assert (failure.index, failure.job) == (2, jobs[2])
    assert failure.error == "RuntimeError: seed 2 is broken\nsecond line"
    assert "fails_on_seed_2" in failure.traceback
    assert failure.rerun == "python -c 'golden_rows(2)'"
    assert [results[i] for i in (0, 1, 3)] == [golden_rows(jobs[i]) for i in (0, 1, 3)]
    text = out.getvalue()
    assert "FAILED seed 2: RuntimeError: seed 2 is broken\n" in text
    assert "re-run locally: python -c 'golden_rows(2)'\n" in text
    assert text.count("re-run locally") == 1


def test_a_failed_result_gets_its_rerun_command_and_summary():
    out = io.StringIO()
    results = run_jobs([1, 2, 3], lambda n: n % 2 == 1, workers=1, out=out,
                       summarize=lambda n, passed: f"{'PASS' if passed else 'FAIL'} job {n}",
                       failed=lambda passed: not passed,
                       rerun=lambda n: ["make", "sim", f"N={n}", "ONLY=a b"])
    assert results == [True, False, True]
    text = out.getvalue()
    assert "FAIL job 2 " in text and "PASS job 1 " in text and "PASS job 3 " in text
    assert text.count("re-run locally") == 1
    assert "re-run locally: make sim N=2 'ONLY=a b'\n" in text


def test_scheduler_from_the_environment_is_used(monkeypatch):
    """A separately started cluster reached over TCP, as a remote one is: jobs and results
    cross the connection pickled."""
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://",
                      dashboard_address=":0") as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        monkeypatch.setenv(SCHEDULER_ENV, address)
        out = io.StringIO()
        jobs = [GoldenJob(seed, rows=2) for seed in range(3)]
        assert run_jobs(jobs, golden_rows, out=out) == [golden_rows(j) for j in jobs]
        lines = out.getvalue().splitlines()
        assert lines[0] == f"[sweep] 3 jobs on {address}"
        assert all(" on " in line for line in lines[1:])  # the worker's host


def test_resolve_scheduler_prefers_argument_then_environment_then_dask_config(monkeypatch):
    import dask

    assert resolve_scheduler() is None
    with dask.config.set({"scheduler-address": "tcp://config:8786"}):
        assert resolve_scheduler() == "tcp://config:8786"
        monkeypatch.setenv(SCHEDULER_ENV, "tcp://env:8786")
        assert resolve_scheduler() == "tcp://env:8786"
        assert resolve_scheduler("tcp://arg:8786") == "tcp://arg:8786"
        assert resolve_scheduler("local") is None
        monkeypatch.setenv(SCHEDULER_ENV, "")  # make passes an unset variable as ''
        assert resolve_scheduler("") == "tcp://config:8786"


def test_format_command_quotes_arguments_and_prefixes_environment_and_folder():
    assert format_command(["make", "sim", "FRAC_BITS=-2,1", "A=b c"]) == \
        "make sim FRAC_BITS=-2,1 'A=b c'"
    assert format_command("make regress", env={"SIM": "verilator"}, cwd="/my tree") == \
        "cd '/my tree' && SIM=verilator make regress"


def test_rerun_line_comes_from_the_function_or_the_job():
    assert rerun_line(GoldenJob(5)) == "python -c 'golden_rows(5)'"
    assert rerun_line(GoldenJob(5), lambda job: f"make x SEED={job.seed}") == "make x SEED=5"
    assert rerun_line(7) is None


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_bad_worker_count_is_rejected(workers):
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        local_cluster(workers)
