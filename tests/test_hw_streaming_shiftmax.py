# amaranth: UnusedElaboratable=no
"""The streaming Shiftmax in Amaranth's simulator: golden rows, framing, masks, throughput."""

import os

import numpy as np
import pytest
from streaming_bench import check_rows, ref_rows, row_masks, rtl_rows, source_rows

from shiftmax.golden import FixedPoint, exp_terms, floor_input, round_log2
from shiftmax.hw.streaming_shiftmax import StreamingShiftmax
from shiftmax.sim.framing import RowShape, beats_of_rows
from shiftmax.sim.threshold_rows import threshold_crossing_rows

FULL = os.environ.get("SHIFTMAX_HW_FULL") == "1"


def ref_streaming_shiftmax(params: dict, data, mask, last):
    return ref_rows("shiftmax", params, data, mask if params.get("mask") else None, last)


def rtl_streaming_shiftmax(params: dict, data, mask, last, **stream):
    return rtl_rows(StreamingShiftmax(**params), data, mask, last, **stream)


def run_rows(params: dict, elements: np.ndarray, masks=None, kinds=None, *, seed=0,
             gap=0.0, stall=0.0, **stream):
    """Stream rows (with their framing ``kinds``) and check every output beat."""
    shape = RowShape("shiftmax", params)
    rng = np.random.default_rng(seed)
    kinds = kinds or ["good"] * len(elements)
    rows = source_rows(shape, elements, masks, kinds, rng)
    data, mask, last, _ = beats_of_rows(rows)
    _, expected, _ = ref_streaming_shiftmax(params, data, mask, last)
    run = rtl_streaming_shiftmax(params, data, mask, last, seed=seed, gap=gap, stall=stall,
                                 **stream)
    return expected, run, (data, mask, last)


def random_elements(params: dict, rows: int, rng) -> np.ndarray:
    vb = params["value_bits"]
    x = rng.integers(-(1 << vb), 1 << vb, size=(rows, params["n"]))
    x[::4] = np.maximum(x[::4] // 8 * 8, -(1 << vb))  # coarse values: ties and near ties
    return x


CONFIGS = [
    dict(n=10, value_bits=7, lanes_per_beat=3, exp_bitwidth=4, buffer_bitwidth=12),
    dict(n=9, value_bits=5, lanes_per_beat=8, exp_bitwidth=3, buffer_bitwidth=10),  # P = N-1
    dict(n=6, value_bits=3, lanes_per_beat=1, exp_bitwidth=2, buffer_bitwidth=8),   # P = 1
    dict(n=20, value_bits=7, lanes_per_beat=4, frac_bits=2, register_every=1),
    dict(n=13, value_bits=6, lanes_per_beat=5, frac_bits=-1, register_every=0,
         stage_registers=False, round_log2="quantizeml", exp_bitwidth=5, buffer_bitwidth=12),
    dict(n=16, value_bits=7, lanes_per_beat=4, mask=True, exp_bitwidth=6, buffer_bitwidth=16),
    # The free-running output pass with its credit-counted output FIFO.
    dict(n=10, value_bits=7, lanes_per_beat=3, exp_bitwidth=4, buffer_bitwidth=12,
         flow_control="fifo"),
    dict(n=9, value_bits=5, lanes_per_beat=8, exp_bitwidth=3, buffer_bitwidth=10, mask=True,
         flow_control="fifo", register_every=1),
]


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: "-".join(f"{v}" for v in p.values()))
def test_rows_back_to_back_match_golden_under_gaps_and_backpressure(params):
    rng = np.random.default_rng(params["n"])
    x = random_elements(params, 24, rng)
    masks = row_masks("random", 24, params["n"], rng) if params.get("mask") else None
    expected, run, _ = run_rows(params, x, masks, seed=3, gap=0.3, stall=0.4)
    check_rows(expected, run)


@pytest.mark.parametrize("kind", ["none", "random", "causal", "full"])
def test_masked_elements_take_no_part_and_output_zero(kind):
    params = dict(n=11, value_bits=7, lanes_per_beat=4, mask=True, exp_bitwidth=5,
                  buffer_bitwidth=14)
    rng = np.random.default_rng(7)
    x = random_elements(params, 14, rng)
    masks = row_masks(kind, 14, params["n"], rng)
    expected, run, _ = run_rows(params, x, masks, seed=1, gap=0.2, stall=0.3)
    check_rows(expected, run)
    if kind == "full":
        assert not any(run.data), "a fully masked row gives all-zero outputs"


