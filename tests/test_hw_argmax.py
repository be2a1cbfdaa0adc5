# amaranth: UnusedElaboratable=no
"""The Argmax unit in Amaranth's simulator: golden argmax, stream behaviour in every
flow-control form, masks, reset, size limits."""

import numpy as np
import pytest
from payload_ports import PayloadPorts
from rtl_sim import mismatch, rtl_stream

from shiftmax.golden import argmax
from shiftmax.hw import Argmax, AxiStream
from shiftmax.hw.flow import FLOW_CONTROLS
from shiftmax.sim.vectors import pack_rows, unpack_word


def ref_argmax(x: np.ndarray, output: str, mask: np.ndarray | None = None) -> np.ndarray:
    return argmax(x, output=output, mask=mask)


def rtl_argmax(x: np.ndarray, params: dict, mask: np.ndarray | None = None,
               **stream) -> tuple[np.ndarray, object]:
    """Stream the rows of ``x`` through an Argmax built from ``params``; (outputs, run).

    With ``mask`` the unit is built with ``mask=True``; ``run.user`` holds each result's flag.
    """
    unit = Argmax(**params, mask=mask is not None)
    words = pack_rows(x, unit.value_bits + 1)
    data_bits = unit.n if unit.output == "onehot" else unit.index_bits
    if mask is None:
        run = rtl_stream(AxiStream(unit), words, **stream)
    else:
        flags = pack_rows(np.asarray(mask, dtype=np.int64), 1)
        shift = unit.n * (unit.value_bits + 1)
        run = rtl_stream(PayloadPorts(unit), [w | (f << shift) for w, f in
                                              zip(words, flags, strict=True)], **stream)
        run.user = [w >> data_bits for w in run.outputs]
    outputs = [w & ((1 << data_bits) - 1) for w in run.outputs]
    if unit.output == "onehot":
        return np.array([unpack_word(w, unit.n, 1) for w in outputs],
                        dtype=np.int64).reshape(-1, unit.n), run
    return np.array(outputs, dtype=np.int64), run


CONFIGS = [
    dict(n=10, value_bits=7),
    dict(n=10, value_bits=7, flow_control="enable"),
    dict(n=10, value_bits=7, flow_control="skid"),
    dict(n=2, value_bits=1, output="onehot", flow_control="skid"),
    dict(n=13, value_bits=3, output="onehot", register_every=1),
    dict(n=5, value_bits=15, register_every=0, stage_registers=False, flow_control="enable"),
    dict(n=16, value_bits=2, output="onehot", register_every=0, stage_registers=True),
    dict(n=3, value_bits=4, register_every=1, stage_registers=False, flow_control="skid"),
    # Folded: a part of the lanes per cycle, a new beat every ceil(n / lanes_per_cycle) cycles.
    dict(n=10, value_bits=15, lanes_per_cycle=1, register_every=1),
    dict(n=10, value_bits=5, lanes_per_cycle=2, register_every=1, flow_control="enable"),
    dict(n=11, value_bits=3, output="onehot", lanes_per_cycle=4, register_every=1,
         flow_control="skid"),
    dict(n=7, value_bits=2, lanes_per_cycle=3, register_every=0, stage_registers=False),
    dict(n=2, value_bits=1, lanes_per_cycle=1, output="onehot", flow_control="enable"),
]


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: "-".join(f"{v}" for v in p.values()))
def test_matches_golden_under_gaps_and_backpressure(params):
    rng = np.random.default_rng(params["n"])
    vb = params["value_bits"]
    x = rng.integers(-(1 << vb), 1 << vb, size=(200, params["n"]))
    x[::5] = x[::5, :1]                    # every lane equal
    x[1::5] = np.maximum(x[1::5] // 4 * 4, -(1 << vb))  # coarse values: ties between lanes
    output = params.get("output", "index")
    actual, run = rtl_argmax(x, params, seed=4, gap=0.3, stall=0.4)
    expected = ref_argmax(x, output)
    assert not run.stall_violations, run.stall_violations[:3]
    assert np.array_equal(expected, actual), mismatch(x, expected, actual)


def test_ties_pick_lowest_index():
    x = np.array([[3, 5, 5, 1], [-2, -2, -2, -2], [0, 1, 0, 1], [-8, -8, 7, 7]])
    actual, _ = rtl_argmax(x, dict(n=4, value_bits=3, register_every=1))
    assert actual.tolist() == [1, 0, 1, 2]


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: "-".join(f"{v}" for v in p.values()))
def test_result_arrives_latency_cycles_after_its_input(params):
    rng = np.random.default_rng(1)
    x = rng.integers(-2, 2, size=(12, params["n"]))
    actual, run = rtl_argmax(x, params)
    assert np.array_equal(ref_argmax(x, params.get("output", "index")), actual)
    unit = Argmax(**params)
    # One beat taken every input_cycles cycles (every cycle unless folded), on its last part.
    first = unit.input_cycles - 1
    assert run.in_cycles == list(range(first, first + unit.input_cycles * len(x),
                                       unit.input_cycles))
    delays = {o - i for i, o in zip(run.in_cycles, run.out_cycles, strict=True)}
    assert delays == {unit.latency}


@pytest.mark.parametrize("n, lanes_per_cycle, input_cycles", [
    (10, None, 1), (10, 10, 1), (10, 1, 10), (10, 2, 5), (10, 3, 4), (10, 9, 2), (197, 16, 13),
])
def test_folding_sets_the_input_cycles(n, lanes_per_cycle, input_cycles):
    unit = Argmax(n=n, value_bits=7, lanes_per_cycle=lanes_per_cycle)
    assert unit.input_cycles == input_cycles
    assert unit.params["lanes_per_cycle"] == (n if lanes_per_cycle is None else lanes_per_cycle)


