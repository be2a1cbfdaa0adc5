"""cocotb tests of one generated shiftmax or argmax unit against the golden model.

The unit under test is described by its sidecar JSON (``shiftmax verilog`` writes it beside
the Verilog). Settings come from the environment:

- ``SHIFTMAX_SIM_SIDECAR``: path of the sidecar JSON (required).
- ``SHIFTMAX_SIM_VECTORS``: random vectors of the main stream test (default 1000).
- ``SHIFTMAX_SIM_EXHAUSTIVE_LIMIT``: run every input vector when there are at most this many
  (default 4096).
- ``SHIFTMAX_SIM_REPORT``: optional JSON-lines file; each test appends the vectors it checked.
- ``SHIFTMAX_SIM_BENCH_VECTORS``: when set, only ``bench_full_throughput`` runs (tvalid and
  tready held high, every output still checked): what ``make bench-sim`` measures.
- ``SHIFTMAX_SIM_TESTS_DIR``: where ``reference.py`` lives (default: ``tests/`` under the
  current directory; without it the reference test is skipped).
- ``COCOTB_RANDOM_SEED``: cocotb's seed; every test derives its own generator from it, so one
  seed reproduces a whole run.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from pathlib import Path

import cocotb
import numpy as np

from shiftmax.sim.axis import AxisHarness, StreamReport
from shiftmax.sim.ready_rules import ready_rule
from shiftmax.sim.vectors import (
    UnitShape,
    corner_inputs,
    exhaustive_inputs,
    pack_outputs,
    pack_rows,
    random_inputs,
    ref_outputs,
    reference_inputs,
    unpack_outputs,
)

SIDECAR = json.loads(Path(os.environ["SHIFTMAX_SIM_SIDECAR"]).read_text())
SHAPE = UnitShape.from_sidecar(SIDECAR)
LATENCY = int(SIDECAR["latency"])
INPUT_CYCLES = int(SIDECAR["input_cycles"])
RANDOM_VECTORS = int(os.environ.get("SHIFTMAX_SIM_VECTORS", "1000"))
EXHAUSTIVE_LIMIT = int(os.environ.get("SHIFTMAX_SIM_EXHAUSTIVE_LIMIT", "4096"))
TESTS_DIR = Path(os.environ.get("SHIFTMAX_SIM_TESTS_DIR") or Path.cwd() / "tests")
EXHAUSTIVE = exhaustive_inputs(SHAPE, EXHAUSTIVE_LIMIT)
BENCH_VECTORS = int(os.environ.get("SHIFTMAX_SIM_BENCH_VECTORS", "0"))
REGRESSION = BENCH_VECTORS == 0
try:
    REFERENCE_ROWS, REFERENCE_CASES = reference_inputs(SHAPE, TESTS_DIR)
    REFERENCE_ERROR = ""
except Exception as error:  # reported by test_reference_vectors, not at import
    REFERENCE_ROWS, REFERENCE_CASES = np.zeros((1, SHAPE.n), dtype=np.int64), []
    REFERENCE_ERROR = f"loading the reference cases failed: {type(error).__name__}: {error}"


def seeded_rng(name: str) -> np.random.Generator:
    """A generator for one test, derived from cocotb's seed and the test's name."""
    return np.random.default_rng([cocotb.RANDOM_SEED, zlib.crc32(name.encode())])


async def rtl_stream(dut, name: str, inputs: np.ndarray, *, valid_probability: float,
                     ready_probability: float, reset_after: int | None = None,
                     rng: np.random.Generator | None = None,
                     harness: AxisHarness | None = None) -> StreamReport:
    """Stream ``inputs`` through the DUT and check each output against the golden model.

    Without ``harness`` a new one starts the clock and resets the DUT; pass the harness of an
    earlier stream of the same test to continue on the running clock.

    Fails with the input vector, the expected and the actual output (integer lists) of every
    mismatching beat (the first few), and on any protocol violation.
    """
    rng = rng if rng is not None else seeded_rng(name)
    inputs = np.asarray(inputs, dtype=np.int64)
    expected = ref_outputs(SHAPE, inputs)
    words = pack_rows(inputs, SHAPE.input_width)
    expected_words = pack_outputs(SHAPE, expected)

    def describe(index: int, actual_word: int | None) -> str:
        actual = "nothing" if actual_word is None else unpack_outputs(SHAPE, actual_word)
        return (f"{SIDECAR['unit']} vector #{index}: input {inputs[index].tolist()} "
                f"expected {expected[index].tolist()} actual {actual}")

    if harness is None:
        harness = AxisHarness(dut, rng, ready_rule=ready_rule(SIDECAR))
        await harness.start()
    started = time.perf_counter()
    try:
        report = await harness.run(words, expected_words, describe,
                                   valid_probability=valid_probability,
                                   ready_probability=ready_probability, reset_after=reset_after,
                                   input_cycles=INPUT_CYCLES)
    finally:
        if harness.last_report is not None:  # count what was checked, failing or not
            harness.last_report.seconds = time.perf_counter() - started
            record(name, harness.last_report)
    short = [lat for lat in report.latencies if lat < LATENCY]
    assert not short, (f"{len(short)} beat(s) came out after {min(short)} cycles, less than "
                       f"the sidecar's latency {LATENCY}")
    return report


def record(name: str, report: StreamReport) -> None:
    path = os.environ.get("SHIFTMAX_SIM_REPORT")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"test": name, "vectors": report.vectors,
                                  "checked": report.checked, "cycles": report.cycles,
                                  "seconds": round(report.seconds, 3)}) + "\n")


@cocotb.test(skip=not REGRESSION)
async def test_latency_matches_sidecar(dut):
    """With ready held high, a beat taken at edge t comes out at edge t + latency."""
    rng = seeded_rng("latency")
    inputs = random_inputs(SHAPE, 2 * LATENCY + 8, rng)
    report = await rtl_stream(dut, "latency", inputs, valid_probability=1.0,
                              ready_probability=1.0, rng=rng)
    assert set(report.latencies) == {LATENCY}, (
        f"latencies seen {sorted(set(report.latencies))}, sidecar says {LATENCY}")
    # Full throughput: one beat per input_cycles cycles (1 unless the unit is folded), plus
    # the pipeline fill and the silence check.
    assert report.cycles <= INPUT_CYCLES * len(inputs) + LATENCY + 16, (
        f"{len(inputs)} beats took {report.cycles} cycles with tvalid and tready held high "
        f"(the sidecar's input_cycles: {INPUT_CYCLES})")


@cocotb.test(skip=not REGRESSION)
async def test_random_vectors_with_gaps_and_backpressure(dut):
    """Random vectors, random tvalid gaps and random m_axis_tready."""
    rng = seeded_rng("random")
    await rtl_stream(dut, "random", random_inputs(SHAPE, RANDOM_VECTORS, rng),
                     valid_probability=0.7, ready_probability=0.6, rng=rng)


@cocotb.test(skip=not REGRESSION)
async def test_directed_corners(dut):
    """All-min, all-max, saturation, ties, the 2e cut-off, the round_log2 thresholds.

    At full throughput (the fewest cycles on wide designs): the random and reset tests cover
    gaps and backpressure."""
    rng = seeded_rng("corners")
    await rtl_stream(dut, "corners", corner_inputs(SHAPE, rng), valid_probability=1.0,
                     ready_probability=1.0, rng=rng)


@cocotb.test(skip=not REGRESSION or len(REFERENCE_ROWS) == 0)
async def test_reference_vectors(dut):
    """The committed reference cases whose parameters match this unit, at full throughput."""
    assert not REFERENCE_ERROR, REFERENCE_ERROR
    dut._log.info("reference cases: %s", ", ".join(REFERENCE_CASES))
    await rtl_stream(dut, "reference", REFERENCE_ROWS, valid_probability=1.0,
                     ready_probability=1.0)


@cocotb.test(skip=not REGRESSION or EXHAUSTIVE is None)
async def test_every_input_vector(dut):
    """Every possible input vector (tiny configurations only), at full throughput."""
    await rtl_stream(dut, "exhaustive", EXHAUSTIVE, valid_probability=1.0,
                     ready_probability=0.9)


@cocotb.test(skip=not REGRESSION)
async def test_reset_mid_stream_drops_beats_in_flight(dut):
    """A reset in mid-stream empties the pipeline: no stale beat after it, then recovery."""
    rng = seeded_rng("reset")
    count = 2 * LATENCY + 10
    harness = AxisHarness(dut, rng, ready_rule=ready_rule(SIDECAR))
    await harness.start()
    # Full pipeline, then a stalled output stage.
    for ready_probability in (1.0, 0.3):
        inputs = random_inputs(SHAPE, count, rng)
        report = await rtl_stream(dut, f"reset-ready{ready_probability}", inputs,
                                  valid_probability=0.9, ready_probability=ready_probability,
                                  reset_after=int(rng.integers(count // 3, 2 * count // 3)),
                                  rng=rng, harness=harness)
        dut._log.info("reset dropped %d beat(s) in flight", report.dropped_by_reset)


@cocotb.test(skip=REGRESSION)
async def bench_full_throughput(dut):
    """Benchmark: SHIFTMAX_SIM_BENCH_VECTORS random vectors, one per cycle, all checked."""
    rng = seeded_rng("bench")
    await rtl_stream(dut, "bench", random_inputs(SHAPE, BENCH_VECTORS, rng),
                     valid_probability=1.0, ready_probability=1.0, rng=rng)
