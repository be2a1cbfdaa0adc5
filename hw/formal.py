"""The formal build of a unit: its blocks' invariants, rows held, framing, tracked row.

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
checks, and proves them. Any other block states the relations between its own registers
with :meth:`FormalBuild.check`, and a streaming unit's row framer reports where it is in the
input row (:meth:`FormalBuild.frame`, ports ``formal_in_beat`` and ``formal_in_dropping``),
which the property module asserts equal to its own framing of the input, and states what its
stages hold of the tracked row while that row streams in (:meth:`FormalBuild.partial`): the
property module gives it the beats of that row taken so far (``formal_row_tdata``, with a
mask ``formal_row_tuser``) while the row is in the unit (``formal_row_tracking``, at
``formal_position``). A block with an
Amaranth ``SyncFIFOBuffered`` adds it through :func:`add_buffered_fifo`, which gives the
FIFO's own registers for such statements. In every other build the platform is None and
none of this is generated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from amaranth.hdl import Assert, Cat, Module, Mux, Signal, Value
from amaranth.lib import data
from amaranth.lib.fifo import SyncFIFOBuffered

__all__ = ["BufferedFifo", "FormalBuild", "GIVEN_RESULT", "ROW_HOLDS", "ROWS_HELD_BITS",
           "Slot", "add_buffered_fifo", "formal_build"]

#: Bits of the ``formal_rows_held`` and ``formal_position`` ports.
ROWS_HELD_BITS = 8
#: The wire that a given slot's check is asserted through (:meth:`FormalBuild.hold`).
GIVEN_RESULT = "formal_given_result"
#: The wires that the statements of what a streaming unit holds of the tracked row, and of
#: its results, are asserted through (:meth:`FormalBuild.partial`, :meth:`FormalBuild.hold`):
#: the miter's own check proves them, with every other property taken as given.
ROW_HOLDS = "formal_row_holds"

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
                 expect: dict[str, Signal], layout: data.Layout,
                 in_beat: Signal | None = None, in_dropping: Signal | None = None,
                 row: Value | None = None, row_mask: Value | None = None,
                 row_tracking: Signal | None = None) -> None:
        self.rows_held, self.tracking, self.position = rows_held, tracking, position
        self.expect, self.layout = expect, layout
        self.in_beat, self.in_dropping = in_beat, in_dropping
        #: A streaming unit's tracked row as the property module recorded it (the elements
        #: of the beats taken so far; an ``ArrayLayout`` view, one lane per element), its
        #: mask (bit ``e`` set: element ``e`` is absent) and whether the row is in the unit.
        self.row, self.row_mask, self.row_tracking = row, row_mask, row_tracking
        self.reported = False
        self.framed = False
        self.partials = False  # a block stated what it holds of the tracked row
        self.unstated = 0

    def check(self, m: Module, invariants: Iterable[Value]) -> None:
        """Each of ``invariants`` (relations between registers of a block of ``m``) is true
        in every state a reset reaches; any block, any number of times."""
        m.d.comb += [Assert(invariant) for invariant in invariants]

    def frame(self, m: Module, beat: Value, dropping: Value) -> None:
        """The row framer of a streaming unit: the next input beat taken is beat ``beat``
        of its row, or, while ``dropping``, one the contract drops (after a row that reached
        beat ``R - 1`` without ``tlast``). One framer per unit reports."""
        if self.in_beat is None:
            raise RuntimeError("the unit has no tlast input, so no framing to report")
        if self.framed:
            raise RuntimeError("a second framer reports the unit's input framing")
        self.framed = True
        m.d.comb += [self.in_beat.eq(beat), self.in_dropping.eq(dropping)]

    def partial(self, m: Module, position: Value, holds: Iterable[Value], *,
                unstated: int = 0) -> None:
        """A stage of a streaming unit holds part of the row at ``position`` among the rows
        held (0: the oldest; the row still streaming in is at ``rows_held``): if that is the
        tracked row, each of ``holds`` (relations between the stage's registers and
        :attr:`row`) is true. Any block, any number of times.

        ``unstated``: cycles a beat of the tracked row may spend after it was taken in stages
        the unit states nothing of (the unit states only what its pass holds once a beat
        has left it, say); the induction then looks that much further back
        (:attr:`unstated`, the sidecar's ``formal_unstated``)."""
        if self.row_tracking is None:
            raise RuntimeError("the unit has no tlast input, so no row streams in")
        self.partials = True
        self.unstated = max(self.unstated, unstated)
        here = self.row_tracking & (self.position == position)
        for holds_ in holds:
            self._assert_row(m, ~here | holds_)

    @staticmethod
    def _assert_row(m: Module, holds: Value) -> None:
        """Assert ``holds`` through a wire :data:`ROW_HOLDS` declared where the block
        called :meth:`partial` or :meth:`hold` (its ``src``: the statement's Python line)."""
        named = Signal(name=ROW_HOLDS, src_loc_at=2)
        m.d.comb += [named.eq(holds), Assert(named)]

    def hold(self, m: Module, rows: Value, invariants: Iterable[Value],
             slots: Iterable[Slot] = (), given: Slot | None = None) -> None:
        """A block of ``m`` holds ``rows`` rows, with results in ``slots``; each of
        ``invariants`` is true in every state a reset reaches. One block per unit reports.

        ``given``: the slot of the datapath's result in a form that freezes a pipelined
        datapath, which only a separate argument ties to its input (docs/verification.md,
        the frozen forms' miter). Its check is asserted like the others, through the wire
        ``formal_given_result``, so that the property module's proof of the rest can take it
        as an assumption instead (and prove it apart).
        """
        if self.reported:
            raise RuntimeError("a second block reports the rows the unit holds")
        self.reported = True
        m.d.comb += self.rows_held.eq(rows)
        self.check(m, invariants)
        for first, count, result in slots:
            self._assert_row(m, self._slot_holds(first, count, result))
        if given is not None:
            holds = Signal(name=GIVEN_RESULT)
            m.d.comb += [holds.eq(self._slot_holds(*given)), Assert(holds)]

    def _slot_holds(self, first: Value, count: Value, result) -> Value:
        here = self.tracking & (self.position >= first) & (self.position < first + count)
        if callable(result):
            result = result((self.position - first)[:len(self.position)])
        return ~here | self.matches(result)

    def matches(self, result: Value) -> Value:
        """``result`` (the output payload's bits) equals the expected output."""
        view = data.View(self.layout, result)
        same = [Value.cast(view[name]) == port for name, port in self.expect.items()]
        return Cat(*same).all()


def formal_build(platform) -> FormalBuild | None:
    """``platform`` if it is a formal build, else None."""
    return platform if isinstance(platform, FormalBuild) else None


@dataclass(frozen=True)
class BufferedFifo:
    """The registers of an ``amaranth.lib.fifo.SyncFIFOBuffered`` (depth >= 2), as the formal
    build sees them: an inner FIFO of ``depth - 1`` words (``inner_level`` of them held,
    written at ``produce``, read at ``consume``) and the output register ``r_data`` (full
    while ``r_rdy``). ``word(k)``: the ``k``-th oldest word of the inner FIFO."""

    fifo: SyncFIFOBuffered
    inner_level: Value
    produce: Value
    consume: Value
    word: Callable[[int], Value]

    @property
    def invariants(self) -> list[Value]:
        """What the FIFO's own registers satisfy in every state a reset reaches: the fill
        and the pointers agree, and the inner FIFO holds at most one word while the output
        register is empty (a word there moves on in the next cycle)."""
        inner = self.fifo.depth - 1
        end = self.consume + self.inner_level
        return [self.inner_level <= inner, self.produce < inner, self.consume < inner,
                self.produce == Mux(end >= inner, end - inner, end),
                self.fifo.r_rdy | (self.inner_level <= 1)]


def add_buffered_fifo(m: Module, name: str, fifo: SyncFIFOBuffered,
                      platform) -> BufferedFifo | None:
    """``fifo`` as the submodule ``name`` of ``m``; in a formal build also its registers.

    Amaranth's FIFO keeps its pointers and fill to itself: the formal build elaborates it
    here (the same logic) and finds them among the signals its module drives, and adds a
    read port per word of the inner FIFO, so that a unit can state what the words hold.
    """
    if formal_build(platform) is None:
        m.submodules[name] = fifo
        return None
    if fifo.depth < 2:
        raise ValueError(f"a formal build knows the registers of a SyncFIFOBuffered of depth "
                         f"2 or more, not {fifo.depth}")
    body = fifo.elaborate(platform)
    fifo._MustUse__silence = True  # elaborated here, through ``body``
    m.submodules[name] = body
    driven = {signal.name: signal for signal in body._driving}
    storage = body._named_submodules["storage"][0]
    inner = fifo.depth - 1
    consume = driven["consume"]

    def word(k: int) -> Value:
        port = storage.read_port(domain="comb")
        address = consume + k
        m.d.comb += port.addr.eq(Mux(address >= inner, address - inner, address))
        return port.data

    return BufferedFifo(fifo, driven["inner_level"], driven["produce"], consume, word)
