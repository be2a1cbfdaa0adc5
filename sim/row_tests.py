"""cocotb tests of one generated row-framed unit against the framing model and the golden model.

For the streaming units (``lanes_per_beat`` P < n: rows of R beats with tlast, output tlast
and tuser) and the one-beat units with a mask (``s_axis_tuser``, R = 1). The unit under test
is described by its sidecar JSON (``unit``, ``params``, ``latency``, ``beats_per_row``,
``input_cycles``, ``ports``). Settings come from the environment:

- ``SHIFTMAX_SIM_SIDECAR``: path of the sidecar JSON (required).
- ``SHIFTMAX_SIM_VECTORS``: random rows of the main stream test (default 300).
- ``SHIFTMAX_SIM_REPORT``: optional JSON-lines file; each test appends the rows it checked,
  the beats, the cycles, the latencies and the beat rates it measured.
- ``COCOTB_RANDOM_SEED``: cocotb's seed; every test derives its own generator from it, so one
  seed reproduces a whole run.

Expected outputs come from :mod:`shiftmax.sim.framing` (which rows the unit forms from the
beats it takes) and the golden model; see ``docs/streaming-sim.md``.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from pathlib import Path

import cocotb
import numpy as np

from shiftmax.sim.framing import (
    RowShape,
    SourceRow,
    early_tlast_row,
    missing_tlast_row,
    well_formed_row,
)
from shiftmax.sim.ready_rules import row_ready_rule
from shiftmax.sim.rows import PendingRow, RowHarness, RowReport, RowSample
from shiftmax.sim.threshold_rows import threshold_crossing_rows
from shiftmax.sim.vectors import corner_inputs, random_inputs

SIDECAR = json.loads(Path(os.environ["SHIFTMAX_SIM_SIDECAR"]).read_text())
SHAPE = RowShape.from_sidecar(SIDECAR)
PORTS = SIDECAR.get("ports", {})
LATENCY = int(SIDECAR["latency"])
BEATS_PER_ROW = int(SIDECAR.get("beats_per_row", 1))
INPUT_CYCLES = int(SIDECAR.get("input_cycles", 1))
RANDOM_ROWS = int(os.environ.get("SHIFTMAX_SIM_VECTORS", "300"))
R = SHAPE.beats_per_row
#: About how many input beats a directed test sends at most: rows of N = 4096 in beats of one
#: lane take a second of Icarus per row, so wide streaming units get fewer directed rows.
BEAT_BUDGET = 40_000


def bounded(count: int, minimum: int = 4) -> int:
    """``count`` rows, or fewer (not below ``minimum``) when they exceed the beat budget."""
    return min(count, max(minimum, BEAT_BUDGET // R))


def subset(rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The rows within the beat budget, in their order (the first ones when all fit)."""
    keep = bounded(len(rows), 1)
    if keep == len(rows):
        return rows
    return rows[np.sort(rng.choice(len(rows), size=keep, replace=False))]


#: Rows of the malformed-row test (the fixed opening has 10).
MALFORMED_ROWS = bounded(min(60, max(RANDOM_ROWS, 12)), 10)
PARTIAL = SHAPE.n % SHAPE.lanes_per_beat
FULL_CARE = sum(((1 << width) - 1) << offset for _, _, offset, width in SHAPE.field_slots())
THRESHOLD_ROWS, THRESHOLD_TARGETS = threshold_crossing_rows(SHAPE) \
    if SHAPE.unit == "shiftmax" else (np.zeros((0, SHAPE.n), dtype=np.int64), [])


def seeded_rng(name: str) -> np.random.Generator:
    """A generator for one test, derived from cocotb's seed and the test's name."""
    return np.random.default_rng([cocotb.RANDOM_SEED, zlib.crc32(name.encode())])


# --- rows ---------------------------------------------------------------------------------

