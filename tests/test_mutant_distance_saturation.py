"""A saturation OR of Distance stuck at 0 in the generated Verilog fails the default bench.

The default shiftmax (N = 10, VB = 7, e = 10) keeps 5 bits of each lane's 8-bit difference
``D = M - xf`` and forces them to ones by one OR of the dropped bits ``D[7:5]`` per kept bit.
With the OR of bit 4 stuck at 0, a lane at ``D = 32..47`` (bit 4 clear) reads 15 instead of
31: a distance with a term, ``2**(20 - 15)``, which the right design does not add. The lanes
beyond the cut-off of the other directed rows sit at the lowest input (``D = 255`` or so, bit
4 set), where the stuck OR changes nothing; the saturation rows of
``shiftmax.sim.directed.saturation_distances`` put the deciding lane at ``D = 32``. The
unmodified design passes the same bench in tests/test_sim_cocotb.py.
"""

from __future__ import annotations

import re

from default_mutant import DEFAULT, assert_fails_directed_corners, needs_icarus

from shiftmax.sim.directed import distance_widths, saturation_bits
from shiftmax.sim.vectors import UnitShape

pytestmark = needs_icarus

SHAPE = UnitShape("shiftmax", {"n": DEFAULT.n, "value_bits": DEFAULT.value_bits})


def stick_saturation_or(verilog: str, lane: int, bit: int) -> str:
    """``verilog`` with the OR that saturates kept bit ``bit`` of ``lane``'s distance stuck
    at 0, found from the lane's subtraction ``M - values[..]`` and its saturation
    ``D[b-1:0] | {OR(b-1), .., OR(0)}`` in the Distance module."""
    width, bits = distance_widths(SHAPE)
    modules = re.findall(r"^module \\shiftmax\.unit\.datapath\.distance\S*\s.*?^endmodule",
                         verilog, re.MULTILINE | re.DOTALL)
    assert len(modules) == 1, "expected one Distance module in the Verilog"
    module = modules[0]
    low, high = lane * width, (lane + 1) * width - 1
    differences = re.findall(
        rf"assign (\\\S+)\s*= \$signed\(maximum\) - \$signed\(values\[{high}:{low}\]\);", module)
    assert len(differences) == 1, f"expected one subtraction of values[{high}:{low}]"
    difference = re.escape(differences[0])
    saturations = re.findall(rf"assign \S+\s*= {difference} \[{bits - 1}:0\] \| \{{([^}}]*)\}};",
                             module)
    assert len(saturations) == 1, "expected one saturation of the lane's difference"
    ors = [name.strip() for name in saturations[0].split(",")]  # highest bit first
    assert len(ors) == bits
    stuck = re.compile(rf"(assign {re.escape(ors[bits - 1 - bit])}\s*= )"
                       rf"\| {difference} \[{width - 1}:{bits}\];")
    assert len(stuck.findall(module)) == 1, "expected one OR of the dropped bits"
    return verilog.replace(module, stuck.sub(lambda match: f"{match.group(1)}1'h0;", module))


def test_distance_saturation_or_stuck_at_zero_fails_the_directed_corners() -> None:
    with_term = [s for s in saturation_bits(SHAPE) if s.term]
    assert [(s.bit, s.distance) for s in with_term] == [(4, 15)]
    assert_fails_directed_corners(
        "distance-lane1-saturation-bit4-stuck-0",
        lambda verilog: stick_saturation_or(verilog, 1, with_term[0].bit))
