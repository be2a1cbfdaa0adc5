"""The formal stream properties (``shiftmax.sim.formal``): the fast subset of ``make formal``.

The tiny argmax with the global enable and with the FIFO is proven (every property and the
miter against the unpipelined unit by k-induction, with the invariants of the unit's formal
build), a deliberately broken copy fails with a counterexample trace, a broken datapath fails
the miter, a folded datapath whose result depends on what it held before the beat fails the
fold check, and the property module is written from any sidecar. The streaming shiftmax's
formal build reports the output beats it owes and states what it holds of the tracked row,
its invariants close with the local properties (its induction is make formal's), a broken
accumulator fails its row check, and it drains past the one-beat quiet bound.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

from shiftmax.sim import formal

BUILD_ROOT = Path(__file__).resolve().parents[1] / "build" / "formal-pytest"
TOOLS = [shutil.which(tool) or str(Path(formal.sys.executable).with_name(tool))
         for tool in ("yowasp-sby", "yices-smt2")]
needs_tools = pytest.mark.skipif(
    not all(Path(tool).exists() for tool in TOOLS),
    reason="the formal extra is not installed (make formal installs it)")


@needs_tools
@pytest.mark.parametrize("name", formal.FAST_JOBS)
def test_tiny_argmax_stream_properties_and_miter_are_proven_by_induction(name: str) -> None:
    job = next(job for job in formal.JOBS if job.name == name)
    result = formal.run_job(job, BUILD_ROOT, timeout=120)
    assert result.status == "PROVEN", f"{result.detail} {result.trace}"
    assert result.checks == {"local": "PASS", "induct": "PASS"}


@needs_tools
def test_broken_result_register_fails_with_a_counterexample_trace() -> None:
    result = formal.run_job(formal.BROKEN_JOB, BUILD_ROOT, timeout=120)
    assert result.status == "FAIL"
    assert "harness.sv:" in result.detail
    trace = formal.read_trace(Path(result.trace), ["m_axis_tvalid", "m_axis_tready",
                                                   "m_axis_tdata"])
    valid, ready, data = (trace[name] for name in ("m_axis_tvalid", "m_axis_tready",
                                                   "m_axis_tdata"))
    # The trace shows the violation: an output waiting (valid, not ready) whose data changed.
    assert any(valid[t] and not ready[t] and valid[t + 1] and data[t + 1] != data[t]
               for t in range(len(valid) - 1))
    assert "m_axis_tdata" in formal.trace_text(Path(result.trace))


@needs_tools
def test_broken_argmax_tree_passes_the_local_properties_and_fails_the_miter() -> None:
    result = formal.run_job(formal.BROKEN_MITER_JOB, BUILD_ROOT, timeout=120)
    assert result.checks == {"local": "PASS", "induct": "FAIL"}
    # The unit's own check of the tracked row's result fails first, named by the line that
    # lists where its results wait (FormalBuild.hold, in the one-beat flow control).
    assert "(hw/flow.py:" in result.detail
    trace = formal.read_trace(Path(result.trace), ["formal_tracking", "m_axis_tvalid",
                                                   "m_axis_tdata", "f_expect"])
    assert any(tracking and valid and data != expect for tracking, valid, data, expect
               in zip(*(trace[name] for name in ("formal_tracking", "m_axis_tvalid",
                                                 "m_axis_tdata", "f_expect")), strict=True))


def test_harness_of_a_streaming_unit_frames_rows_and_checks_output_beats() -> None:
    sidecar = {"module": "dut", "unit": "shiftmax", "latency": 5, "beats_per_row": 2,
               "input_cycles": 1, "flow_control": "enable",
               "params": {"n": 3, "value_bits": 3, "lanes_per_beat": 2},
               "ports": {"s_axis_tdata": 8, "s_axis_tlast": 1, "s_axis_tvalid": 1,
                         "s_axis_tready": 1, "m_axis_tdata": 6, "m_axis_tlast": 1,
                         "m_axis_tuser": 1, "m_axis_tvalid": 1, "m_axis_tready": 1,
                         "clk": 1, "rst": 1}}
    job = formal.FormalJob("streaming", "shiftmax", {"n": 3, "value_bits": 3})
    text = formal.harness_verilog(job, sidecar, None)
    assert "f_row_end = s_take && !f_drop && (s_axis_tlast || f_beat == 1)" in text
    assert "assert(m_axis_tlast == (f_out_beat == 1))" in text
    # No enable formula for a streaming unit, and the miter only when asked for.
    assert "s_axis_tready == (m_axis_tready || !m_axis_tvalid)" not in text
    assert "plain" not in text


def test_harness_of_a_one_beat_unit_ties_its_count_to_the_rows_the_unit_holds() -> None:
    sidecar = {"module": "dut", "unit": "argmax", "latency": 3, "beats_per_row": 1,
               "input_cycles": 1, "flow_control": "fifo", "formal_rows_held": 8,
               "params": {"n": 3, "value_bits": 3},
               "ports": {"s_axis_tdata": 12, "s_axis_tvalid": 1, "s_axis_tready": 1,
                         "m_axis_tdata": 2, "m_axis_tvalid": 1, "m_axis_tready": 1,
                         "clk": 1, "rst": 1}}
    reference = {**sidecar, "module": "plain", "latency": 1, "flow_control": "enable"}
    job = formal.FormalJob("argmax", "argmax", {"n": 3, "value_bits": 3}, miter=True)
    text = formal.harness_verilog(job, sidecar, reference)
    assert "assert(f_pending == formal_rows_held)" in text
    assert "assign formal_tracking = f_expect_ready && f_position < f_pending;" in text
    # Free-running datapath: the miter closes by induction, no bounded check needed.
    assert formal.job_depths(job, sidecar).keys() == {"local", "induct"}
    # Frozen (the enable form, three pipeline stages): the miter in parts, the datapath's
    # result taken as given by the induction and tied to its input by the step check.
    frozen = {**sidecar, "flow_control": "enable"}
    assert formal.job_depths(job, frozen).keys() == {"local", "induct", "step"}
    assert formal.free_running_partner(
        formal.FormalJob("argmax-x-enable", "argmax", {"flow_control": "enable"})).params == {
        "flow_control": "fifo"}
    # Folded: the fifo form reads a beat's parts in consecutive cycles, so its miter closes
    # by induction; the frozen forms' miter in parts, as when not folded.
    assert formal.job_depths(job, {**sidecar, "input_cycles": 2}).keys() == {"local", "induct"}
    assert formal.job_depths(job, {**frozen, "input_cycles": 2}).keys() == {
        "local", "induct", "step"}


def test_held_harness_asserts_every_flip_flop_holds_while_the_enable_is_low() -> None:
    netlist = {"modules": {"held": {
        "ports": {"clk": {"direction": "input", "bits": [2]},
                  "ce": {"direction": "input", "bits": [3]},
                  "x": {"direction": "input", "bits": [4, 5]},
                  "result": {"direction": "output", "bits": [6, 7]},
                  "stage.r": {"direction": "output", "bits": [8]}},
        "cells": {"a": {"type": "$dff", "connections": {"Q": [6, 7]}},
                  "b": {"type": "$dff", "connections": {"Q": [8]}}}}}}
    text = formal._held_harness(netlist)
    assert "held dut (.\\clk (\\clk ), .\\ce (\\ce ), .\\x (\\x )" in text
    assert "if (f_past && !$past(ce))" in text
    assert "assert(f_q0 == $past(f_q0));" in text and "assert(f_q1 == $past(f_q1));" in text
    # A flip-flop whose output is no port: the check would miss it, so it refuses.
    netlist["modules"]["held"]["cells"]["c"] = {"type": "$dff", "connections": {"Q": [9]}}
    with pytest.raises(RuntimeError):
        formal._held_harness(netlist)


def test_step_copies_name_numbered_signals_by_rank_so_that_two_forms_pair() -> None:
    # Amaranth numbers a repeated name across the whole design: the same datapath declares
    # reg$9 and reg$11 in one form, reg$10 and reg$12 in the other.
    def module(first: int, second: int) -> str:
        return "\n".join(["module \\x.unit.datapath (clk);",
                          f"  reg \\reg${first}  = 1'h0;", f"  reg \\reg${second}  = 1'h0;",
                          "  reg \\reg ;", "  wire \\$3 ;", "  always @(posedge clk)",
                          f"    \\reg${second}  <= \\reg${first} ;", "endmodule"])

    one, other = (formal._plain_signal_names(module(*numbers)) for numbers in ((9, 11),
                                                                               (10, 12)))
    assert one == other
    assert "\\reg$n1  <= \\reg$n0 ;" in one and "\\reg ;" in one and "\\$3 ;" in one


def test_fold_harness_feeds_two_copies_one_beat_and_compares_them_after_the_latency() -> None:
    verilog = """module \\free.unit.datapath (clk, rst, take, step, result, i__payload);
  input clk;
  wire clk;
  input [15:0] i__payload;
  output [1:0] result;
  input rst;
  input step;
  input take;
