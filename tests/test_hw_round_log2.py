# amaranth: UnusedElaboratable=no
"""RoundLog2 against the golden round_log2, at every threshold T[k] and T[k] - 1."""

import numpy as np
import pytest
from rtl_sim import mismatch, rtl_stage

from shiftmax.golden import round_log2, round_log2_thresholds
from shiftmax.hw import RoundLog2
from shiftmax.hw.adder_tree import sum_bits


def ref_round_log2(sums: np.ndarray, mode: str) -> np.ndarray:
    return round_log2(sums, mode)


def rtl_round_log2(sums: np.ndarray, n: int, exp_bitwidth: int, buffer_bitwidth: int,
                   mode: str, register_inside: bool = False, dropped_bits: int = 0
                   ) -> np.ndarray:
    """R from the hardware; also checks its second output, t = 3e - R. With ``dropped_bits``
    the sums' low bits (zero) are not given to it."""
    stage = RoundLog2(n=n, exp_bitwidth=exp_bitwidth, buffer_bitwidth=buffer_bitwidth,
                      round_log2=mode, register_inside=register_inside,
                      dropped_bits=dropped_bits)
    width = sum_bits(n, exp_bitwidth, buffer_bitwidth, dropped_bits)
    result = rtl_stage(stage, {"total": (sums >> dropped_bits, width)},
                       {"log2": (stage.out_bits, None, False),
                        "shift": (stage.shift_bits, None, True)})
    assert np.array_equal(result["shift"], 3 * exp_bitwidth - result["log2"])
    return result["log2"]


def corner_sums(n: int, exp_bitwidth: int, buffer_bitwidth: int, mode: str) -> np.ndarray:
    """Every binade's edges and thresholds, within the sums the design can see."""
    width = sum_bits(n, exp_bitwidth, buffer_bitwidth)
    largest = min((1 << width) - 1, (1 << (buffer_bitwidth - 1)) - 1)
    table = round_log2_thresholds(mode)
    sums = []
    for k in range(2 * exp_bitwidth, width):
        sums += [1 << k, (1 << (k + 1)) - 1, int(table[k]), int(table[k]) - 1,
                 int(table[k]) + 1]
    sums = np.array(sums, dtype=np.int64)
    return np.unique(sums[(sums >= 1 << 2 * exp_bitwidth) & (sums <= largest)])


@pytest.mark.parametrize("mode", ["exact", "quantizeml"])
@pytest.mark.parametrize("n, exp_bitwidth, buffer_bitwidth", [
    (1, 1, 4), (3, 2, 8), (10, 10, 32), (5000, 4, 33), (5000, 10, 33), (4, 7, 16),
    (70000, 14, 33),
])
def test_thresholds_match_golden(mode, n, exp_bitwidth, buffer_bitwidth):
    register_inside = n % 2 == 0  # both forms, across the parameter sets
    sums = corner_sums(n, exp_bitwidth, buffer_bitwidth, mode)
    rng = np.random.default_rng(n)
    width = sum_bits(n, exp_bitwidth, buffer_bitwidth)
    largest = min((1 << width) - 1, (1 << (buffer_bitwidth - 1)) - 1)
    sums = np.concatenate([sums, rng.integers(1 << 2 * exp_bitwidth, largest + 1, size=40)])
    expected = ref_round_log2(sums, mode)
    actual = rtl_round_log2(sums, n, exp_bitwidth, buffer_bitwidth, mode, register_inside)
    assert np.array_equal(expected, actual), mismatch(sums, expected, actual)


@pytest.mark.parametrize("mode", ["exact", "quantizeml"])
@pytest.mark.parametrize("n, exp_bitwidth, dropped_bits", [(3, 2, 2), (10, 10, 2), (10, 10, 7)])
def test_without_dropped_low_bits_every_corner_rounds_as_golden(mode, n, exp_bitwidth,
                                                                dropped_bits):
    """Given only the bits above the dropped ones, every corner (rounded down and up to a
    multiple of 2**z, where the compares' constants round up) rounds as the golden model."""
    corners = corner_sums(n, exp_bitwidth, 32, mode)
    unit = 1 << dropped_bits
    sums = np.unique(np.concatenate([corners // unit * unit, -(-corners // unit) * unit]))
    sums = sums[(sums >= 1 << 2 * exp_bitwidth) & (sums < 1 << sum_bits(n, exp_bitwidth, 32))]
    register_inside = dropped_bits % 2 == 0
    actual = rtl_round_log2(sums, n, exp_bitwidth, 32, mode, register_inside, dropped_bits)
    expected = ref_round_log2(sums, mode)
    assert np.array_equal(expected, actual), mismatch(sums, expected, actual)


def test_the_two_modes_differ_where_quantizeml_drifts():
    # k = 21: the exact threshold is 2965821, quantizeml's is lower (worked example 3).
    sums = np.array([2965819])
    assert rtl_round_log2(sums, 12, 10, 32, "exact").tolist() == [21]
    assert rtl_round_log2(sums, 12, 10, 32, "quantizeml").tolist() == [22]
