"""The golden model against the real packages' outputs stored in tests/data/.

- ``round_log2="exact"`` must equal akida 2.14.0's ``Shiftmax`` on every row akida ran;
- ``round_log2="quantizeml"`` must equal quantizeml 0.17.1's ``QuantizedShiftmax`` (a batch
  of one row) on every row whose float32 sum is exact; on the others (sums past 2**24 that
  TensorFlow rounded) it must equal quantizeml once given quantizeml's own float32 sum;
- parameter pairs are rejected exactly where quantizeml rejects them;
- the round_log2 thresholds probed on quantizeml are golden's table.

The vectors are regenerated with ``make reference-data`` (tools/reference_data.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import (
    AKIDA_SUM_MODULUS,
    load_cases,
    load_param_outcomes,
    load_round_log2_quantizeml,
)

from shiftmax.golden import (
    FixedPoint,
    check_shiftmax_params,
    clamp,
    distances,
    exp_terms,
    floor_input,
    output_shift,
    round_log2,
    round_log2_thresholds,
    shiftmax_steps,
)
from shiftmax.golden.params import max_buffer_bitwidth
from shiftmax.golden.round_log2 import QUANTIZEML_FLOAT_THRESHOLDS

CASES = load_cases()
AKIDA_CASES = [case for case in CASES if case.akida is not None]
FLOAT32_EXACT_LIMIT = 1 << 24


def ref_steps(case, round_log2_mode: str):
    """The golden model's intermediates and outputs for every row of a case."""
    params = case.params
    x = FixedPoint(case.inputs, params["value_bits"], params["frac_bits"])
    return shiftmax_steps(x, exp_bitwidth=params["exp_bitwidth"],
                          buffer_bitwidth=params["buffer_bitwidth"], round_log2=round_log2_mode)


def mismatch_report(case, reference: str, expected: np.ndarray, actual: np.ndarray,
                    rows: np.ndarray, limit: int = 5) -> str:
    """Name the case and show, for the first few bad rows, input, expected and actual."""
    lines = [f"{case.name} {case.params}: golden differs from {reference} on {len(rows)} "
             f"row(s)"]
    for row in rows[:limit]:
        lanes = np.flatnonzero(np.atleast_1d(expected[row] != actual[row]))
        lines.append(
            f"  row {row} ({case.kinds[row]}): input={_short(case.inputs[row])}\n"
            f"    expected={_short(expected[row])}\n    actual  ={_short(actual[row])}"
            + (f"\n    differing lanes {_short(lanes)}, their inputs "
               f"{_short(case.inputs[row][lanes])}, input max {case.inputs[row].max()}"
               if expected.ndim > 1 else "")
            + f"\n    exact sum {case.exact_sum[row]}, quantizeml float32 sum "
              f"{case.quantizeml_sum[row]}, quantizeml R {case.quantizeml_log2_sum[row]}")
    return "\n".join(lines)


def _short(values) -> str:
    return np.array2string(np.asarray(values), threshold=40, edgeitems=8, max_line_width=200)


