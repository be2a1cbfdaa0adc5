# amaranth: UnusedElaboratable=no
"""ArgmaxTree against the golden argmax: lowest index on ties, every tree shape."""

import numpy as np
import pytest
from rtl_sim import mismatch, rtl_stage

from shiftmax.golden import argmax
from shiftmax.hw import ArgmaxTree


def ref_argmax(values: np.ndarray) -> np.ndarray:
    return argmax(values)


def rtl_argmax(values: np.ndarray, value_bits: int, register_every: int) -> np.ndarray:
    """The tree's index output; also checks its ``maximum`` output against numpy's max."""
    tree = ArgmaxTree(n=values.shape[1], value_bits=value_bits, register_every=register_every)
    out = rtl_stage(tree, {"values": (values, value_bits + 1)},
                    {"index": (tree.index_bits, None, False),
                     "maximum": (value_bits + 1, None, True)})
    assert np.array_equal(out["maximum"], values.max(axis=1))
    return out["index"]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 13, 16, 17, 70])
@pytest.mark.parametrize("register_every", [0, 1, 3])
def test_random_lanes_with_many_ties(n, register_every):
    rng = np.random.default_rng(n * 7 + register_every)
    values = rng.integers(-4, 4, size=(100, n))
    values[0] = 3  # all equal: index 0
    values[1] = -4
    values[2, -1] = 3  # the maximum on the last lane, alone
    values[2, :-1] = -4
    expected = ref_argmax(values)
    actual = rtl_argmax(values, 2, register_every)
    assert np.array_equal(expected, actual), mismatch(values, expected, actual)


def test_n_below_one_is_rejected():
    with pytest.raises(ValueError, match="n must be a positive integer, not 0"):
        ArgmaxTree(n=0, value_bits=7)
