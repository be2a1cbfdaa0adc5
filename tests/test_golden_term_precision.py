"""The low term bits ``unneeded_term_bits`` leaves out decide no rounding of any row."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from shiftmax.golden import round_log2
from shiftmax.golden.term_precision import rounding_boundaries, unneeded_term_bits


def every_row_sum(n: int, exp_bitwidth: int, dropped: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact and truncated sums of every row of ``n`` lanes (one at the maximum; the others
    at every distance up to the cut-off and beyond it, which also stands for a masked lane)."""
    two_e = 2 * exp_bitwidth
    rows = np.array([(0, *rest) for rest in
                     itertools.combinations_with_replacement(range(two_e + 2), n - 1)])
    terms = np.where(rows <= two_e, 1 << (two_e - np.minimum(rows, two_e)), 0)
    return terms.sum(axis=1), (terms >> dropped << dropped).sum(axis=1)


CONFIGS = [(n, e, b, mode) for mode in ("exact", "quantizeml") for e in (1, 2, 3, 4)
           for n in (1, 2, 3, 4, 5, 6) for b in (2 * e + 2, 2 * e + 4, 32)]


@pytest.mark.parametrize("n, exp_bitwidth, buffer_bitwidth, mode", CONFIGS)
def test_no_row_rounds_differently_without_the_unneeded_bits(n, exp_bitwidth, buffer_bitwidth,
                                                             mode) -> None:
    dropped = unneeded_term_bits(n, exp_bitwidth, buffer_bitwidth, mode)
    clamp = (1 << (buffer_bitwidth - 1)) - 1
    exact, truncated = (np.minimum(s, clamp) for s in every_row_sum(n, exp_bitwidth, dropped))
    assert np.array_equal(round_log2(exact, mode), round_log2(truncated, mode))


@pytest.mark.parametrize("n, exp_bitwidth", [(3, 1), (4, 2), (4, 3), (5, 4), (8, 4)])
def test_one_bit_more_would_change_some_row(n, exp_bitwidth) -> None:
    """Where no clamp is reachable the count is the largest that is exact: a bit more (while
    below e) rounds some row differently."""
    dropped = unneeded_term_bits(n, exp_bitwidth, 32, "exact")
    assert dropped < exp_bitwidth
    exact, truncated = every_row_sum(n, exp_bitwidth, dropped + 1)
    assert not np.array_equal(round_log2(exact), round_log2(truncated))


def test_the_reference_configurations() -> None:
    # N = 10, e = 10: distances 16 to 18 can decide a rounding, 19 and 20 never do.
    assert unneeded_term_bits(10, 10, 32, "exact") == 2
    assert unneeded_term_bits(10, 10, 32, "quantizeml") == 2
    assert unneeded_term_bits(197, 10, 32, "exact") == 0
    # A sum that can reach the clamp keeps every bit.
    assert unneeded_term_bits(10, 7, 16, "exact") == 0


def test_boundaries_are_where_r_steps() -> None:
    for mode in ("exact", "quantizeml"):
        boundaries = rounding_boundaries(10, 10, 32, mode)
        sums = np.arange(1 << 20, (10 << 20) + 1)
        steps = (sums[1:][np.diff(round_log2(sums, mode)) != 0]).tolist()
        assert boundaries == steps
