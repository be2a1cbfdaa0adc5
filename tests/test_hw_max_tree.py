# amaranth: UnusedElaboratable=no
"""MaxTree against numpy's max, for every tree shape and pipelining."""

import numpy as np
import pytest
from rtl_sim import mismatch, rtl_stage

from shiftmax.golden import distances
from shiftmax.hw import MaxTree


def ref_max(values: np.ndarray) -> np.ndarray:
    # The golden distances are max - x: recover the max from them.
    return values[:, 0] + distances(values)[:, 0]


def rtl_max(values: np.ndarray, width: int, register_every: int) -> np.ndarray:
    tree = MaxTree(n=values.shape[1], width=width, register_every=register_every)
    return rtl_stage(tree, {"values": (values, width)},
                     {"maximum": (width, None, True)})["maximum"]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize("register_every", [0, 1, 2])
def test_max_of_random_lanes_with_ties(n, register_every):
    rng = np.random.default_rng(n * 10 + register_every)
    width = 3  # few values: many ties, both extremes
    values = rng.integers(-(1 << (width - 1)), 1 << (width - 1), size=(80, n))
    expected = ref_max(values)
    actual = rtl_max(values, width, register_every)
    assert np.array_equal(expected, actual), mismatch(values, expected, actual)


def test_latency_counts_registers_inside_the_tree():
    assert MaxTree(n=16, width=4, register_every=1).latency == 3
    assert MaxTree(n=16, width=4, register_every=2).latency == 1
    assert MaxTree(n=16, width=4, register_every=0).latency == 0
    assert MaxTree(n=2, width=4, register_every=1).latency == 0