def ref_masks(kind: str, count: int, rng: np.random.Generator) -> np.ndarray | None:
    """Masks of ``count`` rows (None for a unit without a mask input): ``"none"``,
    ``"random"`` (each row its own density), ``"causal"`` (row i keeps its first
    ``i mod n + 1`` elements), ``"full"`` (every element masked)."""
    if not SHAPE.mask:
        return None
    n = SHAPE.n
    if kind == "none":
        return np.zeros((count, n), dtype=bool)
    if kind == "random":
        return rng.random((count, n)) < rng.random((count, 1))
    if kind == "causal":
        return np.arange(n) > (np.arange(count) % n)[:, np.newaxis]
    if kind == "full":
        return np.ones((count, n), dtype=bool)
    raise ValueError(f"kind must be none, random, causal or full, not {kind!r}")


def well_formed(inputs: np.ndarray, masks: np.ndarray | None,
                rng: np.random.Generator) -> list[SourceRow]:
    """Each input row as R beats with tlast on the last (random lanes past n)."""
    return [well_formed_row(SHAPE, row, None if masks is None else masks[i], rng)
            for i, row in enumerate(inputs)]


def mixed_masks(count: int, rng: np.random.Generator) -> np.ndarray | None:
    """Rows with no, random, causal and full masks, in random order."""
    if not SHAPE.mask:
        return None
    kinds = rng.choice(["none", "random", "causal", "full"], size=count, p=[.3, .4, .2, .1])
    return np.stack([ref_masks(str(kind), 1, rng)[0] if kind != "causal" else
                     ref_masks("causal", i + 1, rng)[i] for i, kind in enumerate(kinds)])


# --- running and reporting ----------------------------------------------------------------

def flags(last: int, user: int) -> str:
    """`` tlast L tuser U`` for the output ports the unit has."""
    return (f" tlast {last}" if "m_axis_tlast" in PORTS else "") + \
        (f" tuser {user}" if "m_axis_tuser" in PORTS else "")


def describe_row(harness: RowHarness):
    """The formatter of a mismatching row: the input row, expected and actual integers."""
    source = harness.row_source

    def describe(row: PendingRow, beat: int | None, sample: RowSample | None) -> str:
        expectation, formed = row.expectation, row.expectation.row
        origin = int(source.row_of_beat[row.source_beats[0]]) if row.source_beats else -1
        masked = np.flatnonzero(formed.mask).tolist()
        text = (f"{SIDECAR['unit']} row #{row.number} (source row #{origin}, "
                f"{source.kinds[origin] if origin >= 0 else '?'}; formed "
                f"{formed.reason or 'well-formed'} from beats {row.source_beats}): "
                f"input {formed.elements.tolist()} masked {masked} "
                f"expected {expectation.values}")
        if "m_axis_tuser" in PORTS:
            text += f" tuser {int(expectation.flagged)}"
        if sample is None:
            return text + " actual nothing"
        want = expectation.beats[beat]
        actual = "X" if sample.m_data is None else SHAPE.unpack_output(sample.m_data)
        unchecked = "" if want.care == FULL_CARE else \
            " (the values of elements that never came in are not checked)"
        return (text + f"; output beat {beat} of {len(expectation.beats)}: expected "
                f"{SHAPE.unpack_output(want.data)}{flags(want.last, want.user)}, "
                f"actual {actual}{flags(sample.m_last, sample.m_user)}{unchecked}")

    return describe


async def rtl_rows(dut, name: str, rows: list[SourceRow], *, valid_probability: float,
                   ready_probability: float, reset_after: int | None = None,
                   rng: np.random.Generator | None = None,
                   harness: RowHarness | None = None) -> RowReport:
    """Send ``rows`` through the DUT and check every output beat against the models.

    Without ``harness`` a new one starts the clock and resets the DUT; pass the harness of an
    earlier run of the same test to continue on the running clock. Fails with the input row,
    the expected and the actual integers of every mismatching beat (the first few), and on
    any protocol violation; and when a well-formed row came out sooner than the sidecar's
    latency.
    """
    rng = rng if rng is not None else seeded_rng(name)
    if harness is None:
        harness = RowHarness(dut, rng, SHAPE, latency=LATENCY, input_cycles=INPUT_CYCLES,
                             ready_rule=row_ready_rule(SIDECAR))
        await harness.start()
    started = time.perf_counter()
    try:
        report = await harness.run(rows, describe_row(harness),
                                   valid_probability=valid_probability,
                                   ready_probability=ready_probability,
                                   reset_after=reset_after)
    finally:
        if harness.last_report is not None:  # count what was checked, failing or not
            harness.last_report.seconds = time.perf_counter() - started
            record(name, len(rows), harness.last_report)
    short = [lat for lat in report.latencies if lat < LATENCY]
    assert not short, (f"{len(short)} row(s) came out after {min(short)} cycles, less than "
                       f"the sidecar's latency {LATENCY}")
    return report


