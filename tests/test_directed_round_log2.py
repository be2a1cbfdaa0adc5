# amaranth: UnusedElaboratable=no
"""RoundLog2 at stage level over every sum a small configuration can reach, both forms.

Where the sum space is small, no threshold table entry, split compare or binade edge can
hide: every value of ``S`` from ``2**(2e)`` to the largest the lanes (or the clamp) allow
goes through the stage in Amaranth's simulator and is checked against golden round_log2.
The split compares (``register_inside``) appear from 12-bit binade fields, so the larger
configurations below have them. (All these sums are below ``2**18``, where the quantizeml
table equals the exact one.)
"""

import numpy as np
import pytest
from rtl_sim import mismatch, rtl_stage

from shiftmax.golden import round_log2
from shiftmax.hw import RoundLog2
from shiftmax.hw.adder_tree import sum_bits


@pytest.mark.parametrize("register_inside", [False, True], ids=["combinational", "split"])
@pytest.mark.parametrize("n, exp_bitwidth, buffer_bitwidth", [
    (3, 2, 6), (6, 3, 8), (8, 6, 16), (2, 7, 17),
])
def test_every_sum_of_the_configuration_rounds_as_golden(n, exp_bitwidth, buffer_bitwidth,
                                                          register_inside):
    mode = "exact"  # below 2**18 the quantizeml table is the exact one
    width = sum_bits(n, exp_bitwidth, buffer_bitwidth)
    largest = min(n << (2 * exp_bitwidth), (1 << (buffer_bitwidth - 1)) - 1, (1 << width) - 1)
    sums = np.arange(1 << (2 * exp_bitwidth), largest + 1, dtype=np.int64)
    stage = RoundLog2(n=n, exp_bitwidth=exp_bitwidth, buffer_bitwidth=buffer_bitwidth,
                      round_log2=mode, register_inside=register_inside)
    result = rtl_stage(stage, {"total": (sums, width)},
                       {"log2": (stage.out_bits, None, False),
                        "shift": (stage.shift_bits, None, True)})
    expected = round_log2(sums, mode)
    assert np.array_equal(expected, result["log2"]), mismatch(sums, expected, result["log2"])
    assert np.array_equal(result["shift"], 3 * exp_bitwidth - expected)
