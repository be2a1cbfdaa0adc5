# amaranth: UnusedElaboratable=no
"""OutputShift against the golden output_shift step: every distance with every R."""

import numpy as np
import pytest
from rtl_sim import mismatch, rtl_stage

from shiftmax.golden import exp_terms, output_shift
from shiftmax.hw import OutputShift
from shiftmax.hw.pipeline import unsigned_bits


def ref_output(d: np.ndarray, log2_sum: np.ndarray, exp_bitwidth: int) -> np.ndarray:
    return output_shift(exp_terms(d, exp_bitwidth), log2_sum, exp_bitwidth)


def rtl_output(d: np.ndarray, log2_sum: np.ndarray, exp_bitwidth: int,
               shift_bits: int, register_inside: bool = False) -> np.ndarray:
    bits = unsigned_bits(2 * exp_bitwidth + 1)
    stage = OutputShift(n=d.shape[1], exp_bitwidth=exp_bitwidth, distance_bits=bits,
                        shift_bits=shift_bits, register_inside=register_inside)
    shift = 3 * exp_bitwidth - log2_sum  # t = 3e - R, as RoundLog2 delivers it
    return rtl_stage(stage, {"distance": (d, bits), "shift": (shift, shift_bits)},
                     {"output": (exp_bitwidth + 1, d.shape[1], False)})["output"]


@pytest.mark.parametrize("register_inside", [False, True])
@pytest.mark.parametrize("exp_bitwidth, buffer_bitwidth",
                         [(1, 4), (3, 12), (10, 32), (4, 33), (7, 16)])
def test_every_distance_and_every_log2(exp_bitwidth, buffer_bitwidth, register_inside):
    log2_sum = np.arange(2 * exp_bitwidth, buffer_bitwidth)  # R from 2e to B - 1
    bits = unsigned_bits(2 * exp_bitwidth + 1)
    # Every distance the Distance stage can output: exact up to 2e, saturated values beyond.
    d = np.tile(np.arange(1 << bits), (len(log2_sum), 1))
    expected = ref_output(d, log2_sum, exp_bitwidth)
    shift_bits = unsigned_bits(max(exp_bitwidth, buffer_bitwidth - 1 - 3 * exp_bitwidth)) + 1
    actual = rtl_output(d, log2_sum, exp_bitwidth, shift_bits, register_inside)
    assert np.array_equal(expected, actual), mismatch(d, expected, actual)
