"""Masks (True = absent element) in quantized_shiftmax, shiftmax_steps and argmax."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference import load_cases

from shiftmax.golden import (
    FixedPoint,
    argmax,
    quantized_shiftmax,
    round_log2_thresholds,
    shiftmax_steps,
    topk,
)

INT64_MIN = int(np.iinfo(np.int64).min)


def ref_row(row, masked, value_bits, frac_bits, e, b, mode) -> list[int]:
    """One row by the specification's text, in Python integers: absent elements are left out
    of the maximum and the sum and give 0; a row with no present element gives all zeros."""
    n = len(row)
    fracs = [frac_bits] * n if np.ndim(frac_bits) == 0 else list(frac_bits)
    low, high = -(1 << value_bits), (1 << value_bits) - 1
    floored = [min(max(v >> f if f >= 0 else v << -f, low), high)
               for v, f in zip(map(int, row), map(int, fracs), strict=True)]
    present = [i for i in range(n) if not masked[i]]
    if not present:
        return [0] * n
    top = max(floored[i] for i in present)
    terms = [0 if masked[i] or top - floored[i] > 2 * e else 1 << (2 * e - top + floored[i])
             for i in range(n)]
    total = min(sum(terms), (1 << (b - 1)) - 1)
    k = total.bit_length() - 1
    r = k + (total >= int(round_log2_thresholds(mode)[k]))
    return [term >> (r - e) for term in terms]


@st.composite
def masked_inputs(draw, max_lanes=24):
    value_bits = draw(st.integers(1, 12))
    lanes = draw(st.integers(1, max_lanes))
    rows = draw(st.integers(1, 4))
    values = draw(hnp.arrays(np.int64, (rows, lanes),
                             elements=st.integers(-(1 << value_bits), (1 << value_bits) - 1)))
    frac = st.integers(-3, 4)
    frac_bits = draw(st.lists(frac, min_size=lanes, max_size=lanes) | frac)
    mask = draw(st.none() | hnp.arrays(np.bool_, (rows, lanes)))
    e = draw(st.integers(1, 10))
    b = draw(st.integers(2 * e + 2, 33))
    mode = draw(st.sampled_from(["exact", "quantizeml"]))
    x = FixedPoint(values, value_bits, frac_bits)
    return x, mask, dict(exp_bitwidth=e, buffer_bitwidth=b, round_log2=mode)


def _row_mask(mask, shape):
    return np.zeros(shape, dtype=bool) if mask is None else mask


@settings(max_examples=300, deadline=None)
@given(masked_inputs())
def test_masked_shiftmax_equals_the_specification_row_by_row(case):
    x, mask, params = case
    actual = quantized_shiftmax(x, mask=mask, **params).values
    masks = _row_mask(mask, x.shape)
    for row, masked, out in zip(x.values, masks, actual, strict=True):
        expected = ref_row(row, masked, x.value_bits, x.frac_bits, params["exp_bitwidth"],
                           params["buffer_bitwidth"], params["round_log2"])
        assert out.tolist() == expected, (row.tolist(), masked.tolist(), params)


@settings(max_examples=200, deadline=None)
@given(masked_inputs())
def test_masked_row_equals_the_row_without_its_masked_elements(case):
    x, mask, params = case
    masks = _row_mask(mask, x.shape)
    actual = quantized_shiftmax(x, mask=masks, **params).values
    fracs = np.broadcast_to(np.asarray(x.frac_bits), x.shape[-1:])
    for row, masked, out in zip(x.values, masks, actual, strict=True):
        assert np.all(out[masked] == 0)
        if masked.all():
            continue
        alone = FixedPoint(row[~masked], x.value_bits, fracs[~masked].tolist())
        expected = quantized_shiftmax(alone, **params).values
        assert out[~masked].tolist() == expected.tolist(), (row.tolist(), masked.tolist())


def test_masked_element_above_the_maximum_takes_no_part():
    x = FixedPoint([[100, 1, 2], [1, 2, 100]], 7)
    masked = quantized_shiftmax(x, exp_bitwidth=4, mask=[[True, False, False],
                                                         [False, False, True]]).values
    alone = quantized_shiftmax(FixedPoint([[1, 2], [1, 2]], 7), exp_bitwidth=4).values
    assert masked.tolist() == [[0, *alone[0].tolist()], [*alone[1].tolist(), 0]]


def test_masked_element_at_the_lowest_value_is_not_confused_with_a_present_one():
    # Masked lanes enter the maximum as -2**value_bits: a present lane there still counts.
    x = FixedPoint([-128, -128, -128], 7)
    y = quantized_shiftmax(x, exp_bitwidth=4, mask=[True, False, False]).values
    assert y.tolist() == [0, *quantized_shiftmax(FixedPoint([-128, -128], 7),
                                                 exp_bitwidth=4).values.tolist()]


def test_fully_masked_row_gives_zeros_and_the_documented_intermediates():
    e = 4
    x = FixedPoint([[5, -3, 12, 12], [5, -3, 12, 12]], 7, 2)
    mask = [[True] * 4, [False, True, True, True]]
    steps = shiftmax_steps(x, exp_bitwidth=e, mask=mask)
    assert steps.floored[0].tolist() == [-128] * 4
    assert steps.distance[0].tolist() == [0] * 4
    assert steps.exp_term[0].tolist() == [0] * 4
    assert int(steps.exp_sum[0]) == 0
    assert int(steps.log2_sum[0]) == 2 * e
    assert steps.output[0].tolist() == [0] * 4
    # A single present lane: S = 2**(2e), R = 2e, its output is 1.0.
    assert steps.output[1].tolist() == [1 << e, 0, 0, 0]
    assert int(steps.log2_sum[1]) == 2 * e


def test_masked_intermediates_follow_the_lowest_value_rule():
    steps = shiftmax_steps(FixedPoint([5, -3, 12, 12], 7, 2), exp_bitwidth=4,
                           mask=[False, False, True, False])
    assert steps.floored.tolist() == [1, -1, -128, 3]
    assert steps.distance.tolist() == [2, 4, 131, 0]
    assert steps.exp_term.tolist() == [64, 16, 0, 256]
    assert (int(steps.exp_sum), int(steps.log2_sum)) == (336, 8)
    assert steps.output.tolist() == [4, 1, 0, 16]
    assert steps.mask.tolist() == [False, False, True, False]


def test_mask_broadcasts_like_numpy():
    rng = np.random.default_rng(3)
    x = FixedPoint(rng.integers(-128, 128, (2, 3, 6)), 7, 1)
    lanes = np.array([False, True, False, False, True, False])
    full = np.broadcast_to(lanes, x.shape)
    per_row = np.array([[[True], [False], [True]], [[False], [False], [True]]])
    for mask in (lanes, per_row):
        expected = quantized_shiftmax(x, mask=np.broadcast_to(mask, x.shape).copy()).values
        assert np.array_equal(quantized_shiftmax(x, mask=mask).values, expected)
    assert np.array_equal(argmax(x, mask=lanes), argmax(x, mask=full.copy()))


def test_zero_one_integers_work_as_a_mask():
    x = FixedPoint([[1, 9, 3, 4]], 7)
    as_bool = quantized_shiftmax(x, mask=[[False, True, False, True]]).values
    assert np.array_equal(quantized_shiftmax(x, mask=np.array([[0, 1, 0, 1]])).values, as_bool)
    assert int(argmax(x, mask=[[0, 1, 0, 1]])[0]) == 2


@pytest.mark.parametrize("mode", ["exact", "quantizeml"])
def test_no_mask_and_an_all_false_mask_give_the_reference_outputs(mode):
    """On the committed reference data: mask=None and mask=all False equal quantizeml and
    akida where they apply (today's results, bit for bit)."""
    for case in load_cases():
        params = case.params
        x = FixedPoint(case.inputs, params["value_bits"], params["frac_bits"])
        kwargs = dict(exp_bitwidth=params["exp_bitwidth"],
                      buffer_bitwidth=params["buffer_bitwidth"], round_log2=mode)
        plain = quantized_shiftmax(x, **kwargs).values
        present = quantized_shiftmax(x, mask=np.zeros(x.shape, bool), **kwargs).values
        assert np.array_equal(plain, present), case.name
        if mode == "exact":
            rows, reference = case.akida_comparable, case.akida
        else:
            rows, reference = case.quantizeml_sum_exact, case.quantizeml
        if reference is not None:
            assert np.array_equal(plain[rows], reference[rows]), case.name


@settings(max_examples=200, deadline=None)
@given(masked_inputs())
def test_all_false_mask_changes_no_intermediate(case):
    x, _, params = case
    plain = shiftmax_steps(x, **params)
    present = shiftmax_steps(x, mask=False, **params)
    for name in ("floored", "distance", "exp_term", "exp_sum", "log2_sum", "output"):
        assert np.array_equal(getattr(plain, name), getattr(present, name)), name


# --- argmax ---------------------------------------------------------------------------------

def ref_argmax(row, masked) -> int:
    present = [i for i in range(len(row)) if not masked[i]]
    if not present:
        return 0
    return max(present, key=lambda i: (int(row[i]), -i))


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(np.int64, st.tuples(st.integers(1, 4), st.integers(1, 20)),
                  elements=st.integers(-4, 3)), st.data())
