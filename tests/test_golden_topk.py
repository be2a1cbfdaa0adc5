"""topk: the k largest lanes, largest first, lower index on ties, present before masked."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from shiftmax.golden import FixedPoint, argmax, topk

INT64 = np.iinfo(np.int64)


def ref_topk(row, masked, k) -> list[int]:
    """The ranking by its definition: present first, then larger value, then lower index;
    masked lanes among themselves by index only."""
    key = {i: (bool(masked[i]), 0 if masked[i] else -int(row[i]), i) for i in range(len(row))}
    return sorted(range(len(row)), key=key.__getitem__)[:k]


#: Small values, and values so spread that no composite sort key fits int64.
ELEMENTS = (st.integers(-4, 3), st.sampled_from([INT64.min, INT64.min + 1, -1, 0, INT64.max]))


@st.composite
def rows_and_k(draw, masked: bool):
    elements = draw(st.sampled_from(ELEMENTS))
    values = draw(hnp.arrays(np.int64, st.tuples(st.integers(1, 4), st.integers(1, 16)),
                             elements=elements))
    k = draw(st.integers(1, values.shape[-1]))
    mask = draw(hnp.arrays(np.bool_, values.shape)) if masked else None
    return values, k, mask


@settings(max_examples=300, deadline=None)
@given(st.booleans().flatmap(rows_and_k))
def test_ranking_is_largest_first_lower_index_first_present_before_masked(case):
    values, k, mask = case
    indices, top = topk(values, k, mask=mask)
    masks = np.zeros(values.shape, bool) if mask is None else mask
    for row, masked, got, got_values in zip(values, masks, indices, top, strict=True):
        expected = ref_topk(row, masked, k)
        assert got.tolist() == expected, (row.tolist(), masked.tolist(), k)
        assert got_values.tolist() == row[expected].tolist()


@settings(max_examples=200, deadline=None)
@given(st.booleans().flatmap(rows_and_k))
def test_top_one_is_argmax(case):
    values, _, mask = case
    assert np.array_equal(topk(values, 1, mask=mask)[0][..., 0], argmax(values, mask=mask))


def test_ties_keep_the_lower_index_first():
    indices, values = topk([[3, 7, 7, 1, 7], [5, 5, 5, 5, 5]], 4)
    assert indices.tolist() == [[1, 2, 4, 0], [0, 1, 2, 3]]
    assert values.tolist() == [[7, 7, 7, 3], [5, 5, 5, 5]]


def test_row_with_fewer_than_k_present_lists_masked_ones_by_index():
    x = [[9, 1, 8, 2, 7], [9, 1, 8, 2, 7]]
    mask = [[True, False, True, False, True], [True] * 5]
    indices, values = topk(x, 4, mask=mask)
    assert indices.tolist() == [[3, 1, 0, 2], [0, 1, 2, 3]]
    assert values.tolist() == [[2, 1, 9, 8], [9, 1, 8, 2]]


def test_values_are_the_raw_inputs_of_a_fixedpoint():
    # frac_bits=2 would floor 4, 6 and 7 to 1; topk ranks and returns the raw integers.
    x = FixedPoint([4, 7, 6, -200], 7, 2)
    indices, values = topk(x, 4)
    assert indices.tolist() == [1, 2, 0, 3]
    assert values.tolist() == [7, 6, 4, -128]


def test_shapes_and_types():
    rng = np.random.default_rng(5)
    x = rng.integers(-100, 100, (2, 3, 9)).astype(np.int8)
    indices, values = topk(x, 4)
    assert indices.shape == values.shape == (2, 3, 4)
    assert indices.dtype == values.dtype == np.int64
    flat_indices, _ = topk(x.reshape(-1, 9), 4)
    assert np.array_equal(indices.reshape(-1, 4), flat_indices)
    one_row, _ = topk(x[0, 0], 9)
    assert one_row.shape == (9,)
    assert sorted(one_row.tolist()) == list(range(9))


def test_extreme_int64_values_rank_without_overflow():
    x = np.array([0, INT64.min, INT64.max, -1, INT64.min, INT64.max])
    indices, values = topk(x, 6)
    assert indices.tolist() == [2, 5, 0, 3, 1, 4]
    assert values.tolist() == x[[2, 5, 0, 3, 1, 4]].tolist()


def test_unsigned_and_python_integers_are_ranked_exactly():
    assert topk(np.array([2**63 - 1, 3, 2**63 - 2], np.uint64), 2)[0].tolist() == [0, 2]
    assert topk(np.array([5, 2**40, -(2**40)], dtype=object), 3)[0].tolist() == [1, 0, 2]


@pytest.mark.parametrize("x, k, error, message", [
    ([1, 2, 3], 0, ValueError, r"k must be in \[1, n\] with n = 3 lanes, not 0"),
    ([1, 2, 3], 4, ValueError, r"k must be in \[1, n\] with n = 3 lanes, not 4"),
    ([1, 2, 3], 1.5, TypeError, r"k must be an integer, not 1.5"),
    ([1, 2, 3], True, TypeError, r"k must be an integer, not True"),
    ([], 1, ValueError, r"x must have at least one lane, not shape \(0,\)"),
    ([1.0, 2.0], 1, TypeError, r"x must be a FixedPoint or an integer array, not float64"),
    (np.array([2**64 - 1, 1], np.uint64), 1, ValueError,
     r"x values must fit int64 for topk, which returns them; the largest is "
     r"18446744073709551615"),
])
def test_bad_input_is_rejected(x, k, error, message):
    with pytest.raises(error, match=message):
        topk(x, k)
