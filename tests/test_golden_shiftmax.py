"""Properties of the shiftmax that follow from the algorithm, and its input checks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from shiftmax.golden import (
    FixedPoint,
    quantized_shiftmax,
    round_log2_thresholds,
    shiftmax,
    shiftmax_steps,
)


@st.composite
def shiftmax_inputs(draw, max_lanes=40):
    value_bits = draw(st.integers(1, 16))
    lanes = draw(st.integers(1, max_lanes))
    rows = draw(st.integers(1, 4))
    values = draw(hnp.arrays(np.int64, (rows, lanes),
                             elements=st.integers(-(1 << value_bits), (1 << value_bits) - 1)))
    per_lane = draw(st.booleans())
    frac = st.integers(-4, 6)
    frac_bits = draw(st.lists(frac, min_size=lanes, max_size=lanes)) if per_lane else draw(frac)
    e = draw(st.integers(1, 12))
    b = draw(st.integers(2 * e + 2, 33))
    mode = draw(st.sampled_from(["exact", "quantizeml"]))
    x = FixedPoint(values, value_bits, frac_bits)
    return x, dict(exp_bitwidth=e, buffer_bitwidth=b, round_log2=mode)


@settings(max_examples=300, deadline=None)
@given(shiftmax_inputs())
def test_outputs_are_zero_or_powers_of_two_at_most_one(case):
    x, params = case
    out = quantized_shiftmax(x, **params).values
    e = params["exp_bitwidth"]
    assert np.all((out >= 0) & (out <= 1 << e))
    assert np.all((out & (out - 1)) == 0)


@settings(max_examples=300, deadline=None)
@given(shiftmax_inputs())
def test_largest_input_gets_largest_output(case):
    x, params = case
    steps = shiftmax_steps(x, **params)
    winner = np.argmax(steps.floored, axis=-1)
    rows = np.arange(len(winner))
    assert np.all(steps.output[rows, winner] == steps.output.max(axis=-1))
    # and the order of the floored inputs is kept (weakly)
    order = np.argsort(steps.floored, axis=-1, kind="stable")
    assert np.all(np.diff(np.take_along_axis(steps.output, order, axis=-1), axis=-1) >= 0)


@settings(max_examples=300, deadline=None)
@given(shiftmax_inputs())
def test_sum_is_clamped_and_rounded_to_a_neighbouring_power(case):
    x, params = case
    steps = shiftmax_steps(x, **params)
    e, b = params["exp_bitwidth"], params["buffer_bitwidth"]
    exact = steps.exp_term.sum(axis=-1)
    assert np.all(steps.exp_sum == np.minimum(exact, (1 << (b - 1)) - 1))
    assert np.all(steps.exp_sum >= 1 << (2 * e))
    assert np.all((1 << steps.log2_sum) <= 2 * steps.exp_sum)
    assert np.all(steps.exp_sum < 1 << (steps.log2_sum + 1))
    assert np.all(steps.log2_sum >= 2 * e)


@settings(max_examples=200, deadline=None)
@given(shiftmax_inputs())
def test_rows_are_independent(case):
    x, params = case
    batch = quantized_shiftmax(x, **params).values
    for i, row in enumerate(x.values):
        single = FixedPoint(row, x.value_bits, x.frac_bits)
        assert quantized_shiftmax(single, **params).values.tolist() == batch[i].tolist()


@settings(max_examples=200, deadline=None)
@given(shiftmax_inputs(max_lanes=12))
def test_matches_the_textbook_formula(case):
    """Integer pipeline == the spec's closed form out = 2^(3e - R - d) for d <= 3e - R."""
    x, params = case
    steps = shiftmax_steps(x, **params)
    e = params["exp_bitwidth"]
    shift = 3 * e - steps.log2_sum[..., None] - steps.distance
    expected = np.where(shift >= 0, np.left_shift(1, np.maximum(shift, 0)), 0)
    assert np.array_equal(steps.output, expected)


def test_n_equal_one_gives_exactly_one():
    for e in (1, 4, 10, 15):
        y = quantized_shiftmax(FixedPoint([[-5], [3]], 7), exp_bitwidth=e,
                               buffer_bitwidth=2 * e + 2)
        assert y.values.tolist() == [[1 << e], [1 << e]]


def test_cut_off_at_two_e():
    e = 3
    x = FixedPoint([0, -2 * e, -2 * e - 1], 7)
    steps = shiftmax_steps(x, exp_bitwidth=e, buffer_bitwidth=2 * e + 2)
    assert steps.exp_term.tolist() == [1 << 2 * e, 1, 0]