def test_masked_argmax_is_the_first_largest_present_lane(values, data):
    mask = data.draw(hnp.arrays(np.bool_, values.shape))
    index = argmax(values, mask=mask)
    onehot = argmax(values, output="onehot", mask=mask)
    for row, masked, i, hot in zip(values, mask, index, onehot, strict=True):
        expected = ref_argmax(row, masked)
        assert int(i) == expected, (row.tolist(), masked.tolist())
        assert hot.tolist() == [int(j == expected) for j in range(len(row))]


def test_fully_masked_argmax_row_gives_index_zero():
    x = [[4, 9, 1], [4, 9, 1]]
    mask = [[True, True, True], [False, True, True]]
    assert argmax(x, mask=mask).tolist() == [0, 0]
    assert argmax(x, output="onehot", mask=mask).tolist() == [[1, 0, 0], [1, 0, 0]]


def test_masked_argmax_at_the_lowest_int64_value_picks_a_present_lane():
    x = np.array([[INT64_MIN, INT64_MIN, INT64_MIN], [INT64_MIN, 5, INT64_MIN]])
    mask = [[True, False, False], [True, True, False]]
    assert argmax(x, mask=mask).tolist() == [1, 2]


def test_masked_argmax_reads_raw_values_of_a_fixedpoint():
    x = FixedPoint([4, 7, 6, 5], 7, 2)
    assert int(argmax(x, mask=[False, True, False, False])) == 2


