"""The worked examples of the specification (computed by quantizeml 0.17.1 and akida 2.14)."""

import numpy as np
import pytest

from shiftmax.golden import FixedPoint, quantized_shiftmax, shiftmax_steps

# (input, frac_bits, value_bits, buffer_bitwidth, exp_bitwidth, mode, sum, R, output)
EXAMPLES = {
    "small_e4": ([5, -3, 12, 12], 2, 7, 32, 4, "exact", 592, 9, [2, 0, 8, 8]),
    "small_e4_quantizeml": ([5, -3, 12, 12], 2, 7, 32, 4, "quantizeml", 592, 9, [2, 0, 8, 8]),
    "saturated_sum": ([7, 7, 7, -7], 0, 7, 16, 7, "exact", 32767, 15, [64, 64, 64, 0]),
    "saturated_sum_quantizeml": ([7, 7, 7, -7], 0, 7, 16, 7, "quantizeml", 32767, 15,
                                 [64, 64, 64, 0]),
    "threshold_exact": ([10, 10, -10, -9, -7, -6, -5, -2, 4, 6, 8, 9], 0, 7, 32, 10, "exact",
                        2965819, 21, [512, 512, 0, 0, 0, 0, 0, 0, 8, 32, 128, 256]),
    "threshold_quantizeml": ([10, 10, -10, -9, -7, -6, -5, -2, 4, 6, 8, 9], 0, 7, 32, 10,
                             "quantizeml", 2965819, 22,
                             [256, 256, 0, 0, 0, 0, 0, 0, 4, 16, 64, 128]),
    "e1_negative_inputs": ([-1, -9, -8, 0], 2, 7, 32, 1, "exact", 7, 3, [0, 0, 0, 1]),
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_worked_example(name):
    x, f, vb, b, e, mode, expected_sum, expected_r, expected = EXAMPLES[name]
    steps = shiftmax_steps(FixedPoint(x, vb, f), exp_bitwidth=e, buffer_bitwidth=b,
                           round_log2=mode)
    assert int(steps.exp_sum) == expected_sum
    assert int(steps.log2_sum) == expected_r
    assert steps.output.tolist() == expected


def test_intermediates_of_first_example():
    steps = shiftmax_steps(FixedPoint([5, -3, 12, 12], 7, 2), exp_bitwidth=4)
    assert steps.floored.tolist() == [1, -1, 3, 3]
    assert steps.distance.tolist() == [2, 4, 0, 0]
    assert steps.exp_term.tolist() == [64, 16, 256, 256]


def test_result_format():
    y = quantized_shiftmax(FixedPoint([5, -3, 12, 12], 7, 2), exp_bitwidth=4)
    assert (y.value_bits, y.frac_bits) == (5, 4)
    assert y.values.dtype == np.int64
    assert y.to_float().tolist() == [0.125, 0.0, 0.5, 0.5]
