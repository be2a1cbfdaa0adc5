"""The directed compare rows (``shiftmax.sim.directed``) reach both sides of every compare.

The mutation tests here run on a model of the hardware's compares (the same binade fields,
split halves and constants as ``hw/round_log2.py``, derived from the golden table): every
constant moved by one and every compare operator swapped either changes ``round_log2`` on a
directed row, or changes it on no sum the configuration can reach at all.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest

from shiftmax.golden import FixedPoint, quantized_shiftmax, round_log2, round_log2_thresholds
from shiftmax.hw import round_log2 as hw_round_log2
from shiftmax.sim.directed import (
    SPLIT_COMPARE_BITS,
    compare_field,
    compare_rows,
    compare_targets,
    reachable_sums,
    register_pairs,
    sum_cost,
    target_sums,
)
from shiftmax.sim.vectors import UnitShape, corner_inputs, ref_exp_sums

CONFIGS = [
    {"n": 10, "value_bits": 7},
    {"n": 10, "value_bits": 7, "round_log2": "quantizeml"},
    {"n": 8, "value_bits": 6, "exp_bitwidth": 6, "buffer_bitwidth": 16},
    {"n": 3, "value_bits": 3, "exp_bitwidth": 2, "buffer_bitwidth": 6},
    {"n": 6, "value_bits": 4, "exp_bitwidth": 3, "buffer_bitwidth": 8},
    {"n": 16, "value_bits": 7, "exp_bitwidth": 7, "buffer_bitwidth": 18},
]


def shape_of(params: dict) -> UnitShape:
    return UnitShape("shiftmax", params)


def config_id(params: dict) -> str:
    return "-".join(f"{key}{value}" for key, value in params.items())


def test_split_width_is_the_hardware_one() -> None:
    assert SPLIT_COMPARE_BITS == hw_round_log2.SPLIT_COMPARE_BITS


def test_the_reported_escape_row_is_a_directed_target() -> None:
    """The row of the RoundLog2 escape (in the design without term truncation, binade 21's
    upper part one above its constant, lower part below it) falls into a target of binade
    21's split compare, which a directed row meets."""
    shape = shape_of(CONFIGS[0])
    row = np.array([[100, 100, 99, 98, 96, 94, 90, 79, 79, 79]])
    total = int(ref_exp_sums(shape, row)[0])
    target = next(t for t in compare_targets(shape)
                  if t.name.startswith("k=21 split: ") and t.low <= total <= t.high)
    assert target.reachable
    sums = set(ref_exp_sums(shape, compare_rows(shape)).tolist())
    assert any(target.low <= s <= target.high for s in sums)


@pytest.mark.parametrize("params", CONFIGS + [
    {"n": 10, "value_bits": 7, "frac_bits": [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]},
    {"n": 1000, "value_bits": 7},
], ids=config_id)
def test_every_reachable_target_has_a_row_whose_sum_lies_in_it(params: dict) -> None:
    shape = shape_of(params)
    rows = compare_rows(shape)
    assert rows.shape[1] == shape.n
    assert rows.min() >= shape.input_low and rows.max() <= shape.input_high
    clamp = (1 << (shape.buffer_bitwidth - 1)) - 1
    sums = np.unique(ref_exp_sums(shape, rows))
    for target in compare_targets(shape):
        for total in target.sums:
            assert sum_cost(total, shape.exp_bitwidth) <= shape.n
            assert target.low <= total <= target.high
            assert min(total, clamp) in sums, f"{target.name}: no row sums to {total}"


@pytest.mark.parametrize("params", CONFIGS, ids=config_id)
def test_targets_take_the_extreme_reachable_sums_and_only_unreachable_ones_are_empty(
        params: dict) -> None:
    shape = shape_of(params)
    reach = reachable_sums(shape)
    for target in compare_targets(shape):
        inside = reach[(reach >= target.low) & (reach <= target.high)]
        if len(inside) == 0:
            assert not target.reachable, target.name
        else:
            assert target.sums == tuple(sorted({int(inside[0]), int(inside[-1])})), target.name


def test_directed_rows_reach_the_default_bench_corners() -> None:
    shape = shape_of(CONFIGS[0])
    corners = {tuple(row) for row in corner_inputs(shape, np.random.default_rng(0))}
    assert {tuple(row) for row in compare_rows(shape)} <= corners


