"""The regression matrix and its driver: every configuration, a summary table, re-run lines.

The matrix is each unit's ``regression`` list in the registry (:mod:`shiftmax.units`). For
shiftmax and argmax it covers N = 1 (shiftmax; argmax starts at N = 2) and N = 1000, both
round_log2 modes, negative and per-lane frac_bits, the smallest buffer (B = 2e + 2) and
wide ones, every pipelining option (register_every 0, 1, 2, 3 and the default; stage
registers on, off and the default), argmax index and one-hot, exhaustive runs of tiny
configurations, and one configuration per parameter set of the committed reference cases.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from shiftmax.sim.config import SimConfig
from shiftmax.sim.runner import SimResult, reference_dir, rerun_command, simulate
from shiftmax.sim.sweep import JobFailure, run_jobs
from shiftmax.sim.vectors import reference_configurations
from shiftmax.units import UNITS

__all__ = ["MatrixEntry", "MATRIX", "RegressJob", "matrix", "run_job", "run_matrix",
           "summary_table"]


@dataclass(frozen=True)
class MatrixEntry:
    """A configuration and how many random vectors its main stream test sends."""

    config: SimConfig
    vectors: int


#: The matrix of every unit, from its registry entry. Vector counts keep the whole run on
#: Icarus near 10 minutes.
MATRIX: tuple[MatrixEntry, ...] = tuple(
    MatrixEntry(SimConfig(entry.name, **params), vectors)
    for entry in UNITS.values() for vectors, params in entry.regression)


#: Reference parameter sets with more lanes are left out (one N = 1000 configuration on
#: Icarus takes about two minutes); their rows of the default arithmetic run in MATRIX.
REFERENCE_MAX_LANES = 200


def matrix(reference: bool = True) -> list[MatrixEntry]:
    """The fixed matrix plus one default-pipelined configuration per reference parameter set
    (up to ``REFERENCE_MAX_LANES`` lanes) not already in it; the reference vectors run there."""
    entries = list(MATRIX)
    if reference:
        names = ("n", "value_bits", "frac_bits", "exp_bitwidth", "buffer_bitwidth")
        known = {tuple(e.config.params[name] for name in names)
                 for e in entries if e.config.unit == "shiftmax"}
        tests = reference_dir()
        for params in reference_configurations(tests) if tests else ():
            key = tuple(params[name] for name in names)
            if key not in known and params["n"] <= REFERENCE_MAX_LANES:
                known.add(key)
                entries.append(MatrixEntry(SimConfig("shiftmax", **params), 100))
    return entries


def summary_table(results: list[SimResult]) -> str:
    """One row per run: configuration, vectors, result, time."""
    rows = [("#", "configuration", "sim", "vectors", "result", "time")]
    for number, result in enumerate(results, 1):
        rows.append((str(number), result.config.describe(), result.simulator,
                     str(result.vectors), "PASS" if result.passed else "FAIL",
                     f"{result.seconds:.1f} s"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    total = sum(r.seconds for r in results)
    passed = sum(r.passed for r in results)
    lines.append(f"{passed}/{len(results)} passed, {sum(r.vectors for r in results)} vectors, "
                 f"{total:.0f} s of simulation")
    return "\n".join(lines)


@dataclass(frozen=True)
class RegressJob:
    """One entry's run, as a sweep worker receives it."""

    config: SimConfig
    simulator: str
    seed: int
    vectors: int

    def rerun_command(self) -> str:
        return rerun_command(self.config, self.simulator, self.seed, vectors=self.vectors)


def run_job(job: RegressJob) -> SimResult:
    """Simulate one entry (on a worker of the sweep's Dask cluster)."""
    return simulate(job.config, simulator=job.simulator, seed=job.seed, vectors=job.vectors)


def run_matrix(entries: list[MatrixEntry], *, simulator: str, seed: int, jobs: int = 1,
               scale: float = 1.0, out=sys.stdout,
               scheduler: str | None = None) -> list[SimResult]:
    """Run every entry on Dask (``shiftmax.sim.sweep``: a local cluster of ``jobs`` workers,
    or ``scheduler`` / ``$SCHEDULER``), printing a progress line as each one ends."""
    work = [RegressJob(entry.config, simulator, seed, max(1, int(entry.vectors * scale)))
            for entry in entries]

    def summarize(job: RegressJob, result: SimResult) -> str:
        return (f"{'PASS' if result.passed else 'FAIL'} {job.config.describe():55s} "
                f"{result.vectors:6d} vectors")

    results = run_jobs(work, run_job, scheduler=scheduler, workers=jobs, out=out,
                       name="regress", describe=lambda job: job.config.describe(),
                       summarize=summarize, failed=lambda r: not r.passed)
    # A job that raised (or whose worker was lost) becomes a failed run with its traceback.
    return [SimResult(job.config, simulator, seed, error=f"{r.error}\n{r.traceback}")
            if isinstance(r, JobFailure) else r for job, r in zip(work, results, strict=True)]


def report_failures(results: list[SimResult], out=sys.stdout) -> None:
    """The message of every failed run and the ``make sim`` line that repeats it (the full
    messages are in each run's results.xml)."""
    for result in results:
        if result.passed:
            continue
        print(f"\nFAILED {result.config.describe()} on {result.simulator} "
              f"(seed {result.seed}, folder {_relative(result.directory)}):", file=out)
        print(_indent(result.failure_text()), file=out)
        again = rerun_command(result.config, result.simulator, result.seed,
                              result.requested_vectors)
        print(f"  re-run: {again}", file=out)


def select(entries: list[MatrixEntry], pattern: str | None) -> list[MatrixEntry]:
    """Entries whose folder name matches the regular expression ``pattern``."""
    if not pattern:
        return entries
    regex = re.compile(pattern)
    return [entry for entry in entries if regex.search(entry.config.name)]


def _indent(text: str, limit: int = 40, width: int = 400) -> str:
    """Indented, at most ``limit`` lines of ``width`` characters (results.xml has it all)."""
    lines = text.splitlines() or ["(no message)"]
    if len(lines) > limit:
        lines = lines[:limit] + [f"... ({len(lines) - limit} more lines)"]
    return "\n".join("  " + (line if len(line) <= width else line[:width] + " ...")
                     for line in lines)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)

