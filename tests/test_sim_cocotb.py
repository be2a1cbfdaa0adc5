"""cocotb on Icarus through pytest: a small matrix of generated units against the golden model.

Each case generates the Verilog with the real ``shiftmax verilog`` command, builds it with
``cocotb_tools.runner`` and runs ``shiftmax.sim.unit_tests`` (random vectors with gaps and
backpressure, directed corners, reference vectors, exhaustive tiny inputs, latency, reset in
mid-stream). The full matrix is ``make regress``; see docs/simulation.md.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from shiftmax.sim.config import SimConfig
from shiftmax.sim.runner import (
    ROW_TEST_MODULE,
    TEST_MODULE,
    bench_module,
    generate_verilog,
    rerun_command,
    simulate,
)
from shiftmax.units import UNITS

pytestmark = pytest.mark.skipif(shutil.which("iverilog") is None,
                                reason="Icarus Verilog is not installed (make iverilog)")

BUILD_ROOT = Path(__file__).resolve().parent.parent / "build" / "sim-pytest"
SEED = 20240607

#: Tests every run must pass, per cocotb test module (one-beat bench, row-framed bench).
EXPECTED_TESTS = {
    TEST_MODULE: {"test_latency_matches_sidecar",
                  "test_random_vectors_with_gaps_and_backpressure", "test_directed_corners",
                  "test_reset_mid_stream_drops_beats_in_flight"},
    ROW_TEST_MODULE: {"test_rows_back_to_back_at_full_throughput",
                      "test_random_rows_with_gaps_and_backpressure",
                      "test_reset_mid_row_drops_rows_in_flight",
                      "test_malformed_rows_between_well_formed_ones"},
}

#: Each unit's small matrix, from its registry entry.
SMALL_MATRIX = [SimConfig(entry.name, **params) for entry in UNITS.values()
                for params in entry.smoke]


def rtl_simulate(config: SimConfig, **options):
    return simulate(config, simulator="icarus", seed=SEED, vectors=300, flow="runner",
                    build_root=BUILD_ROOT, **options)


@pytest.mark.parametrize("config", SMALL_MATRIX, ids=lambda config: config.name)
def test_generated_verilog_matches_golden_model_on_icarus(config: SimConfig) -> None:
    result = rtl_simulate(config)
    if not result.passed:
        pytest.fail(f"{config.describe()}:\n{result.failure_text()}\n"
                    f"re-run: {rerun_command(config, 'icarus', SEED)}", pytrace=False)
    assert result.vectors > 0
    ran = {test.name for test in result.tests if test.status == "passed"}
    assert EXPECTED_TESTS[bench_module(json.loads(
        (BUILD_ROOT / config.name / f"{config.unit}.json").read_text()))] <= ran


def test_broken_design_is_caught_with_input_expected_and_actual() -> None:
    """A copy of the generated argmax whose output bit 0 flips whenever its top bit is set
    (indices 8 and 9 of 10 lanes) must fail, and say which vector, what and why."""
    config = SimConfig(unit="argmax", n=10, value_bits=7)
    good, sidecar = generate_verilog(config, BUILD_ROOT / config.name)
    broken_dir = BUILD_ROOT / "broken-argmax"
    broken_dir.mkdir(parents=True, exist_ok=True)
    broken = broken_dir / "argmax.v"
    broken.write_text(_flip_low_bit_when_top_bit_set(good.read_text(), sidecar))
    broken.with_suffix(".json").write_text(json.dumps(sidecar))

    result = rtl_simulate(config, verilog=broken)

    assert not result.passed
    text = result.failure_text()
    assert "test_random_vectors_with_gaps_and_backpressure" in text
    assert "input [" in text and "expected [" in text and "actual [" in text, text


def test_ready_that_waits_for_the_consumer_breaks_the_enable_forms_rule() -> None:
    """The enable form documents ``s_axis_tready = m_axis_tready | ~m_axis_tvalid``. A copy
    that takes inputs only while the consumer is ready (outputs still right, throughput lost
    under backpressure: what a clock enable that forgot ``~m_axis_tvalid`` does) must fail."""
    config = SimConfig(unit="argmax", n=10, value_bits=7, flow_control="enable")
    good, sidecar = generate_verilog(config, BUILD_ROOT / config.name)
    slow_dir = BUILD_ROOT / "slow-ready-argmax"
    slow_dir.mkdir(parents=True, exist_ok=True)
    slow = slow_dir / "argmax.v"
    name, width_in = sidecar["module"], sidecar["ports"]["s_axis_tdata"]
    width_out = sidecar["ports"]["m_axis_tdata"]
    slow.write_text(good.read_text().replace(f"module {name}(", f"module {name}_core(", 1) + f"""
module {name}(input clk, input rst, input [{width_in - 1}:0] s_axis_tdata,
  input s_axis_tvalid, output s_axis_tready, output [{width_out - 1}:0] m_axis_tdata,
  output m_axis_tvalid, input m_axis_tready);
  wire core_ready;
  {name}_core core(.clk(clk), .rst(rst), .s_axis_tdata(s_axis_tdata),
    .s_axis_tvalid(s_axis_tvalid & m_axis_tready), .s_axis_tready(core_ready),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready));
  assign s_axis_tready = core_ready & m_axis_tready;
endmodule
""")
    slow.with_suffix(".json").write_text(json.dumps(sidecar))

    result = rtl_simulate(config, verilog=slow)

    assert not result.passed
    assert "the flow control documents 1" in result.failure_text()


def _flip_low_bit_when_top_bit_set(verilog: str, sidecar: dict) -> str:
    """Rename the generated module to ``<name>_core`` and wrap it with a faulty output."""
    name, ports = sidecar["module"], sidecar["ports"]
    width_in, width_out = ports["s_axis_tdata"], ports["m_axis_tdata"]
    assert f"module {name}(" in verilog
    core = verilog.replace(f"module {name}(", f"module {name}_core(", 1)
    return core + f"""
module {name}(input clk, input rst, input [{width_in - 1}:0] s_axis_tdata,
  input s_axis_tvalid, output s_axis_tready, output [{width_out - 1}:0] m_axis_tdata,
  output m_axis_tvalid, input m_axis_tready);
  wire [{width_out - 1}:0] core_tdata;
  {name}_core core(.clk(clk), .rst(rst), .s_axis_tdata(s_axis_tdata),
    .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready), .m_axis_tdata(core_tdata),
    .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready));
  assign m_axis_tdata = core_tdata ^ {{{{{width_out - 1}{{1'b0}}}}, core_tdata[{width_out - 1}]}};
endmodule
"""