@pytest.mark.parametrize("params", [CONFIGS[0], CONFIGS[5]], ids=["unmasked", "masked"])
def test_malformed_rows_are_flagged_and_good_neighbours_unharmed(params):
    rng = np.random.default_rng(5)
    kinds = ["good", "early", "good", "missing", "missing", "good", "early", "early", "good"]
    x = random_elements(params, len(kinds), rng)
    masks = row_masks("random", len(kinds), params["n"], rng) if params.get("mask") else None
    expected, run, _ = run_rows(params, x, masks, kinds, seed=2, gap=0.3, stall=0.3)
    check_rows(expected, run)
    flagged = [row.flagged for row in expected]
    assert flagged == [kind != "good" for kind in kinds]


@pytest.mark.parametrize("params", [CONFIGS[0], CONFIGS[6]], ids=["enable", "fifo"])
def test_reset_in_mid_row_empties_the_unit(params):
    rng = np.random.default_rng(9)
    x = random_elements(params, 12, rng)
    shape = RowShape("shiftmax", params)
    rows = source_rows(shape, x, None, ["good"] * 12, rng)
    data, mask, last, starts = beats_of_rows(rows)
    cut = starts[5] + 2  # in the middle of row 5
    run = rtl_streaming_shiftmax(params, data, mask, last, seed=4, gap=0.2, stall=0.5,
                                 reset_after=cut)
    # After the reset, the rest of row 5 arrives first: its beats form a malformed row.
    _, expected, _ = ref_streaming_shiftmax(params, data[cut:], mask[cut:], last[cut:])
    check_rows(expected, run)
    assert expected[0].flagged and not any(row.flagged for row in expected[1:])


@pytest.mark.parametrize("params", [CONFIGS[0], CONFIGS[1], CONFIGS[2], CONFIGS[4], CONFIGS[6],
                                    CONFIGS[7]],
                         ids=["p3", "p-n-1", "p1", "unregistered", "fifo", "fifo-p-n-1"])
def test_one_beat_per_clock_sustained_and_latency_as_documented(params):
    rng = np.random.default_rng(2)
    expected, run, (data, _, last) = run_rows(params, random_elements(params, 10, rng))
    check_rows(expected, run)
    unit = StreamingShiftmax(**params)
    r = unit.beats_per_row
    assert run.in_cycles == list(range(run.in_cycles[0], run.in_cycles[0] + len(data)))
    assert run.out_cycles == list(range(run.out_cycles[0], run.out_cycles[0] + len(data)))
    row_ends = [run.in_cycles[b] for b in np.flatnonzero(last)]
    first_out = run.out_cycles[::r]
    assert {o - i for i, o in zip(row_ends, first_out, strict=True)} == {unit.latency}


def ref_shifted_running_sum_log2(params: dict, x: np.ndarray) -> np.ndarray:
    """R of a tempting but wrong design (the mutant): a running sum of the terms against the
    running maximum, shifted right whenever a beat raises the maximum."""
    e, p = params.get("exp_bitwidth", 10), params["lanes_per_beat"]
    floored = floor_input(FixedPoint(x, params["value_bits"], params.get("frac_bits", 0)))
    sums = []
    for row in floored:
        top, total = None, 0
        for b in range(0, len(row), p):
            beat = row[b:b + p]
            new_top = int(beat.max()) if top is None else max(top, int(beat.max()))
            if top is not None:
                total >>= new_top - top
            top = new_top
            total += int(exp_terms(top - beat.astype(np.int64), e).sum())
        sums.append(min(total, (1 << (params.get("buffer_bitwidth", 32) - 1)) - 1))
    return round_log2(np.array(sums, dtype=np.int64), params.get("round_log2", "exact"))


