"""The row framing model of streaming units and the directed running-sum rows (numpy only)."""

import numpy as np
import pytest

from shiftmax import golden
from shiftmax.golden import (
    FixedPoint,
    output_shift,
    quantized_shiftmax,
    round_log2,
    shiftmax_steps,
)
from shiftmax.sim.framing import (
    Framer,
    RowShape,
    beats_of_rows,
    early_tlast_row,
    form_rows,
    missing_tlast_row,
    ref_row_outputs,
    well_formed_row,
)
from shiftmax.sim.threshold_rows import (
    exact_exp_sum,
    naive_exp_sum,
    naive_round_log2,
    threshold_crossing_rows,
)
from shiftmax.units import UNITS


def shiftmax_shape(n=10, p=4, mask=True, **params):
    return RowShape("shiftmax", {"n": n, "value_bits": 7, "lanes_per_beat": p, "mask": mask,
                                 "exp_bitwidth": 4, "buffer_bitwidth": 16, **params})


def frame(shape, source_rows):
    data, mask, last, _ = beats_of_rows(source_rows)
    return form_rows(data, mask, last, n=shape.n, lanes_per_beat=shape.lanes_per_beat)


def random_row(shape, rng):
    return rng.integers(shape.input_low, shape.input_high + 1, size=shape.n)


def test_well_formed_rows_come_back_whole_with_partial_last_beats_ignored():
    shape = shiftmax_shape(n=10, p=4)
    rng = np.random.default_rng(1)
    rows = [random_row(shape, rng) for _ in range(5)]
    masks = [rng.random(shape.n) < 0.3 for _ in range(5)]
    # Lanes 10 and 11 of each row's last beat hold random data and mask bits.
    formed, framer = frame(shape, [well_formed_row(shape, r, m, rng)
                                   for r, m in zip(rows, masks, strict=True)])
    assert len(formed) == 5 and not framer.in_row and not framer.dropped
    for row, elements, mask in zip(formed, rows, masks, strict=True):
        assert not row.malformed
        assert row.elements.tolist() == elements.tolist()
        assert row.mask.tolist() == mask.tolist()
        assert not row.missing.any()
    assert [row.last_beat for row in formed] == [2, 5, 8, 11, 14]


def test_early_tlast_row_is_malformed_with_missing_elements_masked():
    shape = shiftmax_shape(n=10, p=4)
    rng = np.random.default_rng(2)
    first, second = random_row(shape, rng), random_row(shape, rng)
    formed, _ = frame(shape, [early_tlast_row(shape, first, None, 1, rng),
                              well_formed_row(shape, second, None, rng)])
    assert [row.reason for row in formed] == ["early tlast", ""]
    early = formed[0]
    assert early.elements[:4].tolist() == first[:4].tolist()
    assert early.mask.tolist() == [False] * 4 + [True] * 6
    assert early.missing.tolist() == [False] * 4 + [True] * 6
    assert formed[1].elements.tolist() == second.tolist()
    assert formed[1].beats == (1, 2, 3)


def test_missing_tlast_row_ends_at_beat_r_minus_1_and_drops_up_to_the_next_tlast():
    shape = shiftmax_shape(n=10, p=4)
    rng = np.random.default_rng(3)
    first, second = random_row(shape, rng), random_row(shape, rng)
    formed, framer = frame(shape, [missing_tlast_row(shape, first, None, 2, rng),
                                   well_formed_row(shape, second, None, rng)])
    assert [row.reason for row in formed] == ["missing tlast", ""]
    assert formed[0].elements.tolist() == first.tolist()
    assert formed[0].last_beat == 2
    assert framer.dropped == [3, 4]
    assert formed[1].elements.tolist() == second.tolist()


def test_a_row_without_any_tlast_swallows_the_next_row_up_to_its_tlast():
    shape = shiftmax_shape(n=10, p=4)
    rng = np.random.default_rng(4)
    rows = [random_row(shape, rng) for _ in range(3)]
    untagged = well_formed_row(shape, rows[0], None, rng)
    untagged.last[:] = False
    formed, framer = frame(shape, [untagged, well_formed_row(shape, rows[1], None, rng),
                                   well_formed_row(shape, rows[2], None, rng)])
    assert [row.reason for row in formed] == ["missing tlast", ""]
    assert formed[1].elements.tolist() == rows[2].tolist()
    assert framer.dropped == [3, 4, 5]