def test_sum_saturates_at_buffer_limit():
    e, b = 4, 10
    x = FixedPoint(np.zeros(5, dtype=int), 7)  # 5 * 2^8 = 1280 > 511
    steps = shiftmax_steps(x, exp_bitwidth=e, buffer_bitwidth=b)
    assert int(steps.exp_sum) == (1 << (b - 1)) - 1


def row_with_sum(total: int, e: int) -> np.ndarray:
    """Integer lanes whose exponent terms 2^(2e-d) add up to exactly ``total`` >= 2^(2e)."""
    unit = 1 << 2 * e
    bits = [j for j in range(2 * e) if total >> j & 1]
    # total // unit lanes at distance 0 (term 2^(2e)), one lane per remaining set bit
    return np.array([0] * (total // unit) + [j - 2 * e for j in bits])


@pytest.mark.parametrize("mode", ["exact", "quantizeml"])
def test_each_round_log2_threshold_is_where_r_steps_up(mode):
    table = round_log2_thresholds(mode)
    for k in range(2, 32):
        e = min(10, k // 2)
        for total, expected in ((int(table[k]) - 1, k), (int(table[k]), k + 1)):
            if total < 1 << k:
                continue
            steps = shiftmax_steps(FixedPoint(row_with_sum(total, e), 15), exp_bitwidth=e,
                                   buffer_bitwidth=33, round_log2=mode)
            assert int(steps.exp_sum) == total
            assert int(steps.log2_sum) == expected, (mode, k, total)


def test_any_batch_shape():
    rng = np.random.default_rng(1)
    values = rng.integers(-128, 128, (2, 3, 5, 7))
    flat = quantized_shiftmax(FixedPoint(values.reshape(-1, 7), 7)).values
    nested = quantized_shiftmax(FixedPoint(values, 7)).values
    assert np.array_equal(nested.reshape(-1, 7), flat)


def test_float_shiftmax_matches_integer_version_without_cut_off():
    logits = np.array([[2.7, 0.2, -1.0, 2.1]])
    y = shiftmax(logits)
    # floor -> [2, 0, -1, 2]; sum of 2^(x - 2) = 2.375 -> round(log2) = 1
    assert y.tolist() == [[0.5, 0.125, 0.0625, 0.5]]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(exp_bitwidth=10, buffer_bitwidth=21), ValueError,
     r"buffer_bitwidth must be at least 2\*exp_bitwidth \+ 2 = 22 \(exp_bitwidth=10\), not 21"),
    (dict(exp_bitwidth=0), ValueError, r"exp_bitwidth must be a positive integer, not 0"),
    (dict(exp_bitwidth=-1), ValueError, r"exp_bitwidth must be a positive integer, not -1"),
    (dict(buffer_bitwidth=-32), ValueError, r"buffer_bitwidth must be at least .*, not -32"),
    (dict(exp_bitwidth=2.5), TypeError, r"exp_bitwidth must be an integer, not 2.5"),
    (dict(buffer_bitwidth="32"), TypeError, r"buffer_bitwidth must be an integer, not '32'"),
    (dict(round_log2="nearest"), ValueError,
     r"round_log2 must be one of 'exact', 'quantizeml', not 'nearest'"),
    (dict(round_log2="quantizeml", buffer_bitwidth=40), ValueError,
     r"buffer_bitwidth must be at most 33 with round_log2='quantizeml', not 40"),
])
def test_bad_parameters_are_rejected(kwargs, error, message):
    with pytest.raises(error, match=message):
        quantized_shiftmax(FixedPoint([1, 2, 3], 7), **kwargs)


def test_empty_last_axis_is_rejected():
    with pytest.raises(ValueError, match=r"x must have at least one lane, not shape \(2, 0\)"):
        quantized_shiftmax(FixedPoint(np.zeros((2, 0), dtype=int), 7))


def test_unsigned_inputs_beyond_int64_clamp_to_the_largest_value():
    # uint64 2**63 used to wrap to -2**63 and give its lane 0.
    y = quantized_shiftmax(FixedPoint(np.array([2**63, 100], np.uint64), 7)).values
    assert y.tolist() == quantized_shiftmax(FixedPoint([127, 100], 7)).values.tolist()
    assert y[0] == y.max() > 0


def test_plain_array_is_rejected():
    with pytest.raises(TypeError, match="x must be a FixedPoint, not ndarray"):
        quantized_shiftmax(np.array([1, 2]))
