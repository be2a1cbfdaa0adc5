"""The streaming Argmax: a row of N elements as ceil(N / P) beats of P lanes, one index out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from shiftmax.golden.argmax import ARGMAX_OUTPUTS
from shiftmax.golden.fixedpoint import MAX_VALUE_BITS
from shiftmax.golden.params import check_choice, check_int
from shiftmax.units import ARGMAX

from .argmax_tree import ArgmaxTree
from .flow import check_flow_control
from .formal import FormalBuild, add_buffered_fifo, formal_build
from .framing import (
    RowFramer,
    StreamingUnit,
    absorbed_beats,
    beats_per_row,
    delay_stages,
    output_fifo_invariants,
    row_ends,
    stall_body,
    streaming_input_layout,
    valid_delay,
)
from .pipeline import (
    ceil_log2,
    check_pipeline_params,
    fit,
    is_greater,
    register,
    tree_latency,
    wire,
)

__all__ = ["StreamingArgmax"]

#: Parameter defaults, as the registry declares them.
_DEFAULTS = ARGMAX.defaults()


def _check_streaming_common(n: int, lanes_per_beat, flow_control, mask, *,
                            forms: tuple[str, ...] = ("enable",)) -> tuple[int, str, bool]:
    """``lanes_per_beat`` (1 .. n - 1), ``flow_control`` (one of ``forms``) and ``mask`` of a
    streaming unit."""
    if lanes_per_beat is None:
        raise ValueError(f"lanes_per_beat must be given (1 to n - 1 = {n - 1}) for the "
                         f"streaming form, not None")
    p = check_int("lanes_per_beat", lanes_per_beat, 1, n - 1)
    flow_control = check_flow_control(flow_control, forms)
    if not isinstance(mask, bool):
        raise TypeError(f"mask must be True or False, not {mask!r}")
    return p, flow_control, mask


@dataclass(frozen=True)
class _Beat:
    """A stage of the pass as the formal build sees it: the beat's flags and number, and its
    data: the framer's ``lanes``, or a later stage's ``maximum`` and ``lane``."""

    valid: Value
    first: Value
    last: Value
    malformed: Value
    present: Value
    number: Value
    lanes: Value | None = None
    maximum: Value | None = None
    lane: Value | None = None


class StreamingArgmax(StreamingUnit, wiring.Component):
    """argmax of rows that stream in as beats of P lanes; one beat (the index) out per row.

    Bit-exact with ``shiftmax.golden.argmax(x, output=..., mask=...)`` on the row the
    contract's framing forms (``streaming.md``): the lowest index wins among equal maxima;
    a masked element (or one an early ``tlast`` left out) ranks below every present one, so
    a row with no present element gives index 0.

    Architecture (one pass, one beat per clock, rows back to back):

    1. :class:`~shiftmax.hw.framing.RowFramer`: beat counter, ``tlast`` framing, the absent
       lanes (mask, lanes past N) replaced by the lowest key in its register. Without a mask
       the key is the lane itself and absent lanes take ``-2**VB``: they come after every
       present element of the row, so on a tie the present element, lower in index, wins.
       With a mask the key is one bit wider and absent lanes take ``-2**(VB+1)``, below every
       input.
    2. :class:`ArgmaxTree` over the P lanes of the beat (pipelined by ``register_every``),
       then, with ``stage_registers``, a register.
    3. The running best (key, beat number, lane), loaded through its clock enable when the
       beat is the row's first or its maximum is strictly greater (beats come in increasing
       index order, so ties keep the lowest index). With ``stage_registers`` the compare looks
       ahead: a beat is compared, one stage before it reaches the best, with the best and
       with the beat ahead of it (which is the best next cycle if it is loaded), and the
       loop is one multiplexer between the two registered results.
    4. A cycle after the row's last beat the best is final: ``index = beat * P + lane`` (a
       one-hot decoder for ``output="onehot"``) is registered as the result.

    Flow control: ``"enable"``: the whole pass runs under one clock enable
    ``ce = o.ready | ~o.valid``; it freezes while a result waits, and ``i.ready`` falls with
    it. ``"fifo"`` (the default): the pass runs freely and its results (index and flag; a
    one-hot result is decoded from the FIFO's output register) go into an output FIFO with a
    credit per entry; a beat is taken only while a credit is left, so ``o.ready`` reaches
    only the FIFO and the credit counter.

    Number format: input lane ``j`` of beat ``b`` is element ``b*P + j``, two's complement,
    ``value_bits + 1`` bits. Output ``data``: the index, unsigned, ``max(1, ceil(log2 n))``
    bits, or one-hot, ``n`` bits.

    Parameters
    ----------
    n : int
        Elements per row, at least 2.
    value_bits : int
        Magnitude bits per element, sign not counted (1 to 31).
    lanes_per_beat : int
        ``P``, 1 to ``n - 1`` (``n`` is the one-beat unit, :class:`~shiftmax.hw.Argmax`).
    output : {"index", "onehot"}
        Form of the result (default ``"index"``).
    register_every : int
        A pipeline register after every K levels of the beat's tree (default 2).
    stage_registers : bool
        A register between the beat's tree and the running best (default True).
    lanes_per_cycle : None
        The folded one-beat form's parameter; only None (the beat is already narrow).
    flow_control : {"enable", "fifo"} or None
        See above; None (the default) is ``"fifo"``, the registry's ``DEFAULT_FLOW_CONTROL``.
    mask : bool
        A per-lane mask input (default False).

    Members
    -------
    i : In(stream.Signature(StructLayout(data=ArrayLayout(signed(VB+1), P), [mask=P,] last=1)))
    o : Out(stream.Signature(StructLayout(data=index_bits or n, last=1, user=1)))
        ``last`` is 1 on every beat; ``user`` flags a malformed row or one with no present
        element.

    Latency
    -------
    ``3 + (ceil(log2 P) - 1) // register_every + 2 * stage_registers
    + 2 * (flow_control == "fifo")`` (the tree term is 0 when ``register_every`` is 0 or
    ``P <= 2``): edges from the handshake of a row's last input beat to the handshake of its
    output beat, ``o.ready`` high.

    Raises
    ------
    TypeError, ValueError
        For a parameter of the wrong type or out of range, naming it and the value.
    """

    unit_name = "argmax"

    def __init__(self, *, n: int, value_bits: int, lanes_per_beat: int,
                 output: str = _DEFAULTS["output"],
                 register_every: int = _DEFAULTS["register_every"],
                 stage_registers: bool = _DEFAULTS["stage_registers"],
                 lanes_per_cycle: int | None = None, flow_control: str | None = None,
                 mask: bool = _DEFAULTS["mask"]) -> None:
        self._n = check_int("n", n, 2)
        self._value_bits = check_int("value_bits", value_bits, 1, MAX_VALUE_BITS)
        self._p, self._flow_control, self._mask = _check_streaming_common(
            self._n, lanes_per_beat, flow_control, mask, forms=("enable", "fifo"))
        if lanes_per_cycle is not None:
            raise ValueError(f"lanes_per_cycle folds the one-beat-per-row Argmax; with "
                             f"lanes_per_beat={self._p} it must be None, "
                             f"not {lanes_per_cycle!r}")
        self._output = check_choice("output", output, ARGMAX_OUTPUTS)
        self._register_every, self._stage_registers = check_pipeline_params(
            register_every, stage_registers)
        self._beats = beats_per_row(self._n, self._p)
        in_layout = streaming_input_layout(lanes_per_beat=self._p, value_bits=self._value_bits,
                                           mask=self._mask)
        out_width = self._n if self._output == "onehot" else self.index_bits
        out_layout = data.StructLayout({"data": unsigned(out_width), "last": unsigned(1),
                                        "user": unsigned(1)})
        super().__init__({"i": In(stream.Signature(in_layout)),
                          "o": Out(stream.Signature(out_layout))})

    @property
    def output(self) -> str:
        return self._output

    @property
    def index_bits(self) -> int:
        return max(1, ceil_log2(self._n))

    @property
    def memory_bits(self) -> int:
        """Bits of the ``"fifo"`` form's output FIFO, the index and the flag of each entry
        (0 for ``"enable"``)."""
        if self._flow_control != "fifo":
            return 0
        return self._fifo_depth * (self.index_bits + 1)

    @property
    def _key_bits(self) -> int:
        """Bits of a lane's key: the lane, one more with a mask (room below every input)."""
        return self._value_bits + 1 + int(self._mask)

    @property
    def _tree_latency(self) -> int:
        return tree_latency(self._p, self._register_every)

    @property
    def latency(self) -> int:
        return self._pass_latency + 2 * int(self._flow_control == "fifo")

    @property
    def params(self) -> dict[str, Any]:
        return {"n": self._n, "value_bits": self._value_bits, "output": self._output,
                "register_every": self._register_every,
                "stage_registers": self._stage_registers, "lanes_per_cycle": None,
                "flow_control": self._flow_control, "lanes_per_beat": self._p,
                "mask": self._mask}

    @property
    def _fifo_depth(self) -> int:
        """Entries (and credits) of the ``"fifo"`` form's output FIFO: every row from the
        framer's emission of its last beat to its result's departure, rows back to back, and
        one credit held back for the row end not yet counted."""
        return -(-(self._pass_latency + 4) // self._beats) + 3

    @property
    def _pass_latency(self) -> int:
        """Edges from a row's last beat taken to its result in the output register."""
        return 3 + self._tree_latency + 2 * int(self._stage_registers)

    def elaborate(self, platform) -> Module:
        m = Module()
        fifo = self._flow_control == "fifo"
        # Free-running with fifo (the framer takes a beat only while there is a credit).
        body, space = stall_body(m, self.o, fifo)
        p, key_bits = self._p, self._key_bits

        # 1. Framing; absent lanes take the lowest key in the framer's register.
        body.submodules.framer = framer = RowFramer(
            n=self._n, lanes_per_beat=p, value_bits=self._value_bits, mask=self._mask,
            fill=False, width=key_bits, absent_value=-(1 << (key_bits - 1)))
        if fifo:
            m.d.comb += [framer.i.payload.eq(self.i.payload),
                         framer.i.valid.eq(self.i.valid & space),
                         self.i.ready.eq(framer.i.ready & space), framer.space.eq(1)]
        else:
            wiring.connect(body, wiring.flipped(self.i), framer.i)
            body.d.comb += framer.space.eq(space)

        # 2. The beat's tree; the beat's flags travel beside it (the valid bit with a reset).
        body.submodules.tree = tree = ArgmaxTree(n=p, value_bits=key_bits - 1,
                                                 register_every=self._register_every)
        body.d.comb += tree.values.eq(framer.lanes)
        number_bits = max(1, ceil_log2(self._beats))
        number = Signal(number_bits, name="number")  # beat number of the framer's beat
        with body.If(framer.valid):
            body.d.sync += number.eq(Mux(framer.last, 0, number + 1))
        present = ~framer.absent.all() if self._mask else Const(1, 1)
        cycles = tree.latency + int(self._stage_registers)
        # The valid and last bits of every stage after the framer's (the rows in flight).
        valids: list[Value] = []
        valid = valid_delay(body, framer.valid, cycles, name="beat_valid", stages=valids)
        delayed = {name: delay_stages(body, f, cycles, name=name) for f, name in (
            (framer.first, "first"), (framer.last, "last"),
            (framer.malformed, "malformed"), (present, "present"), (number, "number"))}
        first, last, malformed, present, number = (stages[-1] for stages in delayed.values())
        lasts = delayed["last"][1:]
        maximum, lane = tree.maximum, tree.index
        if self._stage_registers:
            maximum, lane = register(body, maximum, name="beat_max"), register(body, lane)
        # The beat's stages, oldest last, as the formal build sees them: the framer's lanes,
        # then (a tree without registers) its maximum and lane at each later stage.
        beats = [_Beat(framer.valid, *(stages[0] for stages in delayed.values()),
                       lanes=framer.lanes)]
        if cycles:
            beats.append(_Beat(valid, first, last, malformed, present, number,
                               maximum=maximum, lane=lane))

        # 3. The running best (key, beat number, lane), loaded through its clock enable.
        best = Signal(maximum.shape(), name="best", reset_less=True)
        best_lane = Signal(len(lane), name="best_lane", reset_less=True)
        best_number = Signal(number_bits, name="best_number", reset_less=True)
        if self._stage_registers:
            # Look-ahead: the beat is compared a cycle early with both values the best can
            # hold when it arrives (the best as it is, and the beat ahead of it, which
            # replaces the best if it wins), so the loop is one multiplexer between two
            # registered compares; the compares' carry chains leave it.
            beat_max = Signal(maximum.shape(), name="next_max", reset_less=True)
            # Flags of a valid beat, with a reset: a stale 1 after a reset would load a best
            # that no beat carried.
            over_best, over_beat = Signal(name="over_best"), Signal(name="over_beat")
            body.d.sync += [over_best.eq(valid & (first | is_greater(maximum, best))),
                            over_beat.eq(valid & (first | is_greater(maximum, beat_max)))]
            body.d.sync += beat_max.eq(maximum)
            valid, first, last, malformed, present, number, lane = (
                [valid_delay(body, valid, 1, name="ahead_valid", stages=valids)]
                + [register(body, f, name=name) for f, name in (
                    (first, "ahead_first"), (last, "ahead_last"),
                    (malformed, "ahead_malformed"), (present, "ahead_present"),
                    (number, "ahead_number"), (lane, "ahead_lane"))])
            lasts.append(last)
            maximum = beat_max
            beats.append(_Beat(valid, first, last, malformed, present, number,
                               maximum=maximum, lane=lane))
            took = Signal(name="took")  # the best was loaded in the last cycle
            load = wire(body, Mux(took, over_beat, over_best), name="load")
            body.d.sync += took.eq(load)
        else:
            load = wire(body, valid & (first | is_greater(maximum, best)), name="load")
        any_present = Signal(name="any_present", reset_less=True)
        row_present = wire(body, present | (any_present & ~first), name="row_present")
        with body.If(valid):
            body.d.sync += any_present.eq(row_present)
        with body.If(load):
            body.d.sync += [best.eq(maximum), best_lane.eq(lane), best_number.eq(number)]
        # On the row's last beat the best is final a cycle later, in its registers.
        final_valid = Signal(name="final_valid")
        final_user = Signal(name="final_user", reset_less=True)
        body.d.sync += final_valid.eq(valid & last)
        with body.If(valid & last):
            body.d.sync += final_user.eq(malformed | ~row_present)

        # 4. The index (or its one-hot decoding), registered as the output beat.
        index = wire(body, fit(best_number * p + best_lane, self.index_bits), name="index")
        onehot = self._output == "onehot"
        out_data = Signal(self.index_bits if fifo else len(self.o.payload.data),
                          name="out_data", reset_less=True)
        out_user = Signal(name="out_user", reset_less=True)
        result = (Const(1, self._n) << index)[:self._n] if onehot and not fifo else index
        body.d.sync += [out_data.eq(result), out_user.eq(final_user)]
        out_valid = Signal(name="out_valid")
        body.d.sync += out_valid.eq(final_valid)
        # Rows past the framer: row ends in the pass, the final best, the output register.
        passing = row_ends(zip(valids, lasts, strict=True)) + final_valid + out_valid
        formal = formal_build(platform)
        if formal is not None and tree.latency == 0:
            # Rows ahead of the final best: the output register and (fifo) the FIFO's.
            ahead = Signal(range(self._fifo_depth + 2), name="formal_rows_ahead")
            self._formal_pass(formal, body, framer, beats, ahead + final_valid,
                              best=(best, best_number, best_lane, any_present), load=load)
        else:
            ahead = None
        final = (final_valid, self._payload(index, final_user))
        if not fifo:
            m.d.comb += [self.o.valid.eq(out_valid), self.o.payload.data.eq(out_data),
                         self.o.payload.last.eq(1), self.o.payload.user.eq(out_user)]
            if formal is not None:
                if ahead is not None:
                    m.d.comb += ahead.eq(out_valid)
                slots = [(Const(0), out_valid, Cat(out_data, Const(1, 1), out_user)),
                         (out_valid, *final)]
                formal.hold(m, framer.rows_held + passing, [], slots)
            return m
        self._output_fifo(m, out_data, out_user, out_valid, framer, space, passing, platform,
                          final=final, ahead=ahead)
        return m

    def _payload(self, index: Value, user: Value) -> Value:
        """The output payload (data, last, user) of a result, ``index`` as the FIFO holds it."""
        data_ = (Const(1, self._n) << index)[:self._n] if self._output == "onehot" else index
        return Cat(data_, Const(1, 1), user)

    def _formal_pass(self, formal: FormalBuild, m: Module, framer: RowFramer,
                     beats: list[_Beat],
                     base: Value, *, best: tuple[Value, Value, Value, Value],
                     load: Value) -> None:
        """The formal build's statements about the pass (a beat's tree without registers):
        what each stage holds of the tracked row, and the beat numbers along the pass.

        ``beats``: the stages a beat passes, the framer's first; ``base``: the rows held
        ahead of the running best (the final best, the output register, the FIFO's). The
        running best (``best``: key, beat number, lane, and whether a present element was
        seen) is the argmax of the beats of its row absorbed so far; each stage that holds a
        beat of the tracked row holds what that beat gives (the framer: its keys; a later
        stage: its maximum and lane), and the tracked row is well formed (the miter's
        assumption: its beats are not malformed, its last is beat R - 1). Along the pass the
        beat numbers follow one another (a row's beats in order, the next row from beat 0)
        up to the framer's next beat, and the running best is loaded exactly when its stage's
        beat is a row's first or greater (the look-ahead compare of ``stage_registers``).
        """
        p, r = self._p, self._beats
        key_bits = self._key_bits
        absent_key = Const(-(1 << (key_bits - 1)), signed(key_bits))
        row, row_mask = formal.row, formal.row_mask

        def element(e: int) -> tuple[Value, Value]:
            """Element ``e``'s key and absent bit in the recorded row."""
            if e >= self._n:
                return absent_key, Const(1, 1)
            gone = row_mask[e] if self._mask else Const(0, 1)
            return Mux(gone, absent_key, row[e]), gone

        def argmax(elements: list[tuple[int, int]]) -> tuple[Value, Value, Value, Value]:
            """The maximum key of the recorded ``(beat, lane)`` elements, its beat and lane
            (the first on a tie) and whether one is present."""
            key, gone = element(elements[0][0] * p + elements[0][1])
            beat, lane, present = Const(elements[0][0]), Const(elements[0][1]), ~gone
            for b, j in elements[1:]:
                value, absent = element(b * p + j)
                greater = value > key
                key, beat, lane = (Mux(greater, value, key), Mux(greater, b, beat),
                                   Mux(greater, j, lane))
                present = present | ~absent
            return key, beat, lane, present

        absorbed, absorbed_last = absorbed_beats(
            formal, m, framer, [(beat.valid, beat.number, beat.first, beat.last) for beat in beats])
        invariants = []
        position = base
        for beat in reversed(beats):
            number = beat.number
            holds = [~beat.malformed, beat.last == (number == r - 1)]
            for b in range(r):
                key, _, lane, present = argmax([(b, j) for j in range(p)])
                if beat.lanes is not None:
                    keys = [element(b * p + j)[0] for j in range(p)]
                    same = Cat(*(beat.lanes[j] == keys[j] for j in range(p))).all()
                else:
                    same = (beat.maximum == key) & (beat.lane == lane)
                holds.append((number != b) | (same & (beat.present == present)))
            formal.partial(m, position, [~beat.valid | hold for hold in holds])
            position = position + (beat.valid & beat.last)
        if len(beats) > 1:  # the look-ahead compare
            stage = beats[-1]
            invariants.append(load == (stage.valid & (stage.first | (stage.maximum > best[0]))))
        # The running best of an open row: the argmax of its beats absorbed so far.
        key, number, lane, present = best
        holds = []
        for a in range(r - 1):
            want = argmax([(b, j) for b in range(a + 1) for j in range(p)])
            holds.append((absorbed != a) | ((key == want[0]) & (number == want[1])
                                            & (lane == want[2]) & (present == want[3])))
        formal.partial(m, base, [absorbed_last | hold for hold in holds])
        formal.check(m, invariants)

    def _output_fifo(self, m: Module, out_data: Value, out_user: Value, out_valid: Value,
                     framer: RowFramer, credit: Signal, passing: Value, platform, *,
                     final: tuple[Value, Value], ahead: Signal | None) -> None:
        """The ``"fifo"`` form's output: a FIFO of results (the index and the flag; a one-hot
        result is decoded from the FIFO's output register) with a credit per entry.

        A credit is taken when the framer emits a row's last beat and returned when a result
        leaves at ``o``. The framer's emission is counted a cycle late, so a beat is taken
        only while two credits are left: the framer holds one beat, so at most one uncounted
        row end is ever in flight. The handshakes only select between flags computed from
        the counter. In a formal build (``passing``: the rows past the framer, not yet in
        the FIFO) it states the credit invariant, see :func:`output_fifo_invariants`.
        """
        depth = self._fifo_depth
        out_fifo = SyncFIFOBuffered(width=len(out_data) + 1, depth=depth)
        registers = add_buffered_fifo(m, "output_fifo", out_fifo, platform)
        count = Signal(range(depth + 1), name="credits", init=depth)
        leaves = Signal(name="leaves")
        ends = Signal(name="row_ends")
        index, user = out_fifo.r_data[:-1], out_fifo.r_data[-1]
        result = (Const(1, self._n) << index)[:self._n] if self._output == "onehot" else index
        m.d.comb += [out_fifo.w_en.eq(out_valid), out_fifo.w_data.eq(Cat(out_data, out_user)),
                     self.o.valid.eq(out_fifo.r_rdy), self.o.payload.data.eq(result),
                     self.o.payload.last.eq(1), self.o.payload.user.eq(user),
                     out_fifo.r_en.eq(self.o.ready), leaves.eq(self.o.valid & self.o.ready),
                     ends.eq(framer.valid & framer.last)]
        with m.If(leaves & ~ends):
            m.d.sync += [count.eq(count + 1), credit.eq(count >= 1)]
        with m.Elif(ends & ~leaves):
            m.d.sync += [count.eq(count - 1), credit.eq(count >= 3)]
        formal = formal_build(platform)
        if formal is not None:
            level = out_fifo.level
            if ahead is not None:
                m.d.comb += ahead.eq(level + out_valid)

            def payload(word: Value) -> Value:
                return self._payload(word[:-1], word[-1])

            slots = [(Const(0), out_fifo.r_rdy, payload(out_fifo.r_data))]
            # The output register holds the oldest result; the inner FIFO's words follow it.
            slots += [(out_fifo.r_rdy + k, registers.inner_level > k, payload(registers.word(k)))
                      for k in range(out_fifo.depth - 1)]
            slots += [(level, out_valid, payload(Cat(out_data, out_user))),
                      (level + out_valid, *final)]
            output_fifo_invariants(formal, m, registers, framer=framer, passing=passing,
                                   count=count, credit=credit, slots=slots)
