"""The regression matrix and its driver: every configuration, a summary table, re-run lines.

The matrix covers N = 1 (shiftmax; the generator's argmax starts at N = 2) and N = 1000,
both round_log2 modes, negative and per-lane frac_bits, the smallest buffer (B = 2e + 2) and
wide ones, every pipelining option (register_every 0, 1, 2, 3 and the default; stage
registers on, off and the default), argmax index and one-hot, exhaustive runs of tiny
configurations, and one configuration per parameter set of the committed reference cases.
"""

from __future__ import annotations

import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from shiftmax.sim.config import SimConfig
from shiftmax.sim.runner import REPOSITORY, SimResult, rerun_command, simulate
from shiftmax.sim.vectors import reference_configurations

__all__ = ["MatrixEntry", "MATRIX", "matrix", "run_matrix", "summary_table"]


@dataclass(frozen=True)
class MatrixEntry:
    """A configuration and how many random vectors its main stream test sends."""

    config: SimConfig
    vectors: int


def _shiftmax(vectors: int, **params) -> MatrixEntry:
    return MatrixEntry(SimConfig(unit="shiftmax", **params), vectors)


def _argmax(vectors: int, **params) -> MatrixEntry:
    return MatrixEntry(SimConfig(unit="argmax", **params), vectors)


#: The fixed part of the matrix. Vector counts keep the whole run on Icarus near 10 minutes.
MATRIX: tuple[MatrixEntry, ...] = (
    # The reference configuration (defaults: E=10, B=32, exact) and its quantizeml twin.
    _shiftmax(2000, n=10, value_bits=7),
    _shiftmax(2000, n=10, value_bits=7, round_log2="quantizeml"),
    # Lane counts at both ends.
    _shiftmax(300, n=1, value_bits=7, register_every=1, stage_registers=True),
    _shiftmax(20, n=1000, value_bits=7, round_log2="quantizeml"),
    # frac_bits: negative, positive, per lane (mixed signs).
    _shiftmax(1500, n=8, value_bits=5, frac_bits=-2, exp_bitwidth=6, buffer_bitwidth=20),
    _shiftmax(1500, n=12, value_bits=7, frac_bits=3, exp_bitwidth=4, buffer_bitwidth=10,
              round_log2="quantizeml"),
    _shiftmax(1500, n=4, value_bits=6, frac_bits=(-2, 1, 0, 3), exp_bitwidth=5,
              buffer_bitwidth=12),
    # B = 2e + 2 (the sum clamps as soon as two lanes tie at the maximum), and wide buffers.
    _shiftmax(1500, n=16, value_bits=7, exp_bitwidth=8, buffer_bitwidth=18,
              round_log2="quantizeml"),
    _shiftmax(1000, n=5, value_bits=15, frac_bits=8, exp_bitwidth=12, buffer_bitwidth=33,
              round_log2="quantizeml"),
    _shiftmax(500, n=64, value_bits=9, exp_bitwidth=10, buffer_bitwidth=40),
    # Pipelining: purely combinational trees, a register after every level, in between.
    _shiftmax(1500, n=10, value_bits=7, register_every=0, stage_registers=False),
    _shiftmax(1500, n=10, value_bits=7, register_every=1, stage_registers=True),
    _shiftmax(1000, n=33, value_bits=4, frac_bits=1, exp_bitwidth=6, buffer_bitwidth=16,
              register_every=2, stage_registers=False),
    _shiftmax(1000, n=20, value_bits=7, exp_bitwidth=7, buffer_bitwidth=16,
              register_every=3, stage_registers=True, round_log2="quantizeml"),
    # Tiny configurations, every input vector.
    _shiftmax(200, n=3, value_bits=2, exp_bitwidth=2, buffer_bitwidth=6),
    _shiftmax(200, n=2, value_bits=3, exp_bitwidth=3, buffer_bitwidth=8, round_log2="quantizeml",
              register_every=0, stage_registers=False),
    _shiftmax(200, n=3, value_bits=3, frac_bits=1, exp_bitwidth=1, buffer_bitwidth=4,
              register_every=1, stage_registers=True),
    # argmax: both outputs, both ends of N, every pipelining option.
    _argmax(2000, n=10, value_bits=7),
    _argmax(2000, n=10, value_bits=7, output="onehot"),
    _argmax(300, n=2, value_bits=7),  # the generator's smallest argmax
    _argmax(30, n=1000, value_bits=7, output="index"),
    _argmax(200, n=3, value_bits=2, register_every=0, stage_registers=False),
    _argmax(200, n=3, value_bits=3, output="onehot", register_every=1, stage_registers=True),
    _argmax(1500, n=17, value_bits=15, register_every=2, stage_registers=False),
    _argmax(1000, n=64, value_bits=3, output="onehot", register_every=3),
    # argmax folded: the target configurations (one lane, two lanes per cycle), a short padded
    # last part with one-hot output, and a wide fold.
    _argmax(500, n=10, value_bits=15, register_every=1, lanes_per_cycle=1),
    _argmax(500, n=10, value_bits=15, register_every=1, lanes_per_cycle=2),
    _argmax(500, n=11, value_bits=3, output="onehot", lanes_per_cycle=4,
            register_every=0, stage_registers=False),
    _argmax(30, n=197, value_bits=7, lanes_per_cycle=16),
)


