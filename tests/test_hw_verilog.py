# amaranth: UnusedElaboratable=no
"""The Verilog emitter: ports per the contract, sidecar JSON, Icarus and Verilator accept it."""

import gc
import json
import os
import re
import time
import warnings

import numpy as np
import pytest

from shiftmax.hw import Argmax, AxiStream, Shiftmax, emit_verilog, write_verilog
from shiftmax.hw.flow import FLOW_CONTROLS
from shiftmax.hw.lint import lint_iverilog, lint_verilator
from shiftmax.hw.verilog import check_module_name
from shiftmax.units import UNITS

BUILD = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build",
                     "tests", "hw_verilog")


def declared_ports(text: str, module: str) -> dict[str, tuple[str, int]]:
    """Direction and width of each port of ``module`` in generated Verilog."""
    body = text[text.index(f"module {module}("):]
    body = body[:body.index("endmodule")]
    ports = {}
    for direction, msb, name in re.findall(
            r"^\s*(input|output)\s+(?:\[(\d+):0\]\s*)?(\w+);", body, flags=re.MULTILINE):
        ports[name] = (direction, int(msb) + 1 if msb else 1)
    return ports


def random_shiftmax_params(rng) -> dict:
    n = int(rng.choice([1, 2, 3, 6, 17, 40]))
    value_bits = int(rng.integers(1, 16))
    e = int(rng.integers(1, 12))
    mode = str(rng.choice(["exact", "quantizeml"]))
    b = int(rng.integers(2 * e + 2, (33 if mode == "quantizeml" else 40) + 1))
    frac = [int(f) for f in rng.integers(-5, 12, size=n)] if rng.random() < 0.4 \
        else int(rng.integers(-3, 12))
    return dict(n=n, value_bits=value_bits, frac_bits=frac, exp_bitwidth=e, buffer_bitwidth=b,
                round_log2=mode, register_every=int(rng.integers(0, 4)),
                stage_registers=bool(rng.random() < 0.5),
                flow_control=str(rng.choice(FLOW_CONTROLS)), mask=bool(rng.random() < 0.3))


def random_argmax_params(rng) -> dict:
    return dict(n=int(rng.choice([2, 3, 7, 16, 33])), value_bits=int(rng.integers(1, 20)),
                output=str(rng.choice(["index", "onehot"])),
                register_every=int(rng.integers(0, 4)), stage_registers=bool(rng.random() < .5),
                flow_control=str(rng.choice(FLOW_CONTROLS)), mask=bool(rng.random() < 0.3))


@pytest.mark.parametrize("seed", range(4))
def test_random_legal_shiftmax_is_accepted_by_icarus_and_verilator(seed):
    params = random_shiftmax_params(np.random.default_rng(seed))
    unit = Shiftmax(**params)
    path = os.path.join(BUILD, f"shiftmax_{seed}.v")
    write_verilog(unit, path, name=f"shiftmax_{seed}")
    lint_iverilog(path, f"shiftmax_{seed}")
    lint_verilator(path, f"shiftmax_{seed}")


@pytest.mark.parametrize("seed", range(4))
def test_random_legal_argmax_is_accepted_by_icarus_and_verilator(seed):
    params = random_argmax_params(np.random.default_rng(100 + seed))
    path = os.path.join(BUILD, f"argmax_{seed}.v")
    write_verilog(Argmax(**params), path)
    lint_iverilog(path, "argmax")
    lint_verilator(path, "argmax")


def test_ports_and_sidecar_follow_the_contract():
    unit = Shiftmax(n=10, value_bits=7, frac_bits=[-2] + [1] * 9)
    text, meta = emit_verilog(unit, name="softmax_top")
    ports = declared_ports(text, "softmax_top")
    assert ports == {
        "clk": ("input", 1), "rst": ("input", 1),
        "s_axis_tdata": ("input", 80), "s_axis_tvalid": ("input", 1),
        "s_axis_tready": ("output", 1),
        "m_axis_tdata": ("output", 110), "m_axis_tvalid": ("output", 1),
        "m_axis_tready": ("input", 1),
    }
    assert meta == {
        "module": "softmax_top", "unit": "shiftmax", "latency": unit.latency,
        "input_cycles": 1, "beats_per_row": 1, "memory_bits": unit.memory_bits,
        "flow_control": unit.flow_control,
        "params": {"n": 10, "value_bits": 7, "frac_bits": [-2] + [1] * 9, "exp_bitwidth": 10,
                   "buffer_bitwidth": 32, "round_log2": "exact", "register_every": 2,
                   "stage_registers": True, "flow_control": unit.flow_control,
                   "lanes_per_beat": 10, "mask": False},
        "ports": {name: width for name, (_, width) in ports.items()},
    }