def record(name: str, sent: int, report: RowReport) -> None:
    path = os.environ.get("SHIFTMAX_SIM_REPORT")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({
                "test": name, "vectors": sent, "checked": report.checked,
                "rows_formed": report.rows, "beats_in": report.beats_in,
                "beats_out": report.beats_out, "cycles": report.cycles,
                "seconds": round(report.seconds, 3),
                "latencies": sorted(set(report.latencies)),
                "malformed_latencies": sorted(set(report.malformed_latencies)),
                "input_rate": round(report.input_rate, 4),
                "output_rate": round(report.output_rate, 4)}) + "\n")


# --- tests --------------------------------------------------------------------------------

@cocotb.test()
async def test_rows_back_to_back_at_full_throughput(dut):
    """Rows back to back with tvalid and tready high: one beat per clock in, every row's
    latency the sidecar's, and R beats per row as the sidecar says."""
    assert BEATS_PER_ROW == R, f"sidecar beats_per_row {BEATS_PER_ROW}, ceil(n/P) is {R}"
    rng = seeded_rng("throughput")
    count = max(8, 2 * -(-LATENCY // R) + 8)
    rows = well_formed(random_inputs(SHAPE, count, rng), ref_masks("none", count, rng), rng)
    report = await rtl_rows(dut, "throughput", rows, valid_probability=1.0,
                            ready_probability=1.0, rng=rng)
    dut._log.info("latency %s, %.3f input beats/clock, %.3f output beats/clock",
                  sorted(set(report.latencies)), report.input_rate, report.output_rate)
    assert set(report.latencies) == {LATENCY}, (
        f"latencies seen {sorted(set(report.latencies))}, sidecar says {LATENCY}")
    span = report.input_edges[-1] - report.input_edges[0] + 1
    assert span <= INPUT_CYCLES * report.beats_in - (INPUT_CYCLES - 1), (
        f"{report.beats_in} input beats took {span} clocks with tvalid and tready high "
        f"(the sidecar's input_cycles: {INPUT_CYCLES})")
    if SHAPE.unit == "shiftmax" and INPUT_CYCLES == 1:
        span = report.output_edges[-1] - report.output_edges[0] + 1
        assert span == report.beats_out, (
            f"{report.beats_out} output beats took {span} clocks with m_axis_tready high")


@cocotb.test()
async def test_random_rows_with_gaps_and_backpressure(dut):
    """Random rows (and masks: none, random, causal, full), random tvalid gaps and random
    m_axis_tready."""
    rng = seeded_rng("random")
    inputs = random_inputs(SHAPE, RANDOM_ROWS, rng)
    await rtl_rows(dut, "random", well_formed(inputs, mixed_masks(RANDOM_ROWS, rng), rng),
                   valid_probability=0.7, ready_probability=0.6, rng=rng)


@cocotb.test()
async def test_directed_corners(dut):
    """All-min, all-max, ties, the 2e cut-off and the round_log2 thresholds, as rows (those
    of them within the beat budget for long rows)."""
    rng = seeded_rng("corners")
    await rtl_rows(dut, "corners", well_formed(subset(corner_inputs(SHAPE, rng), rng), None, rng),
                   valid_probability=1.0, ready_probability=0.9, rng=rng)


@cocotb.test()
async def test_reset_mid_row_drops_rows_in_flight(dut):
    """A reset in the middle of a row empties the unit and restarts the framing: nothing
    that was sent before it comes out after it, and the rows sent after it are whole."""
    rng = seeded_rng("reset")
    count = bounded(2 * -(-LATENCY // R) + 10)
    harness = RowHarness(dut, rng, SHAPE, latency=LATENCY, input_cycles=INPUT_CYCLES,
                         ready_rule=row_ready_rule(SIDECAR))
    await harness.start()
    for ready_probability in (1.0, 0.3):
        inputs = random_inputs(SHAPE, count, rng)
        rows = well_formed(inputs, mixed_masks(count, rng), rng)
        row = int(rng.integers(count // 3, 2 * count // 3))
        inside = int(rng.integers(1, R)) if R > 1 else 0
        report = await rtl_rows(dut, f"reset-ready{ready_probability}", rows,
                                valid_probability=0.9, ready_probability=ready_probability,
                                reset_after=row * R + inside, rng=rng, harness=harness)
        dut._log.info("reset dropped %d row(s) in flight", report.dropped_by_reset)


@cocotb.test(skip=not PARTIAL)
async def test_lanes_past_n_in_the_last_beat_are_ignored(dut):
    """The last beat's lanes past n hold the largest value, unmasked: they must not count."""
    rng = seeded_rng("partial")
    count = bounded(min(40, max(RANDOM_ROWS, 8)))
    inputs = rng.integers(SHAPE.input_low, SHAPE.input_low + 24, size=(count, SHAPE.n))
    inputs = np.minimum(inputs, SHAPE.input_high)
    rows = []
    for i, source in enumerate(well_formed(inputs, mixed_masks(count, rng), None)):
        source.data[-1, PARTIAL:] = SHAPE.input_high if i % 2 else \
            rng.integers(SHAPE.input_low, SHAPE.input_high + 1, size=SHAPE.lanes_per_beat
                         - PARTIAL)
        source.mask[-1, PARTIAL:] = False
        rows.append(source)
    await rtl_rows(dut, "partial", rows, valid_probability=0.9, ready_probability=0.8,
                   rng=rng)


@cocotb.test(skip=not SHAPE.mask)
async def test_masks_none_random_causal_and_full(dut):
    """Blocks of rows with no mask, random masks, causal masks (row i keeps its first i + 1
    elements) and every element masked."""
    rng = seeded_rng("masks")
    per_kind = min(max(2 * SHAPE.n, 16), max(RANDOM_ROWS // 4, 8))
    count = bounded(4 * per_kind, 8) // 4  # the four kinds share the beat budget
    rows = []
    for kind in ("none", "random", "causal", "full"):
        rows += well_formed(random_inputs(SHAPE, count, rng), ref_masks(kind, count, rng), rng)
    await rtl_rows(dut, "masks", rows, valid_probability=0.9, ready_probability=0.8, rng=rng)


def minimum_rows(rng: np.random.Generator) -> list[SourceRow]:
    """Rows whose every present element is the smallest input, with each kind of absent
    element: lanes past n (a well-formed row), a row cut short by an early tlast after 1,
    R - 1 and a few beats in between, and (with a mask) masks that keep one element (the
    first, the last, one at random) or a random part of the row."""
    low = np.full(SHAPE.n, SHAPE.input_low, dtype=np.int64)
    masks = [None]
    if SHAPE.mask:
        kept = sorted({0, SHAPE.n - 1, int(rng.integers(SHAPE.n))})
        masks = [np.arange(SHAPE.n) != lane for lane in kept]
        masks += [rng.random(SHAPE.n) < 0.5 for _ in range(2)]
    rows = [well_formed_row(SHAPE, low, mask, rng) for mask in masks]
    cuts = sorted({1, R - 1, *rng.integers(1, R, size=4).tolist()}) if R > 1 else []
    rows += [early_tlast_row(SHAPE, low, masks[-1], beats, rng) for beats in cuts]
    return rows


@cocotb.test()
async def test_absent_elements_rank_below_a_row_at_the_minimum(dut):
    """Rows whose every present element is the smallest input: an absent element must still
    rank below them (or count for nothing), which random rows almost never check: an absent
    lane that carried the smallest input plus one would win such a row."""
    rng = seeded_rng("minimum")
    await rtl_rows(dut, "minimum", minimum_rows(rng), valid_probability=1.0,
                   ready_probability=0.8, rng=rng)


def malformed_mix(count: int, rng: np.random.Generator) -> list[SourceRow]:
    """Early-tlast and missing-tlast rows between well-formed ones (a fixed opening with
    malformed rows back to back, then at random)."""
    inputs = random_inputs(SHAPE, count, rng)
    masks = mixed_masks(count, rng)
    opening = "wewmweemmw"
    rows = []
    for i in range(count):
        kind = opening[i] if i < len(opening) else rng.choice(list("wwem"))
        mask = None if masks is None else masks[i]
        if kind == "e":
            rows.append(early_tlast_row(SHAPE, inputs[i], mask, int(rng.integers(1, R)), rng))
        elif kind == "m":
            rows.append(missing_tlast_row(SHAPE, inputs[i], mask, int(rng.integers(1, 4)),
                                          rng))
        else:
            rows.append(well_formed_row(SHAPE, inputs[i], mask, rng))
    return rows


@cocotb.test(skip=not SHAPE.streaming)
async def test_malformed_rows_between_well_formed_ones(dut):
    """Early tlast (missing elements masked) and missing tlast (the beats up to the next
    tlast dropped): one output row each, flagged on m_axis_tuser; the well-formed rows
    around them unharmed. Once at full rate, once with gaps and backpressure."""
    rng = seeded_rng("malformed")
    harness = RowHarness(dut, rng, SHAPE, latency=LATENCY, input_cycles=INPUT_CYCLES,
                         ready_rule=row_ready_rule(SIDECAR))
    await harness.start()
    for name, valid, ready in (("malformed-full", 1.0, 1.0), ("malformed-gaps", 0.8, 0.7)):
        report = await rtl_rows(dut, name, malformed_mix(MALFORMED_ROWS, rng),
                                valid_probability=valid, ready_probability=ready, rng=rng,
                                harness=harness)
        assert report.rows == MALFORMED_ROWS, (
            f"the unit formed {report.rows} rows from {MALFORMED_ROWS}")


@cocotb.test(skip=len(THRESHOLD_ROWS) == 0)
async def test_round_log2_threshold_rows_a_running_sum_gets_wrong(dut):
    """Rows whose exact sum is T[k] - 1 (and T[k]) while a running sum shifted on each new
    maximum would reach T[k] (and T[k] + 1): the unit must round the exact sum."""
    rng = seeded_rng("thresholds")
    dut._log.info("%d threshold rows, sums %s", len(THRESHOLD_ROWS), THRESHOLD_TARGETS)
    await rtl_rows(dut, "thresholds", well_formed(subset(THRESHOLD_ROWS, rng), None, rng),
                   valid_probability=1.0, ready_probability=1.0, rng=rng)


@cocotb.test(skip=not SHAPE.streaming)
async def test_one_beat_rows_back_to_back_under_backpressure(dut):
    """Rows cut short by a tlast on their first beat, back to back while m_axis_tready is
    mostly low, then at random: the shortest rows hold the most rows in flight for the beats
    taken (each formed row takes a credit of the output FIFO), so a credit count or a FIFO
    bound one off, which longer rows never reach, shows in ``s_axis_tready`` or a lost row."""
    rng = seeded_rng("one-beat-rows")
    count = bounded(max(4 * LATENCY, 32), 8)
    harness = RowHarness(dut, rng, SHAPE, latency=LATENCY, input_cycles=INPUT_CYCLES,
                         ready_rule=row_ready_rule(SIDECAR))
    await harness.start()
    for name, ready in (("one-beat-rows-stalled", 0.1), ("one-beat-rows-random", 0.5)):
        inputs = random_inputs(SHAPE, count, rng)
        masks = mixed_masks(count, rng)
        rows = [early_tlast_row(SHAPE, inputs[i], None if masks is None else masks[i], 1, rng)
                for i in range(count)]
        report = await rtl_rows(dut, name, rows, valid_probability=1.0,
                                ready_probability=ready, rng=rng, harness=harness)
        assert report.rows == count, f"the unit formed {report.rows} rows from {count}"
