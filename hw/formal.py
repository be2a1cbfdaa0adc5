"""The formal build of a unit: its flow-control blocks' invariants and the rows it holds.

A property module that sees only a unit's ports cannot tell a state that a reset reaches from
one it does not (a result hidden in a skid register, a credit counter out of step with the
FIFO), so a k-induction step may start from the latter. In the formal build
(``emit_verilog(unit, formal=True)``, ``shiftmax verilog ... --formal``, what ``make formal``
proves) the unit is elaborated with a :class:`FormalBuild` as its platform: each block that
holds rows passes it, once, how many rows it holds and the relations between its own
registers (:meth:`FormalBuild.hold`). They become Asserts inside the unit (k-induction assumes
them in the steps before the one it checks, and proves them), and the count drives the extra
output port ``formal_rows_held``, which the property module ties to its count of rows taken
and given out. In every other build the platform is None and none of this is generated.
"""

from __future__ import annotations

from collections.abc import Iterable

from amaranth.hdl import Assert, Module, Signal, Value

__all__ = ["FormalBuild", "ROWS_HELD_BITS", "formal_build"]

#: Bits of the ``formal_rows_held`` port.
ROWS_HELD_BITS = 8


class FormalBuild:
    """The platform of a formal build; ``rows_held`` is the adapter's ``formal_rows_held``."""

    def __init__(self, rows_held: Signal) -> None:
        self.rows_held = rows_held
        self.reported = False

    def hold(self, m: Module, rows: Value, invariants: Iterable[Value]) -> None:
        """A block of ``m`` holds ``rows`` rows; each of ``invariants`` is true in every state
        a reset reaches. One block per unit reports its rows."""
        if self.reported:
            raise RuntimeError("a second block reports the rows the unit holds")
        self.reported = True
        m.d.comb += self.rows_held.eq(rows)
        m.d.comb += [Assert(invariant) for invariant in invariants]


def formal_build(platform) -> FormalBuild | None:
    """``platform`` if it is a formal build, else None."""
    return platform if isinstance(platform, FormalBuild) else None