def test_rows_where_a_shifted_running_sum_crosses_a_threshold_are_exact():
    params = dict(n=28, value_bits=7, lanes_per_beat=4)
    shape = RowShape("shiftmax", params)
    x, _ = threshold_crossing_rows(shape)
    assert len(x) >= 4
    # The mutant gets R wrong on the rows just below a threshold (so these rows catch it) ...
    exact_log2 = round_log2(np.array([ref_exact_sum(params, row) for row in x]), "exact")
    assert np.any(ref_shifted_running_sum_log2(params, x) != exact_log2)
    # ... and the unit gets every output right.
    expected, run, _ = run_rows(params, x, seed=1, gap=0.2, stall=0.2)
    check_rows(expected, run)


def ref_exact_sum(params: dict, row: np.ndarray) -> int:
    floored = floor_input(FixedPoint(row, params["value_bits"], params.get("frac_bits", 0)))
    terms = exp_terms(floored.max() - floored.astype(np.int64), params.get("exp_bitwidth", 10))
    return min(int(terms.sum()), (1 << (params.get("buffer_bitwidth", 32) - 1)) - 1)


def test_sum_clamps_once_at_the_row_end():
    # Every element equal: n * 2**(2e) exceeds 2**(B-1) - 1 only in the row's total.
    params = dict(n=12, value_bits=3, lanes_per_beat=5, exp_bitwidth=3, buffer_bitwidth=10)
    x = np.full((4, 12), 5)
    x[1, ::2] = -8
    x[2, :] = np.arange(12) % 4
    expected, run, _ = run_rows(params, x, seed=2, gap=0.1, stall=0.1)
    check_rows(expected, run)


def test_parameters_and_properties():
    unit = StreamingShiftmax(n=197, value_bits=7, lanes_per_beat=16, mask=True)
    assert unit.beats_per_row == 13 and unit.input_cycles == 1
    assert unit.flow_control == "fifo" and unit.memory_bits > 0  # the registry's default
    assert unit.params["lanes_per_beat"] == 16 and unit.params["mask"] is True
    assert set(unit.params) >= {"n", "value_bits", "frac_bits", "exp_bitwidth",
                                "buffer_bitwidth", "round_log2", "register_every",
                                "stage_registers", "flow_control", "lanes_per_beat", "mask"}
    layout = unit.i.payload.shape()
    assert [name for name, _ in layout] == ["data", "mask", "last"]
    assert [name for name, _ in unit.o.payload.shape()] == ["data", "last", "user"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(lanes_per_beat=None), "lanes_per_beat must be given"),
    (dict(lanes_per_beat=10), "lanes_per_beat must be at most 9"),
    (dict(lanes_per_beat=0), "lanes_per_beat must be at least 1"),
    (dict(flow_control="skid"), "flow_control must be 'enable' or 'fifo'"),
    (dict(frac_bits=[0] * 9 + [1]), "frac_bits must be one value"),
    (dict(buffer_bitwidth=9), "buffer_bitwidth must be at least"),
])
def test_bad_parameters_are_rejected(kwargs, message):
    params = dict(n=10, value_bits=7, lanes_per_beat=3, exp_bitwidth=4, buffer_bitwidth=12)
    with pytest.raises(ValueError, match=message):
        StreamingShiftmax(**{**params, **kwargs})


def test_mask_must_be_a_bool():
    with pytest.raises(TypeError, match="mask must be True or False"):
        StreamingShiftmax(n=10, value_bits=7, lanes_per_beat=3, mask=1)


@pytest.mark.skipif(not FULL, reason="large configurations: SHIFTMAX_HW_FULL=1")
@pytest.mark.parametrize("params", [
    dict(n=197, value_bits=7, lanes_per_beat=16, mask=True),
    dict(n=197, value_bits=7, lanes_per_beat=16, flow_control="fifo", register_every=1),
    dict(n=4096, value_bits=7, lanes_per_beat=32),
], ids=["vit-197", "vit-197-fifo", "llm-4096"])
def test_large_rows_match_golden(params):
    rng = np.random.default_rng(11)
    rows = 12 if params["n"] < 1000 else 4
    x = random_elements(params, rows, rng)
    masks = row_masks("causal", rows, params["n"], rng) if params.get("mask") else None
    kinds = ["good", "early", "good", "missing"] * (rows // 4)
    expected, run, _ = run_rows(params, x, masks, kinds, seed=5, gap=0.2, stall=0.2)
    check_rows(expected, run)
