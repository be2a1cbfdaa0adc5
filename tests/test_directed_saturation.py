"""The directed rows catch a stuck saturation OR of ``Distance`` (``shiftmax.sim.directed``).

``hw/distance.py`` keeps a lane's difference ``D = M - xf`` in ``b`` bits and forces them to
ones with one OR of the dropped bits per kept bit. With the OR of bit ``k`` stuck at 0, a lane
at ``D >= 2**b`` with bit ``k`` clear reads ``2**b - 1 - 2**k``: a distance with a term when
it is at most ``2e``. The model here is the golden shiftmax with that lane's distance so
replaced: every stuck OR that gives a term, at every lane, changes the output of a directed
row (or of no input the configuration can reach), and one that gives no term changes none.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_directed_compares import CONFIGS, config_id

from shiftmax.golden import (
    FixedPoint,
    exp_sum,
    exp_terms,
    output_shift,
    quantized_shiftmax,
    round_log2,
)
from shiftmax.hw.distance import distance_bits
from shiftmax.hw.floor_input import floored_bits
from shiftmax.sim.directed import (
    compare_rows,
    distance_widths,
    reachable_sums,
    saturation_bits,
    saturation_distances,
)
from shiftmax.sim.vectors import UnitShape, corner_inputs


def stuck_outputs(shape: UnitShape, rows: np.ndarray, bit: int | None,
                  lane: int | None = None) -> np.ndarray:
    """The shiftmax of ``rows`` with the distances the hardware's ``Distance`` gives, its
    saturation OR of ``bit`` stuck at 0 in ``lane`` (every lane when None; no OR stuck when
    ``bit`` is None)."""
    floored = FixedPoint(rows, shape.value_bits, shape.frac_bits).floor()[0].values
    distance = (floored.max(axis=1, keepdims=True) - floored).astype(np.int64)
    _, bits = distance_widths(shape)
    ones = (1 << bits) - 1
    forced = np.full(shape.n, ones)
    if bit is not None:
        forced[slice(None) if lane is None else lane] &= ~(1 << bit)
    read = np.where(distance >> bits != 0, forced | (distance & ones), distance)
    terms = exp_terms(read, shape.exp_bitwidth).astype(np.int64)
    total = exp_sum(terms, shape.buffer_bitwidth)
    return output_shift(terms, round_log2(total, shape.round_log2), shape.exp_bitwidth)


def golden(shape: UnitShape, rows: np.ndarray) -> np.ndarray:
    return quantized_shiftmax(FixedPoint(rows, shape.value_bits, shape.frac_bits),
                              exp_bitwidth=shape.exp_bitwidth,
                              buffer_bitwidth=shape.buffer_bitwidth,
                              round_log2=shape.round_log2).values


def shows_anywhere(shape: UnitShape, distance: int) -> bool:
    """Whether one lane's extra term at ``distance`` changes an output of some reachable row:
    its sum (every sum of the other ``n - 1`` lanes, enumerated) crosses a rounding edge, or
    the lane's own output is not 0."""
    e2, clamp = 2 * shape.exp_bitwidth, (1 << (shape.buffer_bitwidth - 1)) - 1
    others = reachable_sums(UnitShape("shiftmax", {**shape.params, "n": shape.n - 1}))
    assert others is not None
    term = 1 << (e2 - distance)
    before = round_log2(np.minimum(others, clamp), shape.round_log2)
    after = round_log2(np.minimum(others + term, clamp), shape.round_log2)
    return bool(np.any(before != after) or np.any(term >> (after - shape.exp_bitwidth)))


@pytest.mark.parametrize("params", CONFIGS + [
    {"n": 10, "value_bits": 7, "frac_bits": [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]},
    {"n": 4, "value_bits": 6, "frac_bits": (-2, 1, 0, 3), "exp_bitwidth": 5},
    {"n": 10, "value_bits": 15, "frac_bits": 10},
    {"n": 4, "value_bits": 3, "frac_bits": 4, "exp_bitwidth": 1, "buffer_bitwidth": 4},
], ids=config_id)
def test_the_widths_are_the_hardware_ones(params: dict) -> None:
    shape = UnitShape("shiftmax", params)
    frac = np.broadcast_to(np.asarray(shape.frac_bits), (shape.n,)).tolist()
    width = floored_bits(shape.value_bits, frac)
    assert distance_widths(shape) == (width, distance_bits(width, shape.exp_bitwidth))


