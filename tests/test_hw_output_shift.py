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
               log2_bits: int) -> np.ndarray:
    bits = unsigned_bits(2 * exp_bitwidth + 1)
    stage = OutputShift(n=d.shape[1], exp_bitwidth=exp_bitwidth, distance_bits=bits,
                        log2_bits=log2_bits)
    return rtl_stage(stage, {"distance": (d, bits), "log2": (log2_sum, log2_bits)},
                     {"output": (exp_bitwidth + 1, d.shape[1], False)})["output"]


@pytest.mark.parametrize("exp_bitwidth, buffer_bitwidth", [(1, 4), (3, 12), (10, 32), (4, 33)])
def test_every_distance_and_every_log2(exp_bitwidth, buffer_bitwidth):
    log2_sum = np.arange(2 * exp_bitwidth, buffer_bitwidth)  # R from 2e to B - 1
    d = np.tile(np.arange(2 * exp_bitwidth + 2), (len(log2_sum), 1))
    expected = ref_output(d, log2_sum, exp_bitwidth)
    actual = rtl_output(d, log2_sum, exp_bitwidth, unsigned_bits(buffer_bitwidth - 1))
    assert np.array_equal(expected, actual), mismatch(d, expected, actual)
