"""Row framing of the streaming units: beats of P lanes, tlast, malformed rows and masks.

A row of ``n`` elements arrives as ``R = ceil(n / P)`` beats of ``P`` lanes (lane ``j`` of
beat ``b`` is element ``b*P + j``). The contract (``streaming.md``) fixes the framing:

- a row ends at the earlier of the beat with ``tlast`` or beat ``R - 1``;
- a row whose ``tlast`` came early (on beat ``b < R - 1``) is *malformed*; its missing
  elements count as masked;
- a row that reached beat ``R - 1`` without ``tlast`` is malformed too; the beats that
  follow, up to and including the next ``tlast``, are dropped (the unit resynchronises);
- every input row gives exactly one output row.

:class:`RowFramer` applies these rules once for every streaming unit and hands its consumer a
registered, well-framed beat stream with a per-lane "absent" bit (the input mask, the lanes
past ``n`` in the last beat, and, with ``fill``, every lane of the beats that an early
``tlast`` left out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from amaranth.hdl import Cat, Const, EnableInserter, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from shiftmax.golden.fixedpoint import MAX_VALUE_BITS
from shiftmax.golden.params import check_int

from .formal import BufferedFifo, FormalBuild, Slot, formal_build
from .pipeline import UnitProperties, lanes, register, wire

__all__ = ["RowFramer", "StreamingUnit", "stall_body", "streaming_input_layout", "beats_per_row",
           "valid_delay", "delay_stages", "row_ends", "output_fifo_invariants"]


#: Lanes per group with its own copy of the fill state and of at_end.
_GROUP_LANES = 4


def beats_per_row(n: int, lanes_per_beat: int) -> int:
    """``R = ceil(n / P)``: the beats of one row."""
    return -(-n // lanes_per_beat)


def valid_delay(m: Module, valid, cycles: int, *, name: str,
                stages: list[Value] | None = None) -> Value:
    """``valid`` delayed by ``cycles`` registers that have a reset (a reset empties the
    pipeline), unlike the reset-less data registers of ``shiftmax.hw.pipeline.delay``.
    Each register is appended to ``stages`` (when given), first to last."""
    value = Value.cast(valid)
    for stage in range(cycles):
        reg = Signal(value.shape(), name=f"{name}_d{stage + 1}")
        m.d.sync += reg.eq(value)
        value = reg
        if stages is not None:
            stages.append(reg)
    return value


def delay_stages(m: Module, value, cycles: int, *, name: str) -> list[Value]:
    """``value`` and its copies delayed by 1 to ``cycles`` reset-less registers (the same
    registers as ``shiftmax.hw.pipeline.delay``), first to last."""
    stages = [Value.cast(value)]
    for stage in range(cycles):
        stages.append(register(m, stages[-1], name=f"{name}_d{stage + 1}"))
    return stages


def row_ends(stages) -> Value:
    """Row ends in a pipeline whose stages are ``(valid, last)`` pairs: the stages whose
    valid and last bits are both set."""
    return sum(valid & last for valid, last in stages)


def output_fifo_invariants(formal: FormalBuild, m: Module, fifo: BufferedFifo, *,
                           framer: RowFramer, passing: Value, count: Value, credit: Value,
                           held: Callable[[Value], Value] | None = None,
                           slots: Iterable[Slot] = ()) -> None:
    """The formal build's statements about the output FIFO of a streaming unit's fifo form
    and its credit counter (``count``; the flag ``credit``: two or more left).

    A credit is taken when the framer's row end is counted, a cycle after the framer emitted
    it, and returned when the result leaves: every credit is left, or held by a row past the
    framer (``passing``: in the pass, not yet in the FIFO) or in the FIFO; the framer's own
    row (an emitted row end not yet counted, or a row it still fills) always has its credit
    left; so the FIFO never refuses a result. ``held(word)``: what every result the FIFO
    holds satisfies (in the output register and in each word of the inner FIFO held). The
    unit holds the framer's rows, those passing and those in the FIFO, with results in
    ``slots`` (:meth:`~shiftmax.hw.formal.FormalBuild.hold`).
    """
    inner = fifo.fifo.depth - 1
    invariants = [count + passing + fifo.fifo.level == fifo.fifo.depth,
                  credit == (count >= 2), count >= framer.rows_held,
                  ~fifo.fifo.w_en | fifo.fifo.w_rdy, *fifo.invariants]
    if held is not None:
        invariants.append(~fifo.fifo.r_rdy | held(fifo.fifo.r_data))
        invariants += [(fifo.inner_level <= k) | held(fifo.word(k)) for k in range(inner)]
    formal.hold(m, framer.rows_held + passing + fifo.fifo.level, invariants, slots)


def absorbed_beats(formal: FormalBuild, m: Module, framer: RowFramer,
                   stages: list[tuple[Value, ...]]) -> tuple[Signal, Signal]:
    """The formal build's statements about the beat numbers along a streaming unit's pass,
    and the number and last bit of the last beat its running state took in (registers of
    the formal build alone, in ``m``; after a reset, as if a row had just ended).

    ``stages``: ``(valid, number, first, last)`` of each stage a beat passes, the framer's
    first (its ``number`` is the unit's beat counter: its beat's number, else the next
    one's) and the one whose beat the running state takes in next last. Along them the beat
    numbers of the valid stages follow one another (a row's beats in order, the next row
    from beat 0), from the last beat taken in up to the framer's next beat (its filler beats
    included); a beat is its row's first exactly at number 0 and its last at number R - 1
    (or earlier, on an early ``tlast``)."""
    beats = framer.beats_per_row
    valid, number, _, last = stages[-1]
    absorbed = Signal(len(number), name="formal_absorbed")
    absorbed_last = Signal(name="formal_absorbed_last", init=1)
    with m.If(valid):
        m.d.sync += [absorbed.eq(number), absorbed_last.eq(last)]

    def after(number: Value, last: Value) -> Value:
        return Mux(last, 0, number + 1)[:len(number)]

    invariants = [absorbed < beats]
    expected = after(absorbed, absorbed_last)
    for k, (valid, number, first, last) in reversed(list(enumerate(stages))):
        if k == 0:
            invariants.append(valid | (number == expected))
        invariants += [~valid | (number == expected), ~valid | (first == (number == 0)),
                       ~valid | (number != beats - 1) | last]
        expected = Mux(valid, after(number, last), expected)
    invariants.append(framer.next_beat == expected)
    formal.check(m, invariants)
    return absorbed, absorbed_last


def streaming_input_layout(*, lanes_per_beat: int, value_bits: int,
                           mask: bool) -> data.StructLayout:
    """The input payload of a streaming unit: ``data``, ``mask`` (with ``mask``), ``last``."""
    fields = {"data": data.ArrayLayout(signed(value_bits + 1), lanes_per_beat)}
    if mask:
        fields["mask"] = unsigned(lanes_per_beat)
    fields["last"] = unsigned(1)
    return data.StructLayout(fields)


def stall_body(m: Module, o, fifo: bool) -> tuple[Module, Signal]:
    """Where a streaming unit builds its logic, and the signal that lets a beat in.

    ``fifo``: the logic runs freely in ``m`` and the returned ``credit`` (a register the unit
    drives, reset high) admits beats. Otherwise the logic goes into a submodule under one
    clock enable ``ce = o.ready | ~o.valid``, which is returned.
    """
    if fifo:
        return m, Signal(name="credit", init=1)
    space = Signal(name="ce")
    m.d.comb += space.eq(o.ready | ~o.valid)
    body = Module()
    m.submodules.body = EnableInserter(space)(body)
    return body, space


class StreamingUnit(UnitProperties):
    """The read-only properties every streaming unit shares (mixed into its component).

    A unit sets ``_n``, ``_value_bits``, ``_mask`` (:class:`UnitProperties`), ``_p`` (lanes
    per beat), ``_beats`` (R) and ``_flow_control`` in its constructor.
    """

    @property
    def lanes_per_beat(self) -> int:
        return self._p

    @property
    def flow_control(self) -> str:
        return self._flow_control

    @property
    def beats_per_row(self) -> int:
        """R = ceil(n / lanes_per_beat) input beats per row."""
        return self._beats

    @property
    def input_cycles(self) -> int:
        """1: a streaming unit takes one beat per clock, rows back to back."""
        return 1


class RowFramer(wiring.Component):
    """Count the beats of each row, apply the contract's framing, mark the absent lanes.

    Architecture: a beat counter (``0 .. R - 1``), a *drop* state (after beat ``R - 1``
    without ``tlast``: accept and discard beats up to and including the next ``tlast``) and,
    with ``fill``, a *fill* state (after an early ``tlast``: emit the missing beats, every lane
    absent, with ``i.ready`` low), and a sticky malformed flag. The emitted beat is
    registered: ``valid``, the lanes (sign-extended to ``width``; an absent lane is replaced
    by ``absent_value``, a constant that synthesis can fold into the flip-flops), the absent
    bits, ``first``, ``last`` and ``malformed``.

    A beat is taken (emitted, or dropped) or a filler beat emitted only while ``space`` is
    high: the consumer's room for one more beat, or, in a unit that stalls on one clock
    enable, that enable (so that no beat is taken while the framer's state is frozen).

    Number format: lanes two's complement, ``value_bits + 1`` bits in, ``width`` bits out.

    Parameters
    ----------
    n : int
        Elements per row, at least 2.
    lanes_per_beat : int
        ``P``, 1 to ``n - 1``.
    value_bits : int
        Magnitude bits of an input lane, sign not counted (1 to 31).
    mask : bool
        The input payload has a ``mask`` field (bit ``j`` set: lane ``j`` is absent).
    fill : bool
        After an early ``tlast``, emit the missing beats of the row (all lanes absent), so the
        consumer always sees ``R`` beats per row. Without it, the early beat is the row's
        ``last`` and rows have 1 to ``R`` beats.
    width : int
        Bits of an output lane, at least ``value_bits + 1`` (default: that).
    absent_value : int
        The value an absent lane carries on the output (default ``-2**value_bits``, the
        lowest input).

    Members
    -------
    i : In(stream.Signature(streaming_input_layout(...)))
    space : In(1)
        The consumer can take a beat in this cycle.
    valid : Out(1)
        A beat is on the outputs below (for one cycle).
    lanes : Out(ArrayLayout(signed(width), P))
    absent : Out(P)
    first, last : Out(1)
        Beat 0 of its row; the row's last beat.
    malformed : Out(1)
        The row is malformed (meaningful on its ``last`` beat).

    Latency
    -------
    1 (the emitted beat is registered).

    Raises
    ------
    TypeError, ValueError
        For a parameter of the wrong type or out of range.
    """

    latency = 1

    def __init__(self, *, n: int, lanes_per_beat: int, value_bits: int, mask: bool = False,
                 fill: bool = True, width: int | None = None,
                 absent_value: int | None = None) -> None:
        self._n = check_int("n", n, 2)
        self._p = check_int("lanes_per_beat", lanes_per_beat, 1, self._n - 1)
        self._value_bits = check_int("value_bits", value_bits, 1, MAX_VALUE_BITS)
        for name, value in (("mask", mask), ("fill", fill)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be True or False, not {value!r}")
        self._mask, self._fill = mask, fill
        self._width = check_int("width", self._value_bits + 1 if width is None else width,
                                self._value_bits + 1)
        low = -(1 << (self._width - 1))
        self._absent_value = check_int(
            "absent_value", -(1 << self._value_bits) if absent_value is None else absent_value,
            low, -low - 1)
        self._beats = beats_per_row(self._n, self._p)
        #: Formal build only (:mod:`shiftmax.hw.formal`): the rows the framer holds, driven
        #: by it: its output beat with ``last``, or a row whose missing beats it still fills.
        self.rows_held = Signal(range(2), name="framer_rows")
        #: Formal build only: the number of the next beat it emits (its beat counter).
        self.next_beat = Signal(range(self._beats), name="framer_next_beat")
        layout = streaming_input_layout(lanes_per_beat=self._p, value_bits=self._value_bits,
                                        mask=self._mask)
        super().__init__({
            "i": In(stream.Signature(layout)),
            "space": In(1),
            "valid": Out(1),
            "lanes": Out(data.ArrayLayout(signed(self._width), self._p)),
            "absent": Out(self._p),
            "first": Out(1),
            "last": Out(1),
            "malformed": Out(1),
        })

    @property
    def beats_per_row(self) -> int:
        return self._beats

    @property
    def width(self) -> int:
        return self._width

    def elaborate(self, platform) -> Module:
        m = Module()
        p, beats = self._p, self._beats
        beat = Signal(range(beats), name="beat")
        dropping = Signal(name="dropping")
        filling = Signal(name="filling")
        sticky = Signal(name="sticky_malformed")  # an early tlast in this row

        # at_end (beat == R - 1) is a register kept beside the counter: it reaches the
        # absent-lane substitution of every padded lane's flip-flops without a compare.
        at_end = Signal(name="at_end")
        tlast = self.i.payload.last
        m.d.comb += self.i.ready.eq(self.space & (dropping | ~filling))
        take = wire(m, self.i.valid & self.i.ready, name="take")
        real = wire(m, take & ~dropping, name="real")
        filler = wire(m, filling & self.space, name="filler")
        emit = wire(m, real | filler, name="emit")

        # Absent lanes: the input mask, lanes past n on the last beat, every lane of a filler
        # (from the fill state register: only an emitted beat's lanes matter, and ``space``
        # then reaches no lane's flip-flops).
        # The fill state and at_end reach every (padded) lane's multiplexer: each group of
        # lanes reads its own copy. A copy's next value is selected by the copy itself (not
        # a hold, which synthesis would turn into a clock enable shared by all the copies,
        # then merge them): 1 stays 1 until the row ends, 0 becomes 1 when the state is set.
        padding = sum(1 << j for j in range(p) if (beats - 1) * p + j >= self._n)
        ends = wire(m, at_end | (real & tlast) if not self._fill else at_end, name="ends")
        # Each term as the copy's own value implies it: while a fill copy is 0 the unit is not
        # filling (an early tlast taken sets it; an early tlast is a real beat before the
        # row's end); while it is 1 no beat is real, a filler goes out when there is space,
        # and the fill ends with the filler at the row's end.
        sets = {"filling": (self.i.valid & self.space & ~dropping & ~at_end & tlast)
                if self._fill else None,
                "at_end": emit & ~ends & (beat == beats - 2)}
        flags, copies = [], []
        for lo in range(0, p, _GROUP_LANES):
            hi = min(lo + _GROUP_LANES, p)
            bits = []
            for name, clears in (("filling", self.space & at_end), ("at_end", emit)):
                if sets[name] is None or (name == "at_end" and not padding >> lo
                                          & ((1 << (hi - lo)) - 1)):
                    bits.append(Const(0, 1))
                    continue
                copy = Signal(name=f"{name}_l{lo}")
                m.d.sync += copy.eq(Mux(copy, ~clears, sets[name]))
                bits.append(copy)
                copies.append((copy, name))
            filling_copy, at_end_copy = bits
            flags.append(Const(padding >> lo & ((1 << (hi - lo)) - 1), hi - lo)
                         & at_end_copy.replicate(hi - lo) | filling_copy.replicate(hi - lo))
        absent = Cat(*flags)
        if self._mask:
            absent = absent | self.i.payload.mask
        absent = wire(m, absent, name="absent_next")
        malformed = wire(m, sticky | filler | (real & (tlast ^ at_end)), name="malformed_next")

        # The emitted beat's data registers have no reset (the valid bit has one) and no
        # enable: they load in every cycle, and only ``valid`` says a beat is there (an enable
        # would be one net from s_axis_tvalid to every lane's flip-flops).
        registers = {name: Signal(getattr(self, name).shape(), name=f"{name}_r", reset_less=True)
                     for name in ("lanes", "absent", "first", "last", "malformed")}
        m.d.comb += [getattr(self, name).eq(reg) for name, reg in registers.items()]
        fitted = [Mux(absent[j], Const(self._absent_value, signed(self._width)),
                      self.i.payload.data[j]) for j in range(p)]
        m.d.sync += [
            self.valid.eq(emit),
            registers["lanes"].eq(lanes(fitted, self._width)),
            registers["absent"].eq(absent),
            registers["first"].eq(beat == 0),
            registers["last"].eq(ends),
            registers["malformed"].eq(malformed),
        ]
        with m.If(emit):
            with m.If(ends):
                m.d.sync += [beat.eq(0), at_end.eq(0), sticky.eq(0), filling.eq(0)]
                with m.If(real & ~tlast):
                    m.d.sync += dropping.eq(1)  # missing tlast: resynchronise on the next one
            with m.Else():
                m.d.sync += [beat.eq(beat + 1), at_end.eq(beat == beats - 2)]
                if self._fill:
                    with m.If(real & tlast):
                        m.d.sync += [filling.eq(1), sticky.eq(1)]
        with m.If(take & dropping & tlast):
            m.d.sync += dropping.eq(0)

        formal = formal_build(platform)
        if formal is not None:
            # The next beat taken is beat ``beat`` of its row (0 while filling: the row's
            # tlast came, and the next beat starts a row). The copies agree with their
            # states; an early tlast is sticky exactly while the fill lasts, which follows a
            # beat of its row that is not its last (and never happens without ``fill``); the
            # drop and the fill exclude each other (no beat is taken while filling); a drop
            # starts after a row's end and takes no beat of a row.
            formal.frame(m, Mux(filling, 0, beat), dropping)
            may_fill = (beat != 0) & ~(self.valid & self.last) if self._fill else Const(0)
            invariants = [beat < beats, at_end == (beat == beats - 1), sticky == filling,
                          ~(dropping & filling), ~filling | may_fill, ~dropping | (beat == 0)]
            states = {"filling": filling, "at_end": at_end}
            invariants += [copy == states[name] for copy, name in copies]
            formal.check(m, invariants)
            m.d.comb += [self.rows_held.eq((self.valid & self.last) | filling),
                         self.next_beat.eq(beat)]
        return m
