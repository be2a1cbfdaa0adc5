# amaranth: UnusedElaboratable=no
"""The streaming TopK in Amaranth's simulator: golden topk on the rows the framing forms,
masks, malformed rows, backpressure, reset in mid-row, throughput and latency."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_hw_topk import FULL, decode_topk, mismatch, pack_fields, pack_lanes, rtl_beats

from shiftmax.golden import argmax
from shiftmax.golden.topk import topk
from shiftmax.hw.streaming_topk import StreamingTopK
from shiftmax.sim.framing import form_rows


def source_beats(rows, masks, p: int, *, rng=None, kinds=None, noise_value_bits: int = 1):
    """The beats (data, mask, last) a source sends for ``rows``: R beats each, tlast on the
    last. ``kinds[r]`` = ("early", b) sends only the first b beats; ("missing", e) sends the R
    beats without tlast and then e beats of noise, tlast on the last."""
    n = rows.shape[1]
    r_beats = -(-n // p)
    data, mask, last = [], [], []
    for r, row in enumerate(rows):
        padded = np.zeros(r_beats * p, dtype=np.int64)
        bits = np.zeros(r_beats * p, dtype=bool)
        if rng is not None:  # lanes past n: noise the unit must ignore
            padded[n:] = rng.integers(-(1 << noise_value_bits), 1 << noise_value_bits,
                                      size=r_beats * p - n)
            bits[n:] = rng.random(r_beats * p - n) < 0.5
        padded[:n] = row
        bits[:n] = masks[r] if masks is not None else False
        beats_d, beats_m = padded.reshape(r_beats, p), bits.reshape(r_beats, p)
        kind, amount = (kinds[r] if kinds is not None else ("well", 0))
        count = amount if kind == "early" else r_beats
        tl = [False] * count
        if kind != "missing":
            tl[-1] = True
        data += list(beats_d[:count])
        mask += list(beats_m[:count])
        last += tl
        if kind == "missing":
            for e in range(amount):
                data.append(rng.integers(-2, 2, size=p))
                mask.append(rng.random(p) < 0.5)
                last.append(e == amount - 1)
    return np.array(data), np.array(mask), np.array(last)


def rtl_stream_topk(unit, data, mask, last, **stream):
    layout = unit.i.payload.shape()
    width = unit.value_bits + 1
    beats = []
    for b in range(len(data)):
        fields = {"data": pack_lanes(data[b], width), "last": int(last[b])}
        if unit.mask:
            fields["mask"] = pack_lanes(mask[b].astype(int), 1)
        beats.append(pack_fields(layout, fields))
    rows, _ = form_rows(data, mask if unit.mask else None, last, n=unit.n,
                        lanes_per_beat=unit.lanes_per_beat)
    run = rtl_beats(unit, beats, expected_outputs=len(rows), **stream)
    return rows, run


def ref_stream_topk(rows, k: int):
    """(indices, values, flags, missing) of the formed rows by the golden model."""
    elements = np.stack([row.elements for row in rows])
    masks = np.stack([row.mask for row in rows])
    indices, values = topk(elements, k, mask=masks)
    flags = np.array([row.malformed or (~row.mask).sum() < k for row in rows], dtype=np.int64)
    missing = np.take_along_axis(np.stack([row.missing for row in rows]), indices, axis=-1)
    return indices, values, flags, missing


def check_stream(params, rows_in, masks=None, *, kinds=None, rng=None, **stream):
    unit = StreamingTopK(**params)
    data, mask, last = source_beats(rows_in, masks, unit.lanes_per_beat, rng=rng, kinds=kinds,
                                    noise_value_bits=unit.value_bits)
    rows, run = rtl_stream_topk(unit, data, mask, last, **stream)
    indices, values, user = decode_topk(unit, run.outputs)
    exp_indices, exp_values, exp_flags, missing = ref_stream_topk(rows, unit.k)
    inputs = [row.elements for row in rows]
    row_masks = [row.mask for row in rows]
    assert not run.stall_violations, run.stall_violations[:3]
    assert len(run.outputs) == len(rows), f"{len(run.outputs)} results for {len(rows)} rows"
    assert np.array_equal(exp_indices, indices), mismatch(inputs, row_masks, exp_indices,
                                                          indices)
    if unit.output == "index-value":
        # An element an early tlast left out never came in: its value is not checked.
        values = np.where(missing, exp_values, values)
        assert np.array_equal(exp_values, values), mismatch(inputs, row_masks, exp_values,
                                                            values)
    assert np.array_equal(exp_flags, user), mismatch(inputs, row_masks, exp_flags, user)
    return unit, rows, run


def random_rows(rng, count: int, n: int, value_bits: int) -> np.ndarray:
    lo, hi = -(1 << value_bits), 1 << value_bits
    x = rng.integers(lo, hi, size=(count, n), dtype=np.int64)
    x[::5] = x[::5, :1]                               # every element equal
    x[1::5] = np.maximum(x[1::5] // 4 * 4, lo)        # coarse values: many ties
    x[2::7] = rng.choice([lo, hi - 1], size=(len(x[2::7]), n))   # the two extremes
    return x


CONFIGS = [
    dict(n=1000, value_bits=15, k=5, lanes_per_beat=16, output="index-value"),
    dict(n=10, value_bits=15, k=5, lanes_per_beat=4, output="index-value",
         flow_control="fifo"),
    dict(n=10, value_bits=3, k=3, lanes_per_beat=4, mask=True, output="index-value",
         register_every=1, flow_control="fifo"),
    dict(n=7, value_bits=2, k=7, lanes_per_beat=3, mask=True, register_every=0,
         stage_registers=False),
    dict(n=9, value_bits=4, k=2, lanes_per_beat=1, output="index-value"),
    dict(n=12, value_bits=5, k=4, lanes_per_beat=11, mask=True, flow_control="fifo"),
    dict(n=6, value_bits=31, k=1, lanes_per_beat=2, output="index-value"),
    dict(n=20, value_bits=3, k=6, lanes_per_beat=5, mask=True, output="index-value",
         stage_registers=False),
]


def config_id(params: dict) -> str:
    return "-".join(f"{key[:2]}{value}" for key, value in params.items())


def row_count(params: dict) -> int:
    return 6 if params["n"] >= 100 else 60


@pytest.mark.parametrize("params", CONFIGS, ids=config_id)
def test_matches_golden_under_gaps_and_backpressure(params):
    rng = np.random.default_rng(params["n"] * 3 + params["k"])
    x = random_rows(rng, row_count(params), params["n"], params["value_bits"])
    masks = None
    if params.get("mask"):
        masks = rng.random(x.shape) < rng.choice([0.0, 0.2, 0.7, 1.0], size=(len(x), 1))
    check_stream(params, x, masks, rng=rng, seed=5, gap=0.3, stall=0.4)


@pytest.mark.parametrize("params", CONFIGS[1:], ids=config_id)
def test_malformed_rows_are_flagged_and_their_neighbours_are_not(params):
    rng = np.random.default_rng(11)
    x = random_rows(rng, 40, params["n"], params["value_bits"])
    masks = rng.random(x.shape) < 0.3 if params.get("mask") else None
    r_beats = -(-params["n"] // params["lanes_per_beat"])
    kinds = []
    for r in range(len(x)):
        choice = r % 4
        if choice == 1 and r_beats > 1:
            kinds.append(("early", int(rng.integers(1, r_beats))))
        elif choice == 3:
            kinds.append(("missing", int(rng.integers(1, 4))))
        else:
            kinds.append(("well", 0))
    _, rows, _ = check_stream(params, x, masks, kinds=kinds, rng=rng, seed=2, gap=0.2,
                              stall=0.5)
    assert sum(row.malformed for row in rows) >= len(x) // 4


@pytest.mark.parametrize("n, p, k, value_bits",
                         [(3, 2, 1, 2), (3, 2, 2, 2), (3, 2, 3, 2), (4, 3, 2, 1), (4, 1, 4, 1)]
                         + ([(4, 2, 1, 2), (4, 2, 3, 2), (4, 3, 4, 2), (4, 1, 4, 2),
                             (3, 1, 2, 2)] if FULL else []))
def test_every_input_of_tiny_rows(n, p, k, value_bits):
    lo, hi = -(1 << value_bits), 1 << value_bits
    x = np.array(list(itertools.product(range(lo, hi), repeat=n)), dtype=np.int64)
    check_stream(dict(n=n, value_bits=value_bits, k=k, lanes_per_beat=p, output="index-value",
                      register_every=1), x)


def test_every_mask_of_tiny_rows():
    x = np.array(list(itertools.product(range(-2, 2), repeat=4)), dtype=np.int64)
    if not FULL:
        x = x[::3]
    masks = np.array(list(itertools.product((0, 1), repeat=4)), dtype=bool)
    rows = np.repeat(x, len(masks), axis=0)
    mask = np.tile(masks, (len(x), 1))
    check_stream(dict(n=4, value_bits=1, k=3, lanes_per_beat=2, mask=True,
                      output="index-value"), rows, mask)


def test_k_of_one_agrees_with_argmax():
    rng = np.random.default_rng(8)
    x = random_rows(rng, 50, 11, 3)
    unit, rows, run = check_stream(dict(n=11, value_bits=3, k=1, lanes_per_beat=3), x)
    indices, _, _ = decode_topk(unit, run.outputs)
    assert np.array_equal(indices[:, 0], argmax(x))


def test_k_of_n_is_a_full_sort_with_ties_in_index_order():
    x = np.array([[2, 2, 2, 2, 2, 2], [1, -1, 1, -1, 1, -1], [-8, 7, -8, 7, 0, 0]])
    unit, _, run = check_stream(dict(n=6, value_bits=3, k=6, lanes_per_beat=4,
                                     output="index-value"), x)
    indices, values, _ = decode_topk(unit, run.outputs)
    assert indices.tolist() == [[0, 1, 2, 3, 4, 5], [0, 2, 4, 1, 3, 5], [1, 3, 4, 5, 0, 2]]
    assert values[2].tolist() == [7, 7, 0, 0, -8, -8]


@pytest.mark.parametrize("params", [CONFIGS[1], CONFIGS[2], CONFIGS[4], CONFIGS[5]],
                         ids=config_id)
def test_rows_back_to_back_take_one_beat_per_clock(params):
    rng = np.random.default_rng(3)
    x = random_rows(rng, 20, params["n"], params["value_bits"])
    unit, rows, run = check_stream(params, x)
    beats = len(x) * unit.beats_per_row
    assert run.in_cycles == list(range(beats))
    ends = [row.last_beat for row in rows]
    delays = {o - run.in_cycles[e] for e, o in zip(ends, run.out_cycles, strict=True)}
    assert delays == {unit.latency}


@pytest.mark.parametrize("reset_after, flow_control", [(5, "enable"), (14, "fifo")])
def test_reset_in_mid_row_empties_everything(reset_after, flow_control):
    params = dict(n=10, value_bits=4, k=3, lanes_per_beat=3, output="index-value",
                  flow_control=flow_control)
    rng = np.random.default_rng(4)
    x = random_rows(rng, 12, 10, 4)
    unit = StreamingTopK(**params)
    data, mask, last = source_beats(x, None, 3, rng=rng)
    layout = unit.i.payload.shape()
    beats = [pack_fields(layout, {"data": pack_lanes(data[b], 5), "last": int(last[b])})
             for b in range(len(data))]
    # Beat 5 is inside row 1 (4 beats a row), beat 14 inside row 3: after the reset the
    # rest of that row forms a (malformed) row of its own, then the rows follow as sent.
    rows, _ = form_rows(data[reset_after:], None, last[reset_after:], n=10, lanes_per_beat=3)
    run = rtl_beats(unit, beats, seed=6, gap=0.2, stall=0.3, reset_after=reset_after,
                    expected_outputs=len(rows))
    indices, values, user = decode_topk(unit, run.outputs)
    exp_indices, exp_values, exp_flags, missing = ref_stream_topk(rows, 3)
    assert np.array_equal(indices, exp_indices)
    assert np.array_equal(np.where(missing, exp_values, values), exp_values)
    assert np.array_equal(user, exp_flags)
    assert user[0] == 1 and not user[1:].any()


@pytest.mark.parametrize("flow_control", ["enable", "fifo"])
def test_dropped_beats_under_backpressure_keep_the_framing(flow_control):
    # Missing-tlast rows whose dropped beats (and the tlast that ends them) arrive while the
    # output stalls often: a tlast taken while the pipeline is frozen must still end the drop.
    params = dict(n=8, value_bits=3, k=2, lanes_per_beat=4, flow_control=flow_control)
    rng = np.random.default_rng(9)
    x = random_rows(rng, 30, 8, 3)
    # Long runs of dropped beats: the results of the rows before are offered (and stalled)
    # while they are dropped.
    kinds = [("missing", 1 + r % 13) if r % 2 else ("well", 0) for r in range(len(x))]
    for seed in range(3):
        check_stream(params, x, kinds=kinds, rng=rng, seed=seed, gap=0.1, stall=0.7)


@pytest.mark.parametrize("params, latency", [
    # framer + beat tree + stage registers (tree's node levels, after the tree, two per
    # cell) + K cells, + 2 for fifo
    (dict(n=1000, value_bits=15, k=5, lanes_per_beat=4, flow_control="enable"), 1 + 1 + 11 + 5),
    (dict(n=1000, value_bits=15, k=5, lanes_per_beat=16, flow_control="enable"),
     1 + (1 + 3) + 11 + 5),
    (dict(n=1000, value_bits=15, k=5, lanes_per_beat=16, register_every=1,
          flow_control="enable"), 1 + (2 + 3) + 11 + 5),
    (dict(n=10, value_bits=15, k=3, lanes_per_beat=1, stage_registers=False,
          flow_control="enable"), 1 + 0 + 0 + 3),
    (dict(n=10, value_bits=15, k=3, lanes_per_beat=1, stage_registers=False,
          flow_control="fifo"), 1 + 0 + 0 + 3 + 2),
])
def test_latency_follows_the_formula(params, latency):
    assert StreamingTopK(**params).latency == latency


def test_properties_describe_the_unit():
    unit = StreamingTopK(n=1000, value_bits=15, k=5, lanes_per_beat=16, mask=True,
                         flow_control="enable")
    assert (unit.input_cycles, unit.beats_per_row, unit.memory_bits) == (1, 63, 0)
    assert StreamingTopK(n=1000, value_bits=15, k=5, lanes_per_beat=16).flow_control == "fifo"
    fifo = StreamingTopK(n=1000, value_bits=15, k=5, lanes_per_beat=16, flow_control="fifo")
    assert fifo.memory_bits > 0 and fifo.memory_bits % (5 * 10 + 2) == 0
    assert unit.flow_control == "enable"
    assert unit.params == {"n": 1000, "value_bits": 15, "k": 5, "output": "index",
                           "register_every": 2, "stage_registers": True,
                           "flow_control": "enable", "lanes_per_beat": 16, "mask": True}
    assert len(unit.o.payload.data.as_value()) == 5 * 10


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n=10, value_bits=7, k=3, lanes_per_beat=10), ValueError, "lanes_per_beat must be"),
    (dict(n=10, value_bits=7, k=3, lanes_per_beat=None), ValueError, "lanes_per_beat must"),
    (dict(n=10, value_bits=7, k=11, lanes_per_beat=2), ValueError, "k must be at most"),
    (dict(n=10, value_bits=7, k=3, lanes_per_beat=2, flow_control="skid"), ValueError,
     "flow_control must be 'enable' or 'fifo'"),
    (dict(n=10, value_bits=7, k=3, lanes_per_beat=2, flow_control="x"), ValueError,
     "flow_control must be one of"),
    (dict(n=10, value_bits=7, k=3, lanes_per_beat=2, output="value"), ValueError, "output"),
    (dict(n=10, value_bits=0, k=3, lanes_per_beat=2), ValueError, "value_bits"),
])
def test_bad_parameters_are_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        StreamingTopK(**kwargs)


@pytest.mark.parametrize("params", [
    dict(n=4, value_bits=3, k=2, lanes_per_beat=2, flow_control="fifo"),
    dict(n=3, value_bits=2, k=3, lanes_per_beat=2, flow_control="fifo", stage_registers=False,
         register_every=0),
], ids=config_id)
def test_fifo_form_holds_every_result_under_heavy_backpressure(params):
    # Two-beat rows back to back give a result every other clock; with the output mostly
    # stalled the credits must stop the input before the FIFO overflows.
    rng = np.random.default_rng(12)
    x = random_rows(rng, 80, params["n"], params["value_bits"])
    kinds = [("early", 1) if r % 5 == 4 else ("well", 0) for r in range(len(x))]
    for seed, stall in ((1, 0.9), (2, 0.6)):
        check_stream(params, x, kinds=kinds, rng=rng, seed=seed, gap=0.0, stall=stall)
