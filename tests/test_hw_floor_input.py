# amaranth: UnusedElaboratable=no
"""FloorInput against the golden floor_input step (floor, then clamp; negative frac_bits)."""

import numpy as np
import pytest
from rtl_sim import mismatch, rtl_stage

from shiftmax.golden import FixedPoint, floor_input
from shiftmax.hw import FloorInput


def ref_floor(x: np.ndarray, value_bits: int, frac_bits) -> np.ndarray:
    return floor_input(FixedPoint(x, value_bits, frac_bits))


def rtl_floor(x: np.ndarray, value_bits: int, frac_bits) -> np.ndarray:
    stage = FloorInput(n=x.shape[1], value_bits=value_bits, frac_bits=frac_bits)
    return rtl_stage(stage, {"x": (x, value_bits + 1)},
                     {"floored": (stage.out_bits, x.shape[1], True)})["floored"]


@pytest.mark.parametrize("value_bits", [1, 3, 4])
def test_every_input_with_every_shift_matches_golden(value_bits):
    # One lane per frac_bits from -(vb + 2) to vb + 2 (left shifts that saturate, right shifts
    # beyond the value's width); every input value on every lane.
    frac_bits = list(range(-value_bits - 2, value_bits + 3))
    values = np.arange(-(1 << value_bits), 1 << value_bits)
    x = np.repeat(values[:, None], len(frac_bits), axis=1)
    expected = ref_floor(x, value_bits, frac_bits)
    actual = rtl_floor(x, value_bits, frac_bits)
    assert np.array_equal(expected, actual), mismatch(x, expected, actual)


@pytest.mark.parametrize("frac_bits", [0, 10, -2, 31, -31])
def test_scalar_frac_bits_on_random_inputs(frac_bits):
    rng = np.random.default_rng(abs(frac_bits))
    x = rng.integers(-(1 << 15), 1 << 15, size=(64, 3))
    x[0] = [-(1 << 15), (1 << 15) - 1, 0]
    expected = ref_floor(x, 15, frac_bits)
    actual = rtl_floor(x, 15, frac_bits)
    assert np.array_equal(expected, actual), mismatch(x, expected, actual)


def test_negative_frac_bits_saturate_instead_of_wrapping():
    x = np.array([[7, -8, 1, -1]])
    assert rtl_floor(x, 3, -2).tolist() == [[7, -8, 4, -4]]


@pytest.mark.parametrize("kwargs, error", [
    ({"n": 0, "value_bits": 7}, ValueError),
    ({"n": 2, "value_bits": 0}, ValueError),
    ({"n": 2, "value_bits": 7, "frac_bits": [1]}, ValueError),
    ({"n": 2, "value_bits": 7, "frac_bits": 1.5}, TypeError),
    ({"n": 2, "value_bits": 7, "frac_bits": 32}, ValueError),
])
def test_bad_parameters_are_rejected(kwargs, error):
    with pytest.raises(error, match="n|value_bits|frac_bits"):
        FloorInput(**kwargs)