@pytest.mark.parametrize("flow_control", FLOW_CONTROLS)
def test_every_flow_control_form_keeps_the_contract_ports(flow_control):
    unit = Argmax(n=10, value_bits=7, flow_control=flow_control)
    text, meta = emit_verilog(unit)
    ports = declared_ports(text, "argmax")
    assert set(ports) == {"clk", "rst", "s_axis_tdata", "s_axis_tvalid", "s_axis_tready",
                          "m_axis_tdata", "m_axis_tvalid", "m_axis_tready"}
    assert meta["flow_control"] == meta["params"]["flow_control"] == flow_control
    assert meta["latency"] == unit.latency
    # Only the fifo form holds memory: its output FIFO.
    assert (meta["memory_bits"] > 0) == (flow_control == "fifo")


def test_a_mask_adds_s_axis_tuser_and_the_argmax_flag():
    text, meta = emit_verilog(Shiftmax(n=6, value_bits=7, mask=True), name="masked")
    ports = declared_ports(text, "masked")
    assert ports["s_axis_tuser"] == ("input", 6) and "m_axis_tuser" not in ports
    assert meta["ports"]["s_axis_tuser"] == 6
    text, meta = emit_verilog(Argmax(n=6, value_bits=7, mask=True), name="masked_argmax")
    assert declared_ports(text, "masked_argmax")["m_axis_tuser"] == ("output", 1)
    assert meta["ports"]["m_axis_tuser"] == 1
    assert list(meta["ports"])[:4] == ["s_axis_tdata", "s_axis_tuser", "s_axis_tvalid",
                                       "s_axis_tready"]
    assert "s_axis_tlast" not in ports and "m_axis_tlast" not in ports


def test_the_adapter_is_emitted_as_given():
    axi = AxiStream(Argmax(n=3, value_bits=2))
    assert emit_verilog(axi)[1] == emit_verilog(Argmax(n=3, value_bits=2))[1]
    with pytest.raises(TypeError, match="unit must"):
        emit_verilog(object())


def test_sidecar_is_written_beside_the_verilog():
    path = os.path.join(BUILD, "nested", "dir", "argmax_onehot.v")
    json_path = write_verilog(Argmax(n=5, value_bits=3, output="onehot"), path)
    assert str(json_path).endswith("argmax_onehot.json")
    meta = json.loads(open(json_path).read())
    assert meta["unit"] == "argmax" and meta["ports"]["m_axis_tdata"] == 5
    assert meta["params"]["output"] == "onehot" and meta["latency"] >= 1


def test_bad_module_name_is_rejected():
    with pytest.raises(ValueError, match="name must be a Verilog identifier"):
        check_module_name("2fast")


def test_a_thousand_argmax_lanes_elaborate():
    start = time.process_time()
    text, meta = emit_verilog(Argmax(n=1000, value_bits=15))
    assert meta["ports"]["m_axis_tdata"] == 10 and "module argmax(" in text
    print(f"argmax n=1000: {time.process_time() - start:.1f} s CPU")


@pytest.mark.skipif(not os.environ.get("SHIFTMAX_HW_FULL"),
                    reason="about 20 s of CPU: set SHIFTMAX_HW_FULL=1")
def test_a_thousand_shiftmax_lanes_elaborate():
    start = time.process_time()
    text, meta = emit_verilog(Shiftmax(n=1000, value_bits=15, frac_bits=10))
    assert meta["ports"]["m_axis_tdata"] == 11000 and "module shiftmax(" in text
    print(f"shiftmax n=1000: {time.process_time() - start:.1f} s CPU")


@pytest.mark.parametrize("unit, params", [
    pytest.param(unit, params, id=f"{unit.name}-{i}")
    for unit in UNITS.values() for i, params in enumerate(unit.smoke)])
def test_generating_verilog_warns_of_nothing(unit, params):
    """Every smoke configuration of the registry converts without a warning (no component
    built and left unelaborated, no deprecated Amaranth use)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        emit_verilog(unit.build(**params))
        gc.collect()  # an unused elaboratable warns when it is collected
    assert [str(w.message) for w in caught] == []