def test_folded_unit_with_a_padded_last_part_under_gaps_and_backpressure():
    """The short last part's padding never wins, not even against lanes at the minimum."""
    params = dict(n=10, value_bits=15, lanes_per_cycle=3)
    rng = np.random.default_rng(3)
    x = rng.integers(-(1 << 15), 1 << 15, size=(40, 10))
    x[::4, 9] = (1 << 15) - 1  # the maximum in the short, padded last part
    x[1::4] = -(1 << 15)       # every lane at the padding value: lane 0 must win
    actual, run = rtl_argmax(x, params, seed=6, gap=0.5, stall=0.3)
    assert not run.stall_violations, run.stall_violations[:3]
    assert np.array_equal(ref_argmax(x, "index"), actual), mismatch(x, ref_argmax(x, "index"),
                                                                   actual)


@pytest.mark.parametrize("flow_control", FLOW_CONTROLS)
@pytest.mark.parametrize("params", [
    dict(n=9, value_bits=4, output="onehot", register_every=1),
    dict(n=9, value_bits=4, output="onehot", register_every=1, lanes_per_cycle=2),
], ids=["parallel", "folded"])
def test_reset_in_mid_stream_drops_the_pipeline_content(params, flow_control):
    params = dict(params, flow_control=flow_control)
    rng = np.random.default_rng(2)
    x = rng.integers(-16, 16, size=(60, 9))
    actual, run = rtl_argmax(x, params, seed=5, gap=0.3, stall=0.6, reset_after=25)
    expected = ref_argmax(x[25:], "onehot")
    assert np.array_equal(expected, actual), mismatch(x[25:], expected, actual)


def test_output_widths():
    def width(**kwargs) -> int:
        return AxiStream(Argmax(**kwargs)).signature.members["m_axis_tdata"].shape

    assert width(n=2, value_bits=7) == 1
    assert width(n=10, value_bits=7) == 4
    assert width(n=16, value_bits=7) == 4
    assert width(n=17, value_bits=7, output="onehot") == 17


def random_mask(rng, rows: int, n: int) -> np.ndarray:
    """Masks of every density, fully masked rows and rows with one present lane included."""
    density = rng.choice([0.0, 0.4, 0.8, 1.0], size=(rows, 1))
    mask = rng.random((rows, n)) < density
    mask[2::7] = True
    mask[3::7] = True
    mask[3::7, -1] = False
    return mask


@pytest.mark.parametrize("params", [
    dict(n=10, value_bits=7),
    dict(n=6, value_bits=3, output="onehot", register_every=1, flow_control="skid"),
    dict(n=10, value_bits=4, lanes_per_cycle=3, register_every=1, flow_control="enable"),
    dict(n=5, value_bits=2, output="onehot", lanes_per_cycle=2),
    dict(n=3, value_bits=1, register_every=0, stage_registers=False),
], ids=lambda p: "-".join(f"{v}" for v in p.values()))
def test_masked_lanes_rank_lowest_and_an_empty_row_is_flagged(params):
    rng = np.random.default_rng(params["n"] * 3 + params["value_bits"])
    vb = params["value_bits"]
    x = rng.integers(-(1 << vb), 1 << vb, size=(150, params["n"]))
    x[::4] = -(1 << vb)            # present lanes at the minimum, beside masked ones
    x[1::6] = (1 << vb) - 1        # masked lanes at the maximum must still lose
    mask = random_mask(rng, 150, params["n"])
    output = params.get("output", "index")
    actual, run = rtl_argmax(x, params, mask, seed=2, gap=0.2, stall=0.3)
    expected = ref_argmax(x, output, mask)
    assert np.array_equal(expected, actual), mismatch(np.where(mask, 999, x), expected, actual)
    assert run.user == mask.all(axis=1).astype(int).tolist(), "user is the fully masked flag"


def test_rows_too_long_for_one_beat_are_rejected_before_anything_is_built():
    # (n = 2100 with 32-bit lanes used to end in a bare AssertionError inside Amaranth.)
    # (n = 2048 with 32-bit lanes: 65536 input bits, one more than Amaranth numbers.)
    for kwargs in (dict(n=2100, value_bits=31), dict(n=100_000, value_bits=7),
                   dict(n=2048, value_bits=31), dict(n=1986, value_bits=31, mask=True)):
        with pytest.raises(ValueError, match=r"n = .*lanes_per_beat"):
            Argmax(**kwargs)
    with pytest.raises(ValueError, match="StreamingArgmax"):
        Argmax(n=10, value_bits=7, lanes_per_beat=2)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=1, value_bits=7), "n must be at least 2, not 1"),
    (dict(n=4, value_bits=0), "value_bits"),
    (dict(n=4, value_bits=7, output="mask"), "output must be one of"),
    (dict(n=4, value_bits=7, register_every=1.5), "register_every"),
    (dict(n=4, value_bits=7, lanes_per_cycle=0), "lanes_per_cycle must be at least 1, not 0"),
    (dict(n=4, value_bits=7, lanes_per_cycle=5), "lanes_per_cycle must be at most 4, not 5"),
    (dict(n=4, value_bits=7, lanes_per_cycle=2.0), "lanes_per_cycle"),
    (dict(n=4, value_bits=7, flow_control="none"), "flow_control must be one of"),
    (dict(n=4, value_bits=7, mask="yes"), "mask must be True or False"),
])
def test_bad_parameters_are_rejected_by_name(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        Argmax(**kwargs)
