"""FixedPoint: quantizeml's construction, floor and shift semantics on integers."""

import warnings

import numpy as np
import pytest

from shiftmax.golden import FixedPoint


def test_construction_clamps_to_value_bits():
    x = FixedPoint([-1000, -129, -128, 127, 128, 1000], value_bits=7)
    assert x.values.tolist() == [-128, -128, -128, 127, 127, 127]


def test_floor_is_an_arithmetic_shift():
    values = np.arange(-64, 64)
    floored, removed = FixedPoint(values, 7, 3).floor()
    assert removed == 3
    assert floored.frac_bits == 0
    assert floored.values.tolist() == [v // 8 for v in values.tolist()]


def test_negative_frac_bits_shift_left_and_saturate():
    floored, _ = FixedPoint([-3, -1, 0, 1, 31, 32, 100], 7, -2).floor()
    assert floored.values.tolist() == [-12, -4, 0, 4, 124, 127, 127]
    floored, _ = FixedPoint([-33, -32], 7, -2).floor()
    assert floored.values.tolist() == [-128, -128]


def test_large_left_shift_never_wraps():
    floored, _ = FixedPoint([-(2**31), -1, 1, 2**31 - 1], 31, -31).floor()
    assert floored.values.tolist() == [-(2**31), -(2**31), 2**31 - 1, 2**31 - 1]


def test_per_lane_frac_bits_apply_along_last_axis():
    x = FixedPoint([[16, 16, 16], [-16, -16, -16]], 7, [2, 0, -1])
    assert x.floor()[0].values.tolist() == [[4, 16, 32], [-4, -16, -32]]


def test_shift_keeps_format_like_quantizeml():
    x = FixedPoint([3, -3, 100], 7, 1)
    left = x.shift(1)
    assert left.values.tolist() == [6, -6, 127]
    assert (left.value_bits, left.frac_bits) == (7, 1)
    assert x.shift(-1).values.tolist() == [1, -2, 50]


def test_to_float_uses_per_lane_scale():
    x = FixedPoint([4, 4], 7, [2, -1])
    assert x.to_float().tolist() == [1.0, 8.0]


def test_integral_floats_are_accepted():
    assert FixedPoint(np.array([1.0, -2.0]), 7).values.tolist() == [1, -2]


@pytest.mark.parametrize("values", [[1.5, 2.0], [np.nan], ["a"], [True, False]])
def test_non_integer_values_are_rejected(values):
    with pytest.raises(TypeError, match="values must be integers"):
        FixedPoint(values, 7)


@pytest.mark.parametrize("value_bits, error", [(0, ValueError), (-3, ValueError),
                                               (32, ValueError), (7.0, TypeError),
                                               ("7", TypeError), (True, TypeError)])
def test_bad_value_bits_are_rejected(value_bits, error):
    with pytest.raises(error, match=rf"value_bits .*{value_bits!r}"):
        FixedPoint([1], value_bits)


def test_frac_bits_of_wrong_length_are_rejected():
    with pytest.raises(ValueError, match=r"frac_bits has 2 entries but there are 3 lanes"):
        FixedPoint([1, 2, 3], 7, [1, 2])


@pytest.mark.parametrize("frac_bits, error", [(1.5, TypeError), ("2", TypeError),
                                              ([1, 2.5], TypeError), (40, ValueError),
                                              ([0, -40], ValueError),
                                              ([[1, 2]], ValueError)])
def test_bad_frac_bits_are_rejected(frac_bits, error):
    with pytest.raises(error, match="frac_bits"):
        FixedPoint([1, 2], 7, frac_bits)


def test_uint64_values_clamp_instead_of_wrapping():
    x = FixedPoint(np.array([2**64 - 1, 3, 2**63], np.uint64), value_bits=7)
    assert x.values.tolist() == [127, 3, 127]
    assert x.values.dtype == np.int64


@pytest.mark.parametrize("values, expected", [
    ([2**70, 1], [127, 1]),
    ([-(2**70), 2**63, -5], [-128, 127, -5]),
    ([2**63, 1], [127, 1]),  # numpy alone would make this list float64
    (np.array([2**80, -(2**80), 7], dtype=object), [127, -128, 7]),
    (np.array([np.int64(3), 2**64], dtype=object), [3, 127]),
])
def test_integers_beyond_int64_clamp(values, expected):
    assert FixedPoint(values, 7).values.tolist() == expected


def test_float16_is_clamped_without_a_numpy_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = FixedPoint(np.array([1, -2, 60000, -60000], np.float16), 7)
        assert x.values.tolist() == [1, -2, 127, -128]
        big = FixedPoint(np.array([3e38, -3e38, 5], np.float32), 31)
        assert big.values.tolist() == [2**31 - 1, -(2**31), 5]
        with pytest.raises(TypeError, match=r"values must be integers, not non-integral floats"):
            FixedPoint(np.array([0.5, np.inf], np.float16), 7)


def test_fixedpoint_as_values_is_rejected_clearly():
    with pytest.raises(TypeError, match=r"values must be an integer array, not a FixedPoint "
                                        r"\(pass its \.values"):
        FixedPoint(FixedPoint([1, 2], 7, 2), 7)


def test_ragged_values_are_rejected_naming_values():
    with pytest.raises(ValueError, match=r"values must be a rectangular array of integers"):
        FixedPoint([[1, 2], [3]], 7)


@pytest.mark.parametrize("values", [[1, None], [1.5, 2**70]])
def test_object_values_that_are_not_integers_are_rejected(values):
    with pytest.raises(TypeError, match=r"values must be integers, not non-integer objects"):
        FixedPoint(np.array(values, dtype=object), 7)


def test_zero_d_integer_arrays_count_as_integers():
    assert FixedPoint([4, 8], 7, np.array(2)).frac_bits == 2
    assert FixedPoint([4, 8], np.array(7), np.int64(2)).frac_bits == 2
    assert FixedPoint([4, 8], 7, np.array(-1, np.int8)).floor()[0].values.tolist() == [8, 16]
    with pytest.raises(TypeError, match=r"frac_bits must be an integer or a sequence"):
        FixedPoint([4, 8], 7, np.array(2.0))


def test_construction_copies_the_input():
    raw = np.array([1, 2, 3], dtype=np.int64)
    x = FixedPoint(raw, 7)
    raw[0] = 100
    assert x.values.tolist() == [1, 2, 3]
