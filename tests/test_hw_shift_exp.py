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
                  bits: int | None = None, dropped_bits: int = 0) -> np.ndarray:
    """The terms, their dropped low bits (zero) put back."""
    bits = bits or unsigned_bits(2 * exp_bitwidth + 1)
    stage = ShiftExp(n=d.shape[1], exp_bitwidth=exp_bitwidth, distance_bits=bits,
                     split_terms=split_terms, dropped_bits=dropped_bits)
    term_bits = 2 * exp_bitwidth + 1 - dropped_bits
    terms = rtl_stage(stage, {"distance": (d, bits)},
                      {"term": (term_bits, d.shape[1], False)})["term"]
    return terms << dropped_bits


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


@pytest.mark.parametrize("split_terms", [0, 4, 19])
def test_without_the_dropped_bits_the_kept_ones_are_the_terms(split_terms):
    # e = 10 without its two lowest term bits (N = 10's unneeded_term_bits): distances 19
    # and 20 give 0, every other one its term.
    d = np.arange(1 << 6)[None, :]
    expected = ref_shift_exp(np.minimum(d, 21), 10) >> 2 << 2
    actual = rtl_shift_exp(d, 10, split_terms, 6, dropped_bits=2)
    assert np.array_equal(expected, actual), (expected.tolist(), actual.tolist())
