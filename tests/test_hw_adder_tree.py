# amaranth: UnusedElaboratable=no
"""SaturatingAdderTree against the golden exp_sum step: exact sums, clamped, never wrapped."""

import numpy as np
import pytest
from rtl_sim import mismatch, rtl_stage

from shiftmax.golden import exp_sum, exp_terms
from shiftmax.hw import SaturatingAdderTree


def ref_sum(d: np.ndarray, exp_bitwidth: int, buffer_bitwidth: int) -> np.ndarray:
    return exp_sum(exp_terms(d, exp_bitwidth), buffer_bitwidth)


def rtl_sum(d: np.ndarray, exp_bitwidth: int, buffer_bitwidth: int,
            register_every: int) -> np.ndarray:
    tree = SaturatingAdderTree(n=d.shape[1], exp_bitwidth=exp_bitwidth,
                               buffer_bitwidth=buffer_bitwidth, register_every=register_every)
    terms = exp_terms(d, exp_bitwidth)
    return rtl_stage(tree, {"term": (terms, 2 * exp_bitwidth + 1)},
                     {"total": (tree.out_bits, None, False)})["total"]


@pytest.mark.parametrize("n, exp_bitwidth, buffer_bitwidth, register_every", [
    (1, 3, 8, 0),
    (4, 3, 8, 1),      # B = 2e + 2: four terms of 2**(2e) already saturate
    (7, 4, 11, 2),     # saturation inside an unbalanced tree
    (10, 10, 32, 2),   # the default: never saturates
    (13, 2, 6, 1),
    (33, 5, 13, 3),
])
def test_sums_match_golden_including_saturation(n, exp_bitwidth, buffer_bitwidth,
                                                register_every):
    rng = np.random.default_rng(n)
    d = rng.integers(0, 2 * exp_bitwidth + 2, size=(120, n))
    d[0] = 0                      # the largest sum: every term 2**(2e)
    d[1] = 2 * exp_bitwidth + 1   # all beyond the cut-off (the hardware never sees it: M lane)
    d[1, 0] = 0
    d[2] = np.minimum(np.arange(n), 2 * exp_bitwidth + 1)
    expected = ref_sum(d, exp_bitwidth, buffer_bitwidth)
    actual = rtl_sum(d, exp_bitwidth, buffer_bitwidth, register_every)
    assert np.array_equal(expected, actual), mismatch(d, expected, actual)


def test_saturated_sum_is_the_buffer_limit():
    d = np.zeros((1, 4), dtype=np.int64)
    assert rtl_sum(d, 3, 8, 0).tolist() == [(1 << 7) - 1]


def test_width_grows_only_as_far_as_needed():
    # 10 terms of at most 2**20 sum to less than 2**24: 24 bits, no clamp.
    assert SaturatingAdderTree(n=10, exp_bitwidth=10, buffer_bitwidth=32).out_bits == 24
    assert SaturatingAdderTree(n=1000, exp_bitwidth=10, buffer_bitwidth=24).out_bits == 23