def test_one_beat_unit_makes_every_beat_a_row():
    shape = RowShape("argmax", {"n": 6, "value_bits": 7, "mask": True})
    assert shape.beats_per_row == 1 and not shape.streaming and shape.output_user
    rng = np.random.default_rng(5)
    data = rng.integers(-128, 128, size=(4, 6))
    formed, _ = form_rows(data, None, None, n=6, lanes_per_beat=6)
    assert [row.elements.tolist() for row in formed] == data.tolist()
    assert not any(row.malformed for row in formed)


def test_reset_forgets_a_partial_row_and_dropping():
    framer = Framer(n=6, lanes_per_beat=2)
    assert framer.push([1, 2], None, False) is None
    framer.reset()
    assert not framer.in_row
    for b in range(3):
        row = framer.push([b, b], None, False)
    assert row.reason == "missing tlast" and framer.dropping
    framer.reset()
    row = [framer.push([7, 8], None, b == 2) for b in range(3)][-1]
    assert row.reason == "" and row.elements.tolist() == [7, 8] * 3 and row.beats == (0, 1, 2)


@pytest.mark.parametrize(("n", "p"), [(0, 1), (4, 0), (4, 5)])
def test_framer_rejects_bad_sizes(n, p):
    with pytest.raises(ValueError, match="n must be|lanes_per_beat must be"):
        Framer(n=n, lanes_per_beat=p)


def test_shiftmax_output_is_r_beats_with_zero_lanes_past_n_and_tlast_on_the_last():
    shape = shiftmax_shape(n=10, p=4)
    rng = np.random.default_rng(6)
    rows = [random_row(shape, rng) for _ in range(3)]
    masks = [np.zeros(10, bool), rng.random(10) < 0.5, np.ones(10, bool)]
    sources = [well_formed_row(shape, rows[0], masks[0], rng),
               early_tlast_row(shape, rows[1], masks[1], 2, rng),
               well_formed_row(shape, rows[2], masks[2], rng)]
    expectations = ref_row_outputs(shape, frame(shape, sources)[0])
    for i, expectation in enumerate(expectations):
        row = expectation.row
        x = FixedPoint(row.elements[np.newaxis], 7, 0)
        want = quantized_shiftmax(x, exp_bitwidth=4, buffer_bitwidth=16,
                                  mask=row.mask[np.newaxis]).values[0]
        got = sum((shape.unpack_output(beat.data) for beat in expectation.beats), [])
        assert got == want.tolist() + [0, 0], f"row {i}"
        assert [beat.last for beat in expectation.beats] == [0, 0, 1]
        assert {beat.user for beat in expectation.beats} == {int(i == 1)}
    assert expectations[2].values == [0] * 10  # fully masked: all zeros, not flagged


def test_argmax_flags_rows_with_no_present_element_and_malformed_rows():
    shape = RowShape("argmax", {"n": 10, "value_bits": 7, "lanes_per_beat": 4, "mask": True})
    rng = np.random.default_rng(7)
    rows = [random_row(shape, rng) for _ in range(3)]
    sources = [well_formed_row(shape, rows[0], np.ones(10, bool), rng),
               well_formed_row(shape, rows[1], None, rng),
               missing_tlast_row(shape, rows[2], None, 1, rng)]
    expectations = ref_row_outputs(shape, frame(shape, sources)[0])
    assert [e.beats[0].user for e in expectations] == [1, 0, 1]
    assert [e.beats[0].last for e in expectations] == [1, 1, 1]
    assert expectations[0].values == [0]
    assert expectations[1].values == [int(np.argmax(rows[1]))]
    assert expectations[2].values == [int(np.argmax(rows[2]))]