# --- bad masks ------------------------------------------------------------------------------

def _shiftmax(x, mask):
    return quantized_shiftmax(FixedPoint(x, 7), mask=mask)


def _steps(x, mask):
    return shiftmax_steps(FixedPoint(x, 7), mask=mask)


def _argmax(x, mask):
    return argmax(x, mask=mask)


def _topk(x, mask):
    return topk(x, 1, mask=mask)


@pytest.mark.parametrize("function", [_shiftmax, _steps, _argmax, _topk],
                         ids=["quantized_shiftmax", "shiftmax_steps", "argmax", "topk"])
@pytest.mark.parametrize("mask, error, message", [
    ([True, False], ValueError, r"mask must broadcast to the input's shape \(2, 3\), "
                                r"not shape \(2,\)"),
    (np.zeros((4, 2, 3), bool), ValueError, r"mask must broadcast .* not shape \(4, 2, 3\)"),
    ([[0, 2, 1]], ValueError, r"mask must be boolean or 0/1 .*not integers \[2\]"),
    ([0.0, 1.0, 0.0], TypeError, r"mask must be a boolean array \(True = absent\), "
                                 r"not float64"),
    (["yes", "no", "no"], TypeError, r"mask must be a boolean array .*not <U3"),
    ([None, True, False], TypeError, r"mask must be a boolean array .*not object"),
])
def test_bad_mask_is_rejected_naming_mask(function, mask, error, message):
    with pytest.raises(error, match=message):
        function([[1, 2, 3], [4, 5, 6]], mask)
