# amaranth: UnusedElaboratable=no
"""ShiftExp against the golden exp_terms step, every distance up to 2e + 1."""

import numpy as np
import pytest
from rtl_sim import rtl_stage

from shiftmax.golden import exp_terms
from shiftmax.hw import ShiftExp
from shiftmax.hw.pipeline import unsigned_bits


def ref_shift_exp(d: np.ndarray, exp_bitwidth: int) -> np.ndarray:
    return exp_terms(d, exp_bitwidth)


def rtl_shift_exp(d: np.ndarray, exp_bitwidth: int, split_terms: int = 0,
                  bits: int | None = None) -> np.ndarray:
    bits = bits or unsigned_bits(2 * exp_bitwidth + 1)
    stage = ShiftExp(n=d.shape[1], exp_bitwidth=exp_bitwidth, distance_bits=bits,
                     split_terms=split_terms)
    return rtl_stage(stage, {"distance": (d, bits)},
                     {"term": (2 * exp_bitwidth + 1, d.shape[1], False)})["term"]


@pytest.mark.parametrize("exp_bitwidth", [1, 3, 10, 15])
def test_every_distance_including_the_cutoff(exp_bitwidth):
    # 0 .. 2e (powers of two), then every saturated distance up to the width's limit (zero).
    d = np.arange(1 << unsigned_bits(2 * exp_bitwidth + 1))[None, :]
    expected = ref_shift_exp(d, exp_bitwidth)
    actual = rtl_shift_exp(d, exp_bitwidth)
    assert np.array_equal(expected, actual), (expected.tolist(), actual.tolist())
    assert actual[0, 2 * exp_bitwidth] == 1 and actual[0, 0] == 1 << 2 * exp_bitwidth
    assert not actual[0, 2 * exp_bitwidth + 1:].any()


@pytest.mark.parametrize("exp_bitwidth,split_terms,bits", [(1, 3, 2), (3, 5, 3), (10, 15, 5),
                                                          (10, 21, 6), (15, 8, 7)])
def test_two_step_decoders_match_the_direct_one(exp_bitwidth, split_terms, bits):
    # Every value of the lane, also raw (unsaturated) distances wider than needed.
    d = np.arange(1 << bits)[None, :]
    expected = ref_shift_exp(np.minimum(d, 2 * exp_bitwidth + 1), exp_bitwidth)
    actual = rtl_shift_exp(d, exp_bitwidth, split_terms, bits)
    assert np.array_equal(expected, actual), (expected.tolist(), actual.tolist())