def test_argmax_pair_rows_put_every_lane_pair_equal_above_and_below() -> None:
    shape = UnitShape("argmax", {"n": 5, "value_bits": 3})
    rows = compare_rows(shape)
    for i in range(5):
        for j in range(i + 1, 5):
            others = [m for m in range(5) if m not in (i, j)]
            pair = rows[(rows[:, others] == shape.input_low).all(axis=1)][:, [i, j]]
            differences = set((pair[:, 1] - pair[:, 0]).tolist())
            assert {-1, 0, 1} <= differences
    assert len(compare_rows(UnitShape("argmax", {"n": 1000, "value_bits": 15}))) < 1000


# A model of the compares RoundLog2 makes, with one of them changed.

def hardware_round_log2(shape: UnitShape, sums: np.ndarray, table: np.ndarray, *, split: bool,
                        mutant: tuple | None = None) -> np.ndarray:
    """``R`` as the hardware computes it; ``mutant = (k, part, change)`` alters one compare.

    ``part``: "whole" (``V >= C``), "above" (``U > C_hi``), "equal" (``U == C_hi``), "low"
    (``L >= C_lo``); ``change``: +1 or -1 on the constant, or "op" to swap the operator
    (``>=`` and ``>`` exchanged, ``==`` becomes ``!=``).
    """
    sums = np.asarray(sums, dtype=np.int64)
    k_of = np.floor(np.log2(sums.astype(np.float64))).astype(np.int64)
    k_of -= (sums >> k_of) == 0
    result = k_of.copy()
    for k in np.unique(k_of):
        k = int(k)
        here = k_of == k
        fields = compare_field(shape, k, int(table[k]) - (1 << k))
        if fields is None:
            result[here] += int(table[k]) <= (1 << k)
            continue
        zeros, constant, width = fields
        value = (sums[here] >> zeros) & ((1 << width) - 1)

        def compare(part, op, left, right, k=k):
            if mutant is not None and mutant[:2] == (k, part):
                change = mutant[2]
                if change == "op":
                    op = {operator.ge: operator.gt, operator.gt: operator.ge,
                          operator.eq: operator.ne}[op]
                else:
                    right += change
            return op(left, right)

        if split and width >= SPLIT_COMPARE_BITS:
            half = width // 2
            upper, lower = value >> half, value & ((1 << half) - 1)
            high_c, low_c = constant >> half, constant & ((1 << half) - 1)
            up = compare("above", operator.gt, upper, high_c) | (
                compare("equal", operator.eq, upper, high_c)
                & compare("low", operator.ge, lower, low_c))
        else:
            up = compare("whole", operator.ge, value, constant)
        result[here] += up
    return result


@pytest.mark.parametrize("params", CONFIGS, ids=config_id)
@pytest.mark.parametrize("split", [False, True], ids=["one-compare", "split"])
def test_every_compare_mutant_is_caught_by_a_directed_row_or_changes_no_reachable_sum(
        params: dict, split: bool) -> None:
    shape = shape_of(params)
    table = round_log2_thresholds(shape.round_log2)
    clamp = (1 << (shape.buffer_bitwidth - 1)) - 1
    reach = np.unique(np.minimum(reachable_sums(shape), clamp))
    directed = np.unique(ref_exp_sums(shape, compare_rows(shape)))
    assert np.array_equal(hardware_round_log2(shape, reach, table, split=split),
                          round_log2(reach, shape.round_log2))
    mutants = 0
    for k in range(2 * shape.exp_bitwidth, int(reach.max()).bit_length()):
        fields = compare_field(shape, k, int(table[k]) - (1 << k))
        if fields is None:
            continue
        parts = ["above", "equal", "low"] if split and fields[2] >= SPLIT_COMPARE_BITS \
            else ["whole"]
        for part in parts:
            for change in (+1, -1, "op"):
                mutant = (k, part, change)
                wrong = hardware_round_log2(shape, reach, table, split=split, mutant=mutant) != \
                    round_log2(reach, shape.round_log2)
                if wrong.any():
                    mutants += 1
                    caught = hardware_round_log2(shape, directed, table, split=split,
                                                 mutant=mutant) != \
                        round_log2(directed, shape.round_log2)
                    assert caught.any(), f"{mutant} changes sums {reach[wrong][:4]} " \
                                         "but no directed row"
    assert mutants > 0


