# amaranth: UnusedElaboratable=no
"""The Argmax unit in Amaranth's simulator: golden argmax, AXI4-Stream behaviour, reset."""

import numpy as np
import pytest
from rtl_sim import mismatch, rtl_stream

from shiftmax.golden import argmax
from shiftmax.hw import Argmax
from shiftmax.sim.vectors import pack_rows, unpack_word


def ref_argmax(x: np.ndarray, output: str) -> np.ndarray:
    return argmax(x, output=output)


def rtl_argmax(x: np.ndarray, params: dict, **stream) -> tuple[np.ndarray, object]:
    """Stream the rows of ``x`` through an Argmax built from ``params``; (outputs, run)."""
    unit = Argmax(**params)
    run = rtl_stream(unit, pack_rows(x, unit.value_bits + 1), **stream)
    if unit.output == "onehot":
        return np.array([unpack_word(w, unit.n, 1) for w in run.outputs],
                        dtype=np.int64).reshape(-1, unit.n), run
    return np.array(run.outputs, dtype=np.int64), run


CONFIGS = [
    dict(n=10, value_bits=7),
    dict(n=2, value_bits=1, output="onehot"),
    dict(n=13, value_bits=3, output="onehot", register_every=1),
    dict(n=5, value_bits=15, register_every=0, stage_registers=False),
    dict(n=16, value_bits=2, output="onehot", register_every=0, stage_registers=True),
    dict(n=3, value_bits=4, register_every=1, stage_registers=False),
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
    assert run.in_cycles == list(range(len(x)))
    delays = {o - i for i, o in zip(run.in_cycles, run.out_cycles, strict=True)}
    assert delays == {Argmax(**params).latency}


def test_reset_in_mid_stream_drops_the_pipeline_content():
    params = dict(n=9, value_bits=4, output="onehot", register_every=1)
    rng = np.random.default_rng(2)
    x = rng.integers(-16, 16, size=(60, 9))
    actual, run = rtl_argmax(x, params, seed=5, gap=0.3, stall=0.6, reset_after=25)
    expected = ref_argmax(x[25:], "onehot")
    assert np.array_equal(expected, actual), mismatch(x[25:], expected, actual)


def test_output_widths():
    assert Argmax(n=2, value_bits=7).signature.members["m_axis_tdata"].shape == 1
    assert Argmax(n=10, value_bits=7).signature.members["m_axis_tdata"].shape == 4
    assert Argmax(n=16, value_bits=7).signature.members["m_axis_tdata"].shape == 4
    assert Argmax(n=17, value_bits=7, output="onehot").signature.members[
        "m_axis_tdata"].shape == 17


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=1, value_bits=7), "n must be at least 2, not 1"),
    (dict(n=4, value_bits=0), "value_bits"),
    (dict(n=4, value_bits=7, output="mask"), "output must be one of"),
    (dict(n=4, value_bits=7, register_every=1.5), "register_every"),
])
def test_bad_parameters_are_rejected_by_name(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        Argmax(**kwargs)