def _bad_rows(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    different = expected != actual
    return np.flatnonzero(different.any(axis=-1) if different.ndim > 1 else different)


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------

def akida_diverging_rows(case) -> np.ndarray:
    """Rows where akida 2.14's Shiftmax leaves the arithmetic golden specifies (bool per row).

    Measured on the package:
    - akida saturates each floored input to a signed (B-1)-bit value, [-2**(B-2), 2**(B-2)-1];
    - akida adds the exponent terms in a 32-bit unsigned register, which wraps at 2**32.
    """
    steps = ref_steps(case, "exact")
    limit = 1 << (case.params["buffer_bitwidth"] - 2)
    outside = ((steps.floored < -limit) | (steps.floored >= limit)).any(axis=-1)
    return outside | (steps.exp_term.sum(axis=-1) >= AKIDA_SUM_MODULUS)


def ref_akida_limits(case) -> np.ndarray:
    """Golden's step functions plus akida's input saturation, 32-bit wrapping sum, 5-bit
    output shift and output saturation: akida's behaviour on the rows where it diverges."""
    params = case.params
    e, b = params["exp_bitwidth"], params["buffer_bitwidth"]
    x = FixedPoint(case.inputs, params["value_bits"], params["frac_bits"])
    floored = clamp(floor_input(x), b - 2)
    p = exp_terms(distances(floored), e)
    s = np.minimum(p.sum(axis=-1) % AKIDA_SUM_MODULUS, (1 << (b - 1)) - 1)
    log2_sum = np.where(s == 0, 32, round_log2(np.maximum(s, 1), "exact"))
    shift = (log2_sum - e) % 32
    return np.minimum(np.right_shift(p, shift[..., np.newaxis]), (1 << (e + 1)) - 1)


def _diverging_count(case) -> int:
    return int(np.count_nonzero(akida_diverging_rows(case)))


@pytest.mark.parametrize("case", AKIDA_CASES, ids=lambda case: case.name)
def test_exact_mode_equals_akida(case):
    """Every akida row, except those where akida saturates its input or wraps its sum."""
    actual = ref_steps(case, "exact").output
    rows = np.flatnonzero(~akida_diverging_rows(case))
    bad = rows[_bad_rows(case.akida[rows], actual[rows])]
    assert len(bad) == 0, mismatch_report(case, "akida 2.14.0", case.akida, actual, bad)


@pytest.mark.parametrize("case", AKIDA_CASES, ids=lambda case: case.name)
def test_loader_marks_the_same_akida_rows(case):
    """tests/reference.py's akida_comparable (from stored sums) agrees with the golden steps."""
    assert np.array_equal(case.akida_comparable, ~akida_diverging_rows(case))


@pytest.mark.parametrize("case", AKIDA_CASES,
                         ids=lambda case: f"{case.name}-{_diverging_count(case)}_rows")
def test_akida_divergence_is_explained(case):
    """Where golden and akida may differ, akida's measured limits reproduce akida exactly."""
    rows = np.flatnonzero(akida_diverging_rows(case))
    expected, actual = case.akida[rows], ref_akida_limits(case)[rows]
    bad = rows[_bad_rows(expected, actual)]
    assert len(bad) == 0, mismatch_report(case, "akida 2.14.0 (model of its limits)",
                                          case.akida, ref_akida_limits(case), bad)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_quantizeml_mode_equals_quantizeml_where_its_sum_is_exact(case):
    steps = ref_steps(case, "quantizeml")
    exact_rows = np.flatnonzero(case.quantizeml_sum_exact)
    expected, actual = case.quantizeml[exact_rows], steps.output[exact_rows]
    bad = exact_rows[_bad_rows(expected, actual)]
    assert len(bad) == 0, mismatch_report(case, "quantizeml 0.17.1", case.quantizeml,
                                          steps.output, bad)
    bad = exact_rows[_bad_rows(case.quantizeml_log2_sum[exact_rows],
                               steps.log2_sum[exact_rows])]
    assert len(bad) == 0, mismatch_report(case, "quantizeml 0.17.1 (R = round_log2 of the sum)",
                                          case.quantizeml_log2_sum, steps.log2_sum, bad)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_exact_sum_equals_sum_of_quantizeml_terms(case):
    steps = ref_steps(case, "exact")
    bad = _bad_rows(case.exact_sum, steps.exp_sum)
    assert len(bad) == 0, mismatch_report(case, "the exact sum of quantizeml's terms",
                                          case.exact_sum, steps.exp_sum, bad)


INEXACT_CASES = [case for case in CASES if not case.quantizeml_sum_exact.all()]
INEXACT_ROW_COUNT = sum(int(np.count_nonzero(~case.quantizeml_sum_exact)) for case in CASES)


@pytest.mark.parametrize("count", [INEXACT_ROW_COUNT], ids=[f"{INEXACT_ROW_COUNT}_rows"])
def test_inexact_float32_sums_only_past_2_to_the_24(count):
    """The rows flagged inexact are exactly those whose float32 sum is not float32(exact sum),
    and they all sum to 2**24 or more (below it every partial sum is exact in float32)."""
    recount = 0
    for case in CASES:
        inexact = case.quantizeml_sum != case.exact_sum.astype(np.float32).astype(np.int64)
        assert np.array_equal(inexact, ~case.quantizeml_sum_exact), case.name
        rows = np.flatnonzero(inexact & (case.exact_sum < FLOAT32_EXACT_LIMIT))
        assert len(rows) == 0, mismatch_report(case, "an exact float32 sum below 2**24",
                                               case.exact_sum, case.quantizeml_sum, rows)
        recount += int(np.count_nonzero(inexact))
    assert recount == count


@pytest.mark.parametrize(
    "case", INEXACT_CASES,
    ids=lambda case: f"{case.name}-{np.count_nonzero(~case.quantizeml_sum_exact)}_rows")
def test_quantizeml_mode_equals_quantizeml_given_its_float32_sum(case):
    """On rows with an inexact float32 sum, golden's round_log2 and output shift applied to
    quantizeml's own sum reproduce quantizeml's R and outputs."""
    rows = np.flatnonzero(~case.quantizeml_sum_exact)
    # Full-size copies so that reports show real row numbers; only ``rows`` are compared.
    log2_sum = case.quantizeml_log2_sum.copy()
    log2_sum[rows] = round_log2(case.quantizeml_sum[rows], "quantizeml")
    bad = rows[_bad_rows(case.quantizeml_log2_sum[rows], log2_sum[rows])]
    assert len(bad) == 0, mismatch_report(case, "quantizeml 0.17.1 (R of its float32 sum)",
                                          case.quantizeml_log2_sum, log2_sum, bad)
    steps = ref_steps(case, "quantizeml")
    output = case.quantizeml.copy()
    output[rows] = output_shift(steps.exp_term[rows], log2_sum[rows], case.params["exp_bitwidth"])
    bad = rows[_bad_rows(case.quantizeml[rows], output[rows])]
    assert len(bad) == 0, mismatch_report(case, "quantizeml 0.17.1 (given its float32 sum)",
                                          case.quantizeml, output, bad)


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------

def _golden_error(buffer_bitwidth: int, exp_bitwidth: int, mode: str) -> str | None:
    try:
        check_shiftmax_params(exp_bitwidth=exp_bitwidth, buffer_bitwidth=buffer_bitwidth,
                              round_log2=mode)
    except ValueError as error:
        return str(error)
    return None


def _outside_golden_range(buffer_bitwidth: int, exp_bitwidth: int, mode: str) -> bool:
    """Pairs quantizeml accepts but golden deliberately does not support: exp_bitwidth 0, and
    buffer_bitwidth beyond the measured quantizeml table (sums of 2**32 and more)."""
    return exp_bitwidth < 1 or buffer_bitwidth > max_buffer_bitwidth(mode)


@pytest.mark.parametrize("mode", ["exact", "quantizeml"])
def test_invalid_pairs_raise_exactly_where_quantizeml_raises(mode):
    """Golden rejects every pair quantizeml rejects, and accepts every pair quantizeml accepts
    except those outside golden's documented range (e = 0; B > 33 for round_log2="quantizeml").
    """
    for pair in load_param_outcomes():
        b, e = pair["buffer_bitwidth"], pair["exp_bitwidth"]
        golden = _golden_error(b, e, mode)
        if pair["quantizeml"] is not None:
            assert pair["quantizeml"].startswith("ValueError"), pair
            assert golden is not None, (
                f"B={b}, e={e}, round_log2={mode}: quantizeml raises {pair['quantizeml']}, "
                f"golden accepts")
        elif golden is not None:
            assert _outside_golden_range(b, e, mode), (
                f"B={b}, e={e}, round_log2={mode}: quantizeml accepts, golden raises {golden}")


def test_akida_rejects_the_same_pairs_as_quantizeml_up_to_33_bits():
    for pair in load_param_outcomes():
        b, e = pair["buffer_bitwidth"], pair["exp_bitwidth"]
        if 1 <= e and b <= 33:
            assert (pair["akida"] is None) == (pair["quantizeml"] is None), pair


def test_quantizeml_rule_is_buffer_at_least_2e_plus_2():
    """quantizeml raises iff (B - 1) <= 2e, i.e. it accepts exactly B >= 2e + 2."""
    for pair in load_param_outcomes():
        b, e = pair["buffer_bitwidth"], pair["exp_bitwidth"]
        assert (pair["quantizeml"] is None) == (b >= 2 * e + 2), pair


# --------------------------------------------------------------------------------------------
# round_log2 thresholds
# --------------------------------------------------------------------------------------------

def test_probed_float_thresholds_match_golden_table():
    """Golden's QUANTIZEML_FLOAT_THRESHOLDS are the probed float thresholds rounded up to
    integers: the same decisions on every integer-valued float32 sum (all the layer sees)."""
    probed = load_round_log2_quantizeml()
    floats = np.array(probed["float_thresholds"], dtype=np.float32)
    bits = np.array(probed["float_threshold_bits"], dtype=np.uint32).view(np.float32)
    assert np.array_equal(floats, bits)
    ceilings = np.ceil(floats.astype(np.float64)).astype(np.int64)
    golden = np.array(QUANTIZEML_FLOAT_THRESHOLDS, dtype=np.int64)
    differ = np.flatnonzero(ceilings != golden)
    assert len(differ) == 0, (f"k={differ.tolist()}: probed {floats[differ].tolist()}, "
                              f"golden {golden[differ].tolist()}")


def test_golden_integer_thresholds_are_consistent_with_probe():
    probed = load_round_log2_quantizeml()
    table = round_log2_thresholds("quantizeml")
    assert table.tolist() == probed["integer_thresholds"]
    for k, (threshold, value) in enumerate(zip(table, probed["float_thresholds"], strict=True)):
        float_threshold = np.float32(value)
        # T[k] is the smallest integer whose float32 rounding reaches the float threshold.
        assert np.float32(threshold) >= float_threshold, k
        assert np.float32(threshold - 1) < float_threshold, k
        if k >= 2:  # sums below 2**k in the binade of k only exist from k >= 1
            assert round_log2(threshold - 1, "quantizeml") == k
            assert round_log2(threshold, "quantizeml") == k + 1


@pytest.mark.parametrize("table", ["exact", "quantizeml"])
def test_threshold_rows_cover_every_reachable_k(table):
    """The data holds sums at T[k] and T[k] - 1 for every k from 2 to 31 (e >= 1)."""
    for where, offset in (("at", 0), ("below", -1)):
        covered = set()
        thresholds = round_log2_thresholds(table)
        for case in CASES:
            for row, kind in enumerate(case.kinds):
                if kind == f"threshold_{table}_{where}":
                    k = int(case.exact_sum[row]).bit_length() - 1
                    assert case.exact_sum[row] == thresholds[k] + offset, (case.name, row)
                    covered.add(k)
        assert covered == set(range(2, 32)), sorted(set(range(2, 32)) - covered)


def test_data_holds_every_row_kind():
    kinds = {kind for case in CASES for kind in case.kinds}
    assert {"random", "random_near", "all_equal", "all_min", "all_max", "one_dominant", "ties",
            "cutoff", "saturate", "sum_at_limit", "spec_example", "threshold_exact_at",
            "threshold_exact_below", "threshold_quantizeml_at", "threshold_quantizeml_below",
            "threshold_float_at", "threshold_float_below"} == kinds


def test_cut_off_rows_hold_distances_2e_and_2e_plus_1():
    # The cut-off rows really hold lanes at distance 2e and 2e + 1.
    for case in CASES:
        rows = [i for i, kind in enumerate(case.kinds) if kind == "cutoff"]
        if rows:
            steps = ref_steps(case, "exact")
            e = case.params["exp_bitwidth"]
            d = steps.distance[rows]
            assert np.all((d == 2 * e).any(axis=1) & (d == 2 * e + 1).any(axis=1)), case.name
            assert np.array_equal(exp_terms(d, e) == 0, d > 2 * e)


def test_float_threshold_rows_have_exact_float32_sums():
    """Sums at a float threshold and one ulp below it, for every k from 24 to 31, built from
    multiples of the ulp, so quantizeml's float32 sum is exact on them whatever its order."""
    floats = load_round_log2_quantizeml()["float_thresholds"]
    for where, ulps in (("at", 0), ("below", 1)):
        covered = set()
        for case in CASES:
            for row, kind in enumerate(case.kinds):
                if kind == f"threshold_float_{where}":
                    k = int(case.exact_sum[row]).bit_length() - 1
                    assert case.exact_sum[row] == int(floats[k]) - (ulps << (k - 23)), case.name
                    assert case.quantizeml_sum_exact[row], (case.name, row)
                    covered.add(k)
        assert covered == set(range(24, 32)), sorted(set(range(24, 32)) - covered)
