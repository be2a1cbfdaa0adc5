"""A RoundLog2 threshold constant one off in the generated Verilog fails the default bench.

The default shiftmax (N = 10, VB = 7) builds its sum without the two low bits no rounding
needs (``shiftmax.golden.term_precision``) and splits binade 21's compare ``S >= T[21]`` into
``S[20:11] > C_hi``, ``S[20:11] == C_hi`` and ``S[10:2] >= C_lo`` (``total[18:9]`` and
``total[8:0]`` of the sum it gets, in units of 4). With ``C_hi + 1`` in the
first one, rows whose upper part is ``C_hi + 1`` and lower part below ``C_lo`` (such as
``[100, 100, 99, 98, 96, 94, 90, 79, 79, 79]``) come out doubled. The random vectors of the
default run do not meet such a sum; the directed compare rows must.
"""

from __future__ import annotations

import re

from default_mutant import DEFAULT, assert_fails_directed_corners, needs_icarus

from shiftmax.golden import round_log2_thresholds
from shiftmax.hw import Shiftmax

pytestmark = needs_icarus


DROPPED = Shiftmax(n=DEFAULT.n, value_bits=DEFAULT.value_bits).dropped_term_bits


def split_upper_compare(k: int) -> tuple[str, int, int]:
    """The Verilog slice of binade ``k``'s upper part and its constant, from the golden table
    (the field and halves of ``hw/round_log2.py``; the sum's bits counted from the lowest it
    has)."""
    offset = int(round_log2_thresholds("exact")[k]) - (1 << k)
    low = max((offset & -offset).bit_length() - 1, DROPPED)
    constant = -(-offset >> low)
    half = (k - low) // 2
    return (f"total[{k - 1 - DROPPED}:{low + half - DROPPED}]", constant >> half,
            low + half - DROPPED)


def mutate_upper_constant(verilog: str, k: int, change: int) -> str:
    bits, constant, _ = split_upper_compare(k)
    pattern = re.compile(rf"{re.escape(bits)} > (\d+)'h{constant:x}\b")
    found = pattern.findall(verilog)
    assert len(found) == 1, f"expected one '{bits} > {constant:#x}' in the Verilog"
    return pattern.sub(lambda match: f"{bits} > {match.group(1)}'h{constant + change:x}",
                       verilog)


def test_round_log2_upper_constant_one_high_fails_the_directed_corners() -> None:
    assert split_upper_compare(21)[:2] == ("total[18:9]", 0x1a8)
    assert_fails_directed_corners("round-log2-k21-upper-plus-one",
                                  lambda verilog: mutate_upper_constant(verilog, 21, +1))
