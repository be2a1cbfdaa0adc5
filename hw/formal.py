"""The formal build of a unit: its flow-control blocks' invariants, rows held, tracked row.

A property module that sees only a unit's ports cannot tell a state that a reset reaches from
one it does not (a result hidden in a skid register, a credit counter out of step with the
FIFO, a wrong result waiting in the FIFO's memory), so a k-induction step may start from the
latter. In the formal build (``emit_verilog(unit, formal=True)``, ``shiftmax verilog ...
--formal``, what ``make formal`` proves) the unit is elaborated with a :class:`FormalBuild` as
its platform, and the block that holds the unit's rows passes it, once
(:meth:`FormalBuild.hold`):

- the relations between its own registers, true in every state a reset reaches;
- how many rows it holds, which drives the extra output port ``formal_rows_held``: the
  property module ties it to its own count of rows taken and given out;
- where the results it holds sit, oldest first: the property module names the row it tracks
  by its position among the rows held (``formal_position``, while ``formal_tracking``) and
  gives its expected output (``formal_expect_t*``, from the unpipelined reference), and the
  result at that position must equal it wherever it waits.

They become Asserts inside the unit: k-induction assumes them in the steps before the one it
checks, and proves them. In every other build the platform is None and none of this is
generated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from amaranth.hdl import Assert, Cat, Module, Signal, Value
from amaranth.lib import data

__all__ = ["FormalBuild", "ROWS_HELD_BITS", "Slot", "formal_build"]

#: Bits of the ``formal_rows_held`` and ``formal_position`` ports.
ROWS_HELD_BITS = 8

#: Results a block holds, oldest first: ``(first, count, result)``, the rows at positions
#: ``first .. first + count - 1`` among the rows held; ``result`` (in the output payload's
#: layout) is theirs, or, for a memory, a function of the offset into the range that reads
#: the result there.
Slot = tuple[Value, Value, Value | Callable[[Value], Value]]


class FormalBuild:
    """The platform of a formal build, made from the adapter's formal ports.

    ``rows_held``: the ``formal_rows_held`` port; ``tracking``, ``position``: the tracked
    row is held, at this position (0: the oldest); ``expect``: its expected output, one port
    per field of the output payload (``layout``).
    """

    def __init__(self, *, rows_held: Signal, tracking: Signal, position: Signal,
                 expect: dict[str, Signal], layout: data.Layout) -> None:
        self.rows_held, self.tracking, self.position = rows_held, tracking, position
        self.expect, self.layout = expect, layout
        self.reported = False

    def hold(self, m: Module, rows: Value, invariants: Iterable[Value],
             slots: Iterable[Slot] = ()) -> None:
        """A block of ``m`` holds ``rows`` rows, with results in ``slots``; each of
        ``invariants`` is true in every state a reset reaches. One block per unit reports."""
        if self.reported:
            raise RuntimeError("a second block reports the rows the unit holds")
        self.reported = True
        m.d.comb += self.rows_held.eq(rows)
        m.d.comb += [Assert(invariant) for invariant in invariants]
        for first, count, result in slots:
            here = self.tracking & (self.position >= first) & (self.position < first + count)
            if callable(result):
                result = result((self.position - first)[:len(self.position)])
            m.d.comb += Assert(~here | self.matches(result))

    def matches(self, result: Value) -> Value:
        """``result`` (the output payload's bits) equals the expected output."""
        view = data.View(self.layout, result)
        same = [Value.cast(view[name]) == port for name, port in self.expect.items()]
        return Cat(*same).all()


def formal_build(platform) -> FormalBuild | None:
    """``platform`` if it is a formal build, else None."""
    return platform if isinstance(platform, FormalBuild) else None