endmodule
"""
    text = formal._fold_harness(verilog, r"\free.unit.datapath", 2, 3)
    assert "input wire [15:0] a_i__payload" in text and "input wire b_take" in text
    assert "assume(a_take && !a_rst && a_step == f_cycle);" in text
    assert "if (f_cycle < 2) begin" in text and "assume(b_i__payload == a_i__payload);" in text
    assert "if (f_cycle != 0) assume(a_i__payload == f_i__payload);" in text
    assert "if (f_cycle == 4) begin\n        assert(a_result == b_result);" in text
    with pytest.raises(RuntimeError):
        formal._fold_harness(verilog.replace("input take;", ""), r"\free.unit.datapath", 2, 3)


@needs_tools
def test_fold_check_fails_when_a_beats_result_depends_on_what_the_datapath_held() -> None:
    job = next(job for job in formal.JOBS if job.name == "argmax-folded-enable")
    directory, depths = formal.write_job(job, BUILD_ROOT)
    assert "step" in depths and (directory / "fold.sby").exists()
    status, failed, _ = formal._sby(directory, "fold.sby", timeout=120)
    assert status == "PASS", failed
    # A running best loaded only when greater, also on a beat's first part, keeps what it
    # held before the beat.
    text = (directory / "step_free.v").read_text()
    broken, count = re.subn(r"assign better = first_d1 \|", "assign better = 1'h0 |", text)
    assert count == 1
    (directory / "step_free.v").write_text(broken)
    status, failed, _ = formal._sby(directory, "fold.sby", timeout=120)
    assert status == "FAIL" and "fold_check.sv:" in failed


def test_miter_reference_is_the_unpipelined_one_beat_unit() -> None:
    job = next(job for job in formal.JOBS if job.name == "shiftmax-streaming-miter-fifo")
    reference = job.reference_params()
    assert reference["register_every"] == 0 and reference["stage_registers"] is False
    assert "lanes_per_beat" not in reference and reference["flow_control"] == "enable"


def test_harness_of_a_streaming_unit_that_reports_its_rows_ties_its_framing_too() -> None:
    sidecar = {"module": "dut", "unit": "topk", "latency": 9, "beats_per_row": 2,
               "input_cycles": 1, "flow_control": "fifo", "formal_rows_held": 8,
               "params": {"n": 3, "value_bits": 3, "lanes_per_beat": 2, "k": 2},
               "ports": {"s_axis_tdata": 8, "s_axis_tlast": 1, "s_axis_tvalid": 1,
                         "s_axis_tready": 1, "m_axis_tdata": 4, "m_axis_tlast": 1,
                         "m_axis_tuser": 1, "m_axis_tvalid": 1, "m_axis_tready": 1,
                         "clk": 1, "rst": 1}}
    reference = {**sidecar, "module": "plain", "latency": 2, "beats_per_row": 1,
                 "flow_control": "enable"}
    job = formal.FormalJob("topk", "topk", {"n": 3, "value_bits": 3, "k": 2}, miter=True,
                           well_formed=True)
    text = formal.harness_verilog(job, sidecar, reference)
    assert "assert(f_pending == formal_rows_held)" in text
    assert "assert(f_beat == formal_in_beat && f_drop == formal_in_dropping)" in text
    # No result of a streaming unit is tracked inside it; its input may slow down after an
    # early tlast, but never hangs.
    assert "assign formal_tracking = 1'b0;" in text
    assert "f_ready_run >= 17 && f_early >= 17) assert(s_axis_tready)" in text
    assert "assert(f_refused < 17)" in text
    # Every property but the streaming miter by induction; the miter from reset.
    assert formal.job_depths(job, sidecar).keys() == {"local", "induct", "bmc"}
    # A formal build that states what it holds of the tracked row: the miter by the row
    # check, back to where each beat is stated again.
    stated = {**sidecar, "formal_partial": True, "formal_unstated": 9}
    assert formal.job_depths(job, stated) == {
        "local": 6, "induct": formal.quiet_cycles(sidecar), "row": 9 + formal.ROW_DEPTH}


@pytest.mark.parametrize("unit, params", [
    ("argmax", {"n": 3, "value_bits": 3, "lanes_per_beat": 2, "flow_control": "fifo"}),
    ("argmax", {"n": 3, "value_bits": 3, "lanes_per_beat": 2, "flow_control": "enable"}),
    ("topk", {"n": 3, "value_bits": 3, "k": 2, "lanes_per_beat": 2, "flow_control": "fifo"}),
    ("topk", {"n": 3, "value_bits": 3, "k": 2, "lanes_per_beat": 2, "flow_control": "enable"}),
    # Larger rows: the statements about the tracked row stay a network of named wires
    # (an insertion network built from copies of itself grows exponentially with N).
    ("argmax", {"n": 10, "value_bits": 7, "lanes_per_beat": 4, "flow_control": "fifo"}),
    ("topk", {"n": 10, "value_bits": 7, "k": 3, "lanes_per_beat": 4, "flow_control": "fifo"}),
])
def test_formal_build_of_a_streaming_unit_reports_rows_and_framing(unit: str,
                                                                    params: dict) -> None:
    from shiftmax.hw.verilog import emit_verilog
    from shiftmax.units import UNITS

    built = UNITS[unit].build(**params)
    text, meta = emit_verilog(built, name="dut", formal=True)
    assert meta["formal_rows_held"] == 8
    # What its pass holds of the tracked row: stated, so the miter closes by induction.
    assert meta["formal_partial"]
    assert "input [" in text and "formal_row_tdata;" in text
    assert "output [7:0] formal_in_beat;" in text and "output formal_in_dropping;" in text
    normal, _ = emit_verilog(UNITS[unit].build(**params), name="dut")
    assert "assert" not in normal and "formal_" not in normal


@pytest.mark.parametrize("flow", ["enable", "fifo"])
def test_formal_build_of_the_streaming_shiftmax_reports_the_beats_it_owes(flow: str) -> None:
    from shiftmax.hw.verilog import emit_verilog
    from shiftmax.units import UNITS

    params = {"n": 3, "value_bits": 3, "exp_bitwidth": 2, "buffer_bitwidth": 6,
              "lanes_per_beat": 2, "flow_control": flow}
    text, meta = emit_verilog(UNITS["shiftmax"].build(**params), name="dut", formal=True)
    # The output beats it owes on formal_rows_held, its framing, and the invariants of its
    # pointers, pass 2's and pass 3's beat counters, the row FIFOs' counts and (fifo) the
    # output queue's words: asserted inside the unit.
    assert meta["formal_rows_held"] == 8
    assert "output [7:0] formal_rows_held;" in text and "output [7:0] formal_in_beat;" in text
    assert "read_pointer_at_last ==" in text and "row_wp_at_last ==" in text
    assert "at_end2 ==" in text and "at_end3 ==" in text and "formal_count" in text
    if flow == "fifo":
        assert "formal_stored" in text and "formal_word0" in text
    # What every stage holds of the tracked row, so that its miter closes by induction; only
    # the stage inside RoundLog2 states nothing.
    assert meta["formal_partial"] and meta["formal_unstated"] == 1
    assert "formal_row_holds" in text and "formal_row_tdata;" in text
    normal, _ = emit_verilog(UNITS["shiftmax"].build(**params), name="dut")
    assert "assert" not in normal and "formal_" not in normal


def test_harness_of_the_streaming_shiftmax_counts_output_beats() -> None:
    sidecar = {"module": "dut", "unit": "shiftmax", "latency": 22, "beats_per_row": 2,
               "input_cycles": 1, "flow_control": "fifo", "formal_rows_held": 8,
               "params": {"n": 3, "value_bits": 3, "lanes_per_beat": 2},
               "ports": {"s_axis_tdata": 8, "s_axis_tlast": 1, "s_axis_tvalid": 1,
                         "s_axis_tready": 1, "m_axis_tdata": 6, "m_axis_tlast": 1,
                         "m_axis_tuser": 1, "m_axis_tvalid": 1, "m_axis_tready": 1,
                         "clk": 1, "rst": 1}}
    job = next(job for job in formal.JOBS if job.name == "shiftmax-streaming-fifo")
    text = formal.harness_verilog(job, sidecar, None)
    # The beats owed tie the output beat to the unit's state; the framing as in the others.
    assert "assert(2 * f_pending - f_out_beat == formal_rows_held)" in text
    assert "assert(f_pending == formal_rows_held)" not in text
    assert "assert(f_beat == formal_in_beat && f_drop == formal_in_dropping)" in text
    # R beats per row: quiet cycles count only without an output beat, so a unit holding
    # many rows may take R cycles per row to drain, and the bound stays latency + 2R + 2.
    assert ("f_quiet_now = !s_axis_tvalid && m_axis_tready && !m_axis_tvalid && !rst;"
            in text)
    assert "f_quiet >= 28) assert(f_pending == 0 && !m_axis_tvalid)" in text
    # Every property by k-induction, no deeper than that bound.
    assert formal.job_depths(job, sidecar) == {"local": 6, "induct": formal.quiet_cycles(sidecar)}
    # A one-beat unit's quiet cycles are every cycle without input and with the sink ready.
    one_beat = {**sidecar, "unit": "argmax", "latency": 3, "beats_per_row": 1,
                "ports": {**sidecar["ports"], "m_axis_tdata": 2}}
    assert "f_quiet_now = !s_axis_tvalid && m_axis_tready && !rst;" in formal.harness_verilog(
        formal.FormalJob("argmax", "argmax", {"n": 3, "value_bits": 3}), one_beat, None)


@needs_tools
@pytest.mark.parametrize("flow", ["enable", "fifo"])
def test_streaming_shiftmax_invariants_close_with_its_local_properties(flow: str) -> None:
    # Only the local check (seconds); the induction of every property (minutes) is
    # make formal's.
    job = next(job for job in formal.JOBS if job.name == f"shiftmax-streaming-{flow}")
    directory, depths = formal.write_job(job, BUILD_ROOT)
    sidecar = json.loads((directory / "dut.json").read_text())
    assert depths == {"local": 6, "induct": formal.quiet_cycles(sidecar)}
    status, failed, trace = formal._sby(directory, "local.sby", timeout=120)
    assert status == "PASS", f"{failed} {trace}"


#: The streaming shiftmax whose accumulator never carries a row's sum to its next beat (the
#: row's sum is its last beat's): its formal build's statement of the accumulator fails.
BROKEN_SUM = (r"(\n    carried <= )\\\$\d+ \[\d+:0\];", r"\g<1>0;")


@needs_tools
def test_streaming_shiftmax_row_check_fails_on_a_broken_sum() -> None:
    # The row check alone (seconds); make formal proves the miter job, its row check and
    # the induction of the rest that the row check takes as given.
    job = next(job for job in formal.JOBS if job.name == "shiftmax-streaming-miter-enable")
    broken = dataclasses.replace(job, name="broken-streaming-sum", broken=BROKEN_SUM)
    directory, depths = formal.write_job(broken, BUILD_ROOT)
    sidecar = json.loads((directory / "dut.json").read_text())
    assert depths == {"local": 6, "induct": formal.quiet_cycles(sidecar),
                      "row": sidecar["formal_unstated"] + formal.ROW_DEPTH}
    status, failed, trace = formal._sby(directory, "row.sby", timeout=300)
    # The induction step fails (a reset is more than the depth away), with its trace.
    assert status == "UNKNOWN" and trace.endswith("trace_induct.vcd")
    assert re.fullmatch(r"dut_row\.v:\d+ \(hw/streaming_shiftmax\.py:\d+\)", failed)


@needs_tools
@pytest.mark.parametrize("into, status", [("assert", "PASS"), ("register", "FAIL")])
def test_row_check_rests_on_formal_inputs_reaching_no_register(into: str, status: str) -> None:
    directory = BUILD_ROOT / f"cone-{into}"
    directory.mkdir(parents=True, exist_ok=True)
    use = ("always @* assert (q == formal_position[0] || q != formal_position[0]);"
           if into == "assert" else "always @(posedge clk) q <= formal_position[0];")
    (directory / "dut.v").write_text(
        "module dut (input clk, input d, input [1:0] formal_position, output reg q);\n"
        f"  always @(posedge clk) q <= d;\n  {use}\nendmodule\n"
        if into == "assert" else
        "module dut (input clk, input [1:0] formal_position, output reg q);\n"
        f"  {use}\nendmodule\n")
    (directory / "cone.ys").write_text(formal._ROW_CONE)
    assert formal._yosys(directory, "cone.ys", timeout=60)[0] == status


def test_row_check_asserts_the_tracked_row_and_the_miter_and_assumes_the_rest() -> None:
    dut = "\n".join(["module dut;", "  always @*", "    if (1'h1) begin",
                     "      assert (\\$12 );", "      assert (formal_row_holds);",
                     "      assert (\\formal_row_holds$3 );", "    end", "endmodule", ""])
    rest, row = (formal._dut_copy(dut, formal._states_row, roles, "formal_row_holds")
                 for roles in (("drop", "assert"), ("assert", "assume")))
    # The induction of the rest leaves the statements out, line for line.
    assert rest.splitlines()[3:6] == ["      assert (\\$12 );", "      ;", "      ;"]
    # The row check asserts them and assumes every other Assert of the formal build.
    assert row.splitlines()[3:6] == ["      assume (\\$12 );", "      assert (formal_row_holds );",
                                     "      assert (\\formal_row_holds$3 );"]
    with pytest.raises(RuntimeError, match="formal_row_holds"):
        formal._dut_copy("      assert (\\$12 );\n", formal._states_row, ("drop", "assert"),
                         "formal_row_holds")
    # The frozen forms' induction takes the datapath's given result as an assumption.
    given = formal._dut_copy("      assert (formal_given_result);\n      assert (\\$12 );\n",
                             formal.GIVEN_RESULT.__eq__, ("assume", "assert"),
                             formal.GIVEN_RESULT)
    assert given.splitlines() == ["      assume (formal_given_result );",
                                  "      assert (\\$12 );"]
    harness = "\n".join(["    always @(*) assert(a);", "`ifdef FULL", "    assert(b);",
                         "`ifdef MITER", "    assert(c);", "`endif", "`endif",
                         "`ifdef MITER", "    assert(d);", "`else", "    assert(f);", "`endif",
                         "    assume(e);"])
    assert formal._assumed_but_miter(harness).splitlines() == [
        "    always @(*) assume(a);", "`ifdef FULL", "    assume(b);", "`ifdef MITER",
        "    assert(c);", "`endif", "`endif", "`ifdef MITER", "    assert(d);", "`else",
        "    assume(f);", "`endif", "    assume(e);"]




@pytest.mark.parametrize("flow", ["enable", "fifo"])
def test_streaming_shiftmax_drains_one_beat_per_clock_past_the_one_beat_quiet_bound(
        flow: str) -> None:
    # Why its quiet cycles count only those without an output beat: with the sink stalled,
    # rows of one beat (an early tlast; the unit fills the rest) fill it, and it then gives
    # them out R beats per row, one per clock, for longer than latency + 2R + 2 cycles (a
    # state reached from reset), never silent for that long.
    from amaranth.sim import Simulator

    from shiftmax.hw.verilog import adapter
    from shiftmax.units import UNITS

    dut = adapter(UNITS["shiftmax"].build(n=3, value_bits=3, exp_bitwidth=2,
                                          buffer_bitwidth=6, lanes_per_beat=2,
                                          flow_control=flow))
    r = dut.beats_per_row
    quiet = formal.quiet_cycles({"latency": dut.latency, "beats_per_row": r})
    seen = {}

    async def bench(ctx) -> None:
        # One-beat rows offered with the sink stalled until the unit refuses for 2 * quiet
        # cycles (it is full).
        ctx.set(dut.m_axis_tready, 0)
        ctx.set(dut.s_axis_tdata, 0x35)
        ctx.set(dut.s_axis_tlast, 1)
        rows, refused = 0, 0
        while refused < 2 * quiet:
            ctx.set(dut.s_axis_tvalid, 1)
            taken = ctx.get(dut.s_axis_tready)
            await ctx.tick()
            rows, refused = rows + taken, 0 if taken else refused + 1
        # Quiet: no input, the sink ready.
        ctx.set(dut.s_axis_tvalid, 0)
        ctx.set(dut.m_axis_tready, 1)
        beats, last, silent, longest = 0, 0, 0, 0
        for cycle in range(1, r * rows + 2 * quiet):
            valid = ctx.get(dut.m_axis_tvalid)
            await ctx.tick()
            if valid:
                beats, last, longest, silent = beats + 1, cycle, max(longest, silent), 0
            else:
                silent += 1
        seen.update(rows=rows, beats=beats, last=last, longest=longest)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen["beats"] == r * seen["rows"], seen
    assert seen["last"] > quiet and seen["longest"] < quiet, seen