def test_the_default_configuration_has_one_stuck_or_with_a_term() -> None:
    """N = 10, VB = 7, e = 10: 8-bit differences, 5 saturated bits; only the OR of bit 4
    stuck gives a distance (15) that keeps a term; its rows put the deciding lane at 32."""
    shape = UnitShape("shiftmax", CONFIGS[0])
    assert distance_widths(shape) == (8, 5)
    assert [(s.bit, s.distance, s.term) for s in saturation_bits(shape)] == [
        (0, 30, False), (1, 29, False), (2, 27, False), (3, 23, False), (4, 15, True)]
    cases = saturation_distances(shape)
    assert cases and all(distances[lane] == 32 for _, lane, distances in cases)


@pytest.mark.parametrize("params", CONFIGS, ids=config_id)
def test_the_saturated_distances_without_a_stuck_or_are_the_golden_model(params: dict) -> None:
    shape = UnitShape("shiftmax", params)
    rows = corner_inputs(shape, np.random.default_rng(0))
    assert np.array_equal(stuck_outputs(shape, rows, None), golden(shape, rows))


@pytest.mark.parametrize("params", CONFIGS, ids=config_id)
def test_every_stuck_saturation_or_with_a_term_changes_a_directed_row_at_every_lane(
        params: dict) -> None:
    shape = UnitShape("shiftmax", params)
    rows = compare_rows(shape)
    expected = golden(shape, rows)
    assert saturation_bits(shape)
    shown = 0
    for saturation in saturation_bits(shape):
        if not saturation.term:
            continue
        if not shows_anywhere(shape, saturation.distance):
            continue  # equivalent in this configuration: no reachable row tells
        shown += 1
        for lane in range(shape.n):
            wrong = stuck_outputs(shape, rows, saturation.bit, lane) != expected
            assert wrong.any(), (f"bit {saturation.bit} (distance {saturation.distance}) stuck "
                                 f"in lane {lane}: no directed row changes")
    assert shown or params["n"] == 3  # n = 3, e = 2: its one term bit decides no rounding


@pytest.mark.parametrize("params", CONFIGS, ids=config_id)
def test_a_stuck_saturation_or_without_a_term_is_equivalent(params: dict) -> None:
    """A stuck OR whose distance lies beyond ``2e`` changes no output: none is needed."""
    shape = UnitShape("shiftmax", params)
    rows = np.concatenate([compare_rows(shape),
                           corner_inputs(shape, np.random.default_rng(1))])
    expected = golden(shape, rows)
    for saturation in saturation_bits(shape):
        assert saturation.term == (saturation.distance <= 2 * shape.exp_bitwidth)
        if not saturation.term:
            assert np.array_equal(stuck_outputs(shape, rows, saturation.bit), expected)


def test_the_lane_term_rows_alone_miss_the_default_stuck_or() -> None:
    """Without the saturation rows, the default directed rows do not tell the OR of bit 4
    stuck at 0 (their lanes beyond the cut-off sit at the lowest input, distance 255 or so,
    whose bit 4 is set); with them, they do."""
    shape = UnitShape("shiftmax", CONFIGS[0])
    rows = compare_rows(shape)
    floored = FixedPoint(rows, shape.value_bits, shape.frac_bits).floor()[0].values
    distance = floored.max(axis=1, keepdims=True) - floored
    saturation_rows = (distance == 32).any(axis=1)
    assert 0 < saturation_rows.sum() <= 2 * shape.n
    others = rows[~saturation_rows]
    assert not (stuck_outputs(shape, others, 4) != golden(shape, others)).any()
    assert (stuck_outputs(shape, rows, 4) != golden(shape, rows)).any()