def test_directed_rows_have_golden_outputs() -> None:
    """Every directed row is a valid input: the golden model takes it as it is."""
    shape = shape_of(CONFIGS[0])
    rows = compare_rows(shape)
    outputs = quantized_shiftmax(FixedPoint(rows, shape.value_bits, shape.frac_bits)).values
    assert outputs.shape == rows.shape
    assert (outputs.max(axis=1) > 0).all()


def test_each_target_sum_has_the_maximum_at_every_lane() -> None:
    """A wrong exponent term in one lane changes the sum only when that lane contributes:
    every directed sum comes with the maximum at each lane in turn (n <= 16)."""
    shape = shape_of(CONFIGS[0])
    rows = compare_rows(shape)
    sums = ref_exp_sums(shape, rows)
    for total in target_sums(shape):
        here = rows[sums == min(total, (1 << (shape.buffer_bitwidth - 1)) - 1)]
        at_maximum = here == here.max(axis=1, keepdims=True)
        assert at_maximum.any(axis=0).all(), f"sum {total}: a lane never at the maximum"


def test_register_pairs_come_back_to_back_and_would_round_up_if_mixed() -> None:
    """Each pair (A, B) is sent in this order; A does not round up, but with one registered
    part of its split compare taken from B it would (a RoundLog2 register a cycle off)."""
    shape = shape_of(CONFIGS[0])
    table = round_log2_thresholds(shape.round_log2)
    sums = ref_exp_sums(shape, compare_rows(shape)).tolist()
    pairs = register_pairs(shape)
    assert pairs
    for first, second in pairs:
        assert any(sums[i:i + 2] == [first, second] for i in range(len(sums) - 1))
        k = first.bit_length() - 1
        assert round_log2(np.array([first]), shape.round_log2)[0] == k
        zeros, constant, width = compare_field(shape, k, int(table[k]) - (1 << k))
        half = width // 2
        high_c, low_c = constant >> half, constant & ((1 << half) - 1)

        def parts(total, zeros=zeros, width=width, half=half):
            value = (total >> zeros) & ((1 << width) - 1)
            return value >> half, value & ((1 << half) - 1)

        (upper_a, lower_a), (upper_b, lower_b) = parts(first), parts(second)
        assert upper_b > high_c or (upper_b == high_c and lower_a >= low_c) or \
            (upper_a == high_c and lower_b >= low_c)


@pytest.mark.parametrize("params", CONFIGS, ids=config_id)
def test_every_lane_term_that_can_decide_a_rounding_decides_a_directed_row(params: dict) -> None:
    """A lane whose exponent term is wrong at one distance (a wrong decoder of that lane's
    distance) changes an output only when the sum sits on a rounding edge by less than the
    term. Every distance for which any reachable sum allows that (a sum of n - 1 lanes below
    an edge that the term crosses) has, at every lane, a directed row where dropping the
    lane's term changes round_log2."""
    shape = shape_of(params)
    e2, clamp = 2 * shape.exp_bitwidth, (1 << (shape.buffer_bitwidth - 1)) - 1
    others = reachable_sums(UnitShape("shiftmax", {**params, "n": shape.n - 1}))
    assert others is not None
    deciding = {e2 - j for j in range(e2)
                if np.any(round_log2(np.minimum(others, clamp), shape.round_log2)
                          != round_log2(np.minimum(others + (1 << j), clamp),
                                        shape.round_log2))}
    rows = compare_rows(shape)
    floored = FixedPoint(rows, shape.value_bits, shape.frac_bits).floor()[0].values
    distances = floored.max(axis=1, keepdims=True) - floored
    sums = ref_exp_sums(shape, rows)
    terms = np.where(distances <= e2, 1 << np.clip(e2 - distances, 0, e2), 0)
    dropped = np.maximum(sums[:, np.newaxis] - terms, 1)
    decides = round_log2(dropped, shape.round_log2) != \
        round_log2(sums, shape.round_log2)[:, np.newaxis]
    for lane in range(shape.n if shape.n <= 16 else 1):
        shown = set(distances[decides[:, lane], lane].tolist())
        assert deciding <= shown, (f"lane {lane}: no directed row decided by its term at "
                                   f"distance {sorted(deciding - shown)}")