#: Reference parameter sets with more lanes are left out (one N = 1000 configuration on
#: Icarus takes about two minutes); their rows of the default arithmetic run in MATRIX.
REFERENCE_MAX_LANES = 200


def matrix(reference: bool = True) -> list[MatrixEntry]:
    """The fixed matrix plus one default-pipelined configuration per reference parameter set
    (up to ``REFERENCE_MAX_LANES`` lanes) not already in it; the reference vectors run there."""
    entries = list(MATRIX)
    if reference:
        known = {(e.config.n, e.config.value_bits, e.config.frac_bits,
                  e.config.exp_bitwidth or 10, e.config.buffer_bitwidth or 32)
                 for e in entries if e.config.unit == "shiftmax"}
        for params in reference_configurations(REPOSITORY / "tests"):
            key = tuple(params[name] for name in ("n", "value_bits", "frac_bits",
                                                  "exp_bitwidth", "buffer_bitwidth"))
            if key not in known and params["n"] <= REFERENCE_MAX_LANES:
                known.add(key)
                entries.append(_shiftmax(100, **params))
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


def run_matrix(entries: list[MatrixEntry], *, simulator: str, seed: int, jobs: int = 1,
               scale: float = 1.0, out=sys.stdout) -> list[SimResult]:
    """Run every entry (``jobs`` at a time), printing a progress line as each one ends."""
    count = len(entries)
    started = time.monotonic()

    def one(numbered: tuple[int, MatrixEntry]) -> SimResult:
        number, entry = numbered
        result = simulate(entry.config, simulator=simulator, seed=seed,
                          vectors=max(1, int(entry.vectors * scale)))
        status = "PASS" if result.passed else "FAIL"
        print(f"[{number:2d}/{count}] {status} {entry.config.describe():55s} "
              f"{result.vectors:6d} vectors {result.seconds:6.1f} s "
              f"(elapsed {time.monotonic() - started:.0f} s)", file=out, flush=True)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, enumerate(entries, 1)))


def report_failures(results: list[SimResult], out=sys.stdout) -> None:
    """The message of every failed run and the ``make sim`` line that repeats it (the full
    messages are in each run's results.xml)."""
    for result in results:
        if result.passed:
            continue
        print(f"\nFAILED {result.config.describe()} on {result.simulator} "
              f"(seed {result.seed}, folder {_relative(result.directory)}):", file=out)
        print(_indent(result.failure_text()), file=out)
        print(f"  re-run: {rerun_command(result.config, result.simulator, result.seed)}",
              file=out)


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

