"""The row-framed cocotb bench (``shiftmax.sim.row_tests``) on Icarus through pytest.

Generates small units with the real ``shiftmax verilog`` command and runs the row bench on
those the make-test matrix (``tests/test_sim_cocotb.py``, the registry's ``smoke`` entries)
leaves out: a streaming shiftmax that reaches round_log2 thresholds a running sum gets wrong,
and a one-beat argmax with a mask; and checks that a streaming shiftmax which loses the
malformed flag, or whose output changes while stalled, is caught, with the input row, the
expected and the actual integers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from shiftmax.sim.config import SimConfig
from shiftmax.sim.runner import generate_verilog, rerun_command, simulate

pytestmark = pytest.mark.skipif(shutil.which("iverilog") is None,
                                reason="Icarus Verilog is not installed (make iverilog)")

BUILD_ROOT = Path(__file__).resolve().parent.parent / "build" / "sim-rows-pytest"
SEED = 20261201

STREAMING_SHIFTMAX = SimConfig("shiftmax", n=10, value_bits=7, exp_bitwidth=4,
                               buffer_bitwidth=12, lanes_per_beat=4, mask=True)
THRESHOLD_SHIFTMAX = SimConfig("shiftmax", n=16, value_bits=7, exp_bitwidth=3,
                               buffer_bitwidth=16, lanes_per_beat=2)
MASKED_ARGMAX = SimConfig("argmax", n=10, value_bits=7, mask=True)
#: The enable form, R = 10: stalls long enough to fill the distance buffer.
ENABLE_SHIFTMAX = SimConfig("shiftmax", n=40, value_bits=7, lanes_per_beat=4,
                            register_every=1, flow_control="enable")

ROW_TESTS = {"test_rows_back_to_back_at_full_throughput",
             "test_random_rows_with_gaps_and_backpressure", "test_directed_corners",
             "test_reset_mid_row_drops_rows_in_flight"}


def rtl_simulate(config: SimConfig, **options):
    return simulate(config, simulator="icarus", seed=SEED, vectors=100, flow="runner",
                    build_root=BUILD_ROOT, **options)


def passed_tests(config: SimConfig, result) -> set[str]:
    if not result.passed:
        pytest.fail(f"{config.describe()}:\n{result.failure_text()}\n"
                    f"re-run: {rerun_command(config, 'icarus', SEED)}", pytrace=False)
    assert result.vectors > 0
    return {test.name for test in result.tests if test.status == "passed"}


def test_streaming_shiftmax_rounds_the_exact_sum_at_thresholds() -> None:
    ran = passed_tests(THRESHOLD_SHIFTMAX, rtl_simulate(THRESHOLD_SHIFTMAX))
    assert ROW_TESTS | {"test_round_log2_threshold_rows_a_running_sum_gets_wrong",
                        "test_malformed_rows_between_well_formed_ones"} <= ran


def test_streaming_shiftmax_enable_form_keeps_rows_through_stalls() -> None:
    """A distance word is freed when pass 3 reads it, not in every cycle of a stalled row."""
    ran = passed_tests(ENABLE_SHIFTMAX, rtl_simulate(ENABLE_SHIFTMAX))
    assert ROW_TESTS <= ran


def test_one_beat_argmax_with_a_mask_passes_the_row_bench() -> None:
    ran = passed_tests(MASKED_ARGMAX, rtl_simulate(MASKED_ARGMAX))
    assert ROW_TESTS | {"test_masks_none_random_causal_and_full"} <= ran


def rtl_simulate_broken(label: str, replaced: list[str], body: str):
    """The row bench on a copy of the streaming shiftmax whose ``replaced`` outputs come from
    the Verilog ``body`` (the core's own as ``core_<port>``)."""
    config = STREAMING_SHIFTMAX
    good, sidecar = generate_verilog(config, BUILD_ROOT / config.name)
    broken_dir = BUILD_ROOT / f"broken-{label}"
    broken_dir.mkdir(parents=True, exist_ok=True)
    broken = broken_dir / f"{sidecar['module']}.v"
    broken.write_text(_wrapped(good.read_text(), sidecar, replaced, body))
    broken.with_suffix(".json").write_text(json.dumps(sidecar))
    result = rtl_simulate(config, verilog=broken)
    assert not result.passed
    return {test.name: test.message for test in result.tests if test.status == "failed"}


def test_unit_that_loses_the_malformed_flag_is_caught() -> None:
    """m_axis_tuser tied to 0 must fail the malformed-row test (and only tests with
    malformed rows), naming the row, the expected and the actual integers and tuser."""
    failed = rtl_simulate_broken("tuser-low", ["m_axis_tuser"], "assign m_axis_tuser = 1'b0;")
    assert "test_malformed_rows_between_well_formed_ones" in failed, failed
    assert "test_random_rows_with_gaps_and_backpressure" not in failed
    text = failed["test_malformed_rows_between_well_formed_ones"]
    assert "input [" in text and "expected [" in text and "actual [" in text, text
    assert "tuser 1" in text and "tuser 0" in text, text


def test_output_that_changes_while_stalled_is_caught() -> None:
    """m_axis_tdata's bit 0 toggling on every other stalled cycle breaks the AXI4-Stream rule
    the monitor checks (the values themselves are right whenever a beat is taken)."""
    failed = rtl_simulate_broken(
        "tdata-moves", ["m_axis_tdata"],
        "reg toggle = 0;\n  always @(posedge clk) toggle <= ~toggle;\n"
        "  assign m_axis_tdata = core_m_axis_tdata ^ (m_axis_tvalid & ~m_axis_tready & toggle);")
    assert "test_rows_back_to_back_at_full_throughput" not in failed
    text = failed["test_random_rows_with_gaps_and_backpressure"]
    assert "m_axis_tdata changed" in text and "m_axis_tready low" in text, text


def _wrapped(verilog: str, sidecar: dict, replaced: list[str], body: str) -> str:
    """Rename the generated module to ``<name>_core`` and wrap it: the ``replaced`` outputs
    are driven by ``body``, which reads the core's as ``core_<port>``."""
    name, ports = sidecar["module"], sidecar["ports"]
    assert f"module {name}(" in verilog
    core = verilog.replace(f"module {name}(", f"module {name}_core(", 1)
    inputs = [port for port in ports if port.startswith("s_axis_t") and port != "s_axis_tready"]
    inputs += ["m_axis_tready", "clk", "rst"]
    outputs = [port for port in ports if port not in inputs]
    declarations = [f"input [{ports[p] - 1}:0] {p}" for p in inputs] + \
        [f"output [{ports[p] - 1}:0] {p}" for p in outputs]
    wires = "".join(f"  wire [{ports[p] - 1}:0] core_{p};\n" for p in replaced)
    connections = [f".{p}({p})" for p in ports if p not in replaced] + \
        [f".{p}(core_{p})" for p in replaced]
    return core + f"""
module {name}({", ".join(declarations)});
{wires}  {name}_core core({", ".join(connections)});
  {body}
endmodule
"""
