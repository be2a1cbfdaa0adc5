# amaranth: UnusedElaboratable=no
"""Distance against the golden distances step: exact up to 2e, saturated beyond."""

import numpy as np
import pytest
from rtl_sim import mismatch, rtl_stage

from shiftmax.golden import distances, exp_terms
from shiftmax.hw import Distance


def ref_distance(values: np.ndarray, exp_bitwidth: int) -> np.ndarray:
    return distances(values)


def rtl_distance(values: np.ndarray, width: int, exp_bitwidth: int,
                 register_inside: bool = False) -> np.ndarray:
    stage = Distance(n=values.shape[1], width=width, exp_bitwidth=exp_bitwidth,
                     register_inside=register_inside)
    maximum = values.max(axis=1)
    return rtl_stage(stage, {"maximum": (maximum, width), "values": (values, width)},
                     {"distance": (stage.out_bits, values.shape[1], False)})["distance"]


@pytest.mark.parametrize("register_inside", [False, True])
@pytest.mark.parametrize("width, exp_bitwidth", [(6, 2), (6, 10), (4, 10), (8, 1)])
def test_distances_saturate_at_the_cutoff(width, exp_bitwidth, register_inside):
    rng = np.random.default_rng(width * 100 + exp_bitwidth)
    values = rng.integers(-(1 << (width - 1)), 1 << (width - 1), size=(100, 6))
    # d = 2e and d = 2e + 1 exactly, and the widest possible difference.
    low = -(1 << (width - 1))
    values[0, :3] = [low + 2 * exp_bitwidth, low, low + 1]
    values[1, :2] = [(1 << (width - 1)) - 1, low]
    values = np.clip(values, low, (1 << (width - 1)) - 1)
    expected = ref_distance(values, exp_bitwidth)
    actual = rtl_distance(values, width, exp_bitwidth, register_inside)
    cutoff = 2 * exp_bitwidth + 1
    # Exact up to 2e; beyond it, at least 2e + 1 (every such distance means "zero term").
    assert np.array_equal(np.minimum(expected, cutoff), np.minimum(actual, cutoff)), \
        mismatch(values, expected, actual)
    # Saturating loses nothing: the exponent terms are the same.
    assert np.array_equal(exp_terms(actual, exp_bitwidth),
                          exp_terms(distances(values), exp_bitwidth))


def test_register_inside_adds_one_cycle():
    assert Distance(n=4, width=6, exp_bitwidth=10).latency == 0
    assert Distance(n=4, width=6, exp_bitwidth=10, register_inside=True).latency == 1
    with pytest.raises(TypeError, match="register_inside"):
        Distance(n=4, width=6, exp_bitwidth=10, register_inside=1)