@pytest.mark.skipif("topk" not in UNITS, reason="the unit registry has no topk yet")
def test_topk_leaves_values_of_missing_elements_unchecked_and_flags_short_rows():
    shape = RowShape("topk", {"n": 10, "value_bits": 7, "lanes_per_beat": 4, "mask": True,
                              "k": 3, "output": "index-value"})
    rng = np.random.default_rng(8)
    rows = [random_row(shape, rng) for _ in range(2)]
    mask = np.zeros(10, bool)
    mask[2:] = True  # two present elements, k = 3
    sources = [early_tlast_row(shape, rows[0], None, 1, rng),
               well_formed_row(shape, rows[1], mask, rng)]
    early, short = ref_row_outputs(shape, frame(shape, sources)[0])
    assert early.beats[0].user == 1 and short.beats[0].user == 1
    indices, values = golden.topk(rows[1][np.newaxis], 3, mask=mask[np.newaxis])
    assert short.values == indices[0].tolist() + values[0].tolist()
    assert shape.unpack_output(short.beats[0].data) == short.values
    # The early row has 4 present elements: all three slots name elements that came in.
    assert early.beats[0].care == (1 << (3 * 4 + 3 * 8)) - 1
    # Only one beat of a row with one lane present: the last two value slots are unchecked.
    one_shape = RowShape("topk", {**shape.params, "lanes_per_beat": 1})
    one = early_tlast_row(one_shape, rows[0], None, 1, rng)
    (single,) = ref_row_outputs(one_shape, frame(one_shape, [one])[0])
    for field, lane, offset, width in one_shape.field_slots():
        checked = (single.beats[0].care >> offset) & ((1 << width) - 1)
        assert checked == (0 if field == 1 and lane > 0 else (1 << width) - 1)


def threshold_shape(**params):
    defaults = {"n": 16, "value_bits": 7, "lanes_per_beat": 2, "exp_bitwidth": 3,
                "buffer_bitwidth": 16, "round_log2": "exact"}
    return RowShape("shiftmax", {**defaults, **params})


@pytest.mark.parametrize("params", [{}, {"lanes_per_beat": 1}, {"lanes_per_beat": 5},
                                    {"frac_bits": 2}, {"n": 40, "exp_bitwidth": 6,
                                                       "buffer_bitwidth": 20}])
def test_threshold_rows_sit_at_thresholds_where_a_shifted_running_sum_crosses(params):
    shape = threshold_shape(**params)
    rows, targets = threshold_crossing_rows(shape)
    table = golden.round_log2_thresholds(shape.round_log2)
    assert len(rows) >= 2
    exact = exact_exp_sum(shape, rows)
    assert exact.tolist() == targets
    assert set(targets) <= {int(t) + d for t in table for d in (-1, 0)}
    exact_r = round_log2(exact, shape.round_log2)
    naive_r = naive_round_log2(shape, rows)
    below = np.isin(exact, table - 1)
    assert below.any() and (~below).any()
    # The naive model gets every T[k] - 1 row wrong (R one too big) and agrees at T[k].
    assert (naive_r[below] == exact_r[below] + 1).all()
    assert (naive_r[~below] == exact_r[~below]).all()
    # With that R the non-zero outputs of those rows come out halved.
    x = FixedPoint(rows, shape.value_bits, shape.frac_bits)
    steps = shiftmax_steps(x, exp_bitwidth=shape.exp_bitwidth,
                           buffer_bitwidth=shape.buffer_bitwidth, round_log2=shape.round_log2)
    wrong = output_shift(steps.exp_term, naive_r, shape.exp_bitwidth)
    assert (wrong[below] != steps.output[below]).any()


def test_threshold_rows_need_a_streaming_unit():
    rows, targets = threshold_crossing_rows(threshold_shape(lanes_per_beat=16))
    assert rows.shape == (0, 16) and targets == []


def test_naive_running_sum_is_exact_when_the_maximum_comes_first_one_lane_per_beat():
    shape = threshold_shape(lanes_per_beat=1)
    rng = np.random.default_rng(9)
    rows = -np.sort(-rng.integers(-20, 20, size=(200, 16)), axis=1)
    assert naive_exp_sum(shape, rows).tolist() == exact_exp_sum(shape, rows).tolist()


def test_one_beat_shiftmax_flags_nothing_not_even_a_fully_masked_row():
    shape = RowShape("shiftmax", {"n": 4, "value_bits": 7, "mask": True})
    formed, _ = form_rows(np.array([[1, 2, 3, 4]] * 2), np.array([[True] * 4, [False] * 4]),
                          None, n=4, lanes_per_beat=4)
    expectations = ref_row_outputs(shape, formed)
    assert [e.beats[0].user for e in expectations] == [0, 0]
    assert expectations[0].values == [0, 0, 0, 0]


@pytest.mark.parametrize(("make", "count"), [(early_tlast_row, 0), (early_tlast_row, 3),
                                             (missing_tlast_row, 0)])
def test_malformed_source_rows_reject_impossible_lengths(make, count):
    shape = shiftmax_shape(n=10, p=4)
    with pytest.raises(ValueError, match="beats must be|extra must be"):
        make(shape, np.zeros(10, dtype=np.int64), None, count)
