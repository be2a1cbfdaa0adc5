"""argmax: lowest index on ties, index and one-hot forms."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from shiftmax.golden import FixedPoint, argmax


def test_ties_pick_lowest_index():
    assert argmax([[3, 7, 7, 1], [5, 5, 5, 5], [-2, -1, -1, -3]]).tolist() == [1, 0, 1]


def test_onehot_has_a_single_one_at_the_index():
    x = [[3, 7, 7, 1], [9, 0, 0, 9]]
    assert argmax(x, output="onehot").tolist() == [[0, 1, 0, 0], [1, 0, 0, 0]]


def test_reads_raw_values_of_a_fixedpoint():
    # Flooring by frac_bits=2 would tie 4 and 7; argmax reads the raw integers.
    x = FixedPoint([4, 7, 6], 7, 2)
    assert int(argmax(x)) == 1


@given(hnp.arrays(np.int64, st.tuples(st.integers(1, 5), st.integers(1, 30)),
                  elements=st.integers(-8, 7)))
def test_index_points_at_first_maximum(values):
    index = argmax(values)
    rows = np.arange(values.shape[0])
    assert np.all(values[rows, index] == values.max(axis=-1))
    for row, i in zip(values, index, strict=True):
        assert np.all(row[:i] < row[i])
    onehot = argmax(values, output="onehot")
    assert np.all(onehot.sum(axis=-1) == 1)
    assert np.all(onehot[rows, index] == 1)


def test_unsigned_fixedpoint_agrees_with_the_raw_array():
    raw = np.array([2**63, 100], np.uint64)
    assert int(argmax(raw)) == 0
    assert int(argmax(FixedPoint(raw, 7))) == 0


@pytest.mark.parametrize("x, expected", [
    (np.array([2**64 - 1, 2**64 - 2, 5], np.uint64), 0),
    ([2**63, 2**63 + 1, 1], 1),  # numpy alone would make this list float64 and tie them
    ([2**70, 2**71, -(2**80)], 1),
    (np.array([-(2**90), 2**64, 3], dtype=object), 1),
])
def test_raw_integers_of_any_size_are_compared_exactly(x, expected):
    assert int(argmax(x)) == expected


@pytest.mark.parametrize("x, kwargs, error, message", [
    ([1, 2], dict(output="mask"), ValueError, "output must be one of 'index', 'onehot'"),
    ([1.0, 2.0], {}, TypeError, "x must be a FixedPoint or an integer array, not float64"),
    (np.zeros((3, 0), dtype=int), {}, ValueError, r"at least one lane, not shape \(3, 0\)"),
    ([], {}, ValueError, r"x must have at least one lane, not shape \(0,\)"),
    ([[], []], {}, ValueError, r"x must have at least one lane, not shape \(2, 0\)"),
    (5, {}, ValueError, r"x must have at least one lane, not shape \(\)"),
    ([True, False], {}, TypeError, "x must be a FixedPoint or an integer array, not bool"),
    ([[1, 2], [3]], {}, ValueError, "x must be a rectangular array of integers"),
])
def test_bad_input_is_rejected(x, kwargs, error, message):
    with pytest.raises(error, match=message):
        argmax(x, **kwargs)
