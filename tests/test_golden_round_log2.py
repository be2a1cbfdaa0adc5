"""round_log2: the two threshold tables and the leading-one position."""

from math import isqrt

import numpy as np
import pytest

from shiftmax.golden import leading_one, round_log2, round_log2_thresholds
from shiftmax.golden.round_log2 import QUANTIZEML_FLOAT_THRESHOLDS


def test_exact_threshold_is_smallest_s_with_s_squared_at_least_two_to_2k_plus_1():
    table = round_log2_thresholds("exact")
    for k, t in enumerate(table.tolist()):
        assert t * t >= 2 ** (2 * k + 1) > (t - 1) * (t - 1)


def test_quantizeml_table_equals_exact_below_two_to_18():
    exact, quantizeml = (round_log2_thresholds(m) for m in ("exact", "quantizeml"))
    assert exact[:18].tolist() == quantizeml[:18].tolist()
    assert exact[18:32].tolist() != quantizeml[18:32].tolist()


def test_quantizeml_integer_thresholds_round_onto_the_float_thresholds():
    for k, (t, tf) in enumerate(zip(round_log2_thresholds("quantizeml").tolist(),
                                    QUANTIZEML_FLOAT_THRESHOLDS, strict=True)):
        assert np.float32(t) >= np.float32(tf), k
        assert np.float32(t - 1) < np.float32(tf), k


def test_round_log2_against_float_definition_on_small_sums():
    s = np.arange(1, 1 << 16)
    # below 2^18 both tables are the exact rule: log2(s) rounded half up on sqrt(2)
    expected = np.array([k + (v * v >= 2 ** (2 * k + 1)) for v, k in
                         zip(s.tolist(), leading_one(s).tolist(), strict=True)])
    for mode in ("exact", "quantizeml"):
        assert np.array_equal(round_log2(s, mode), expected)


def test_leading_one_is_exact_up_to_int64():
    values = np.array([1, 2, 3, 2**53 - 1, 2**53 + 1, 2**62 - 1, 2**62, 2**63 - 1])
    assert leading_one(values).tolist() == [v.bit_length() - 1 for v in values.tolist()]


def test_exact_table_is_exact_at_large_k():
    k = 60
    t = int(round_log2_thresholds("exact")[k])
    assert t == isqrt(2 ** (2 * k + 1) - 1) + 1


def test_non_positive_sums_are_rejected():
    with pytest.raises(ValueError, match="sums must be positive"):
        round_log2([4, 0])
